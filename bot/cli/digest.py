"""`safeguard digest`: print a week's digest, write its chart, or queue it for the governor lead (a trust's: its safeguarding lead)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import CONSOLE, SLACK, TEAMS, App, utc_now
from bot.digest import trust as trust_digest
from bot.digest.chart import chart_png
from bot.examples import EXAMPLE_SCHOOL
from bot.digest.weekly import IsoWeek, Queued, last_complete_week, parse_week, queue_week, recipients, render, weekly_figures
from bot.cli.storage import database_option, run_on_database, shown_url, with_database
from routing.school import School
from routing.trust import Trust, choose_school, load_deployment
from routing.yamlfields import InputError


@click.command()
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False), envvar="SAFEGUARD_CONFIG",
              default=EXAMPLE_SCHOOL, show_default="SAFEGUARD_CONFIG, else the example school",
              help="The school or trust config (YAML): its timezone, policy and people.")
@click.option("--school", "school_id", metavar="ID",
              help="In a trust: this school's digest (its code). Without it, a trust config gives the trust digest.")
@click.option("--week", "week_text", metavar="YYYY-Www",
              help="The ISO week, e.g. 2026-W47. Default: the last complete week at the school.")
@click.option("--send", is_flag=True, help="Queue the digest for the governor lead (the trust digest: the trust "
                                           "safeguarding lead); the running server sends it.")
@click.option("--chart", "chart_path", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE",
              help="Also write the chart to FILE (PNG): weekly counts, or the trust's schools compared.")
@database_option
def digest(config: Path, school_id: str | None, week_text: str | None, send: bool, chart_path: Path | None,
           database_url: str) -> None:
    """Print a week's digest: counts, times to acknowledge, escalations, what is open. No names."""
    deployment = load_deployment(config)
    if not deployment.alone and school_id is None:
        _trust(deployment, config, week_text, send, chart_path, database_url)
        return
    school = choose_school(deployment, school_id)
    week = _week(school.timezone, week_text, send)
    shown = shown_url(database_url)
    if send and not recipients(school):
        raise InputError(f"{config}: nobody holds governor_lead or chair_of_governors, so the digest has "
                         "nobody to go to; give someone one of those roles")
    channels = _server_channels() if send else (CONSOLE,)

    async def compute(sessions: async_sessionmaker[AsyncSession]) -> tuple[str, bytes | None, list[Queued]]:
        app = App(school, sessions, channels=channels)
        figures = await weekly_figures(app, week)
        png = chart_png(figures) if chart_path is not None else None
        return render(app, figures), png, (await queue_week(app, week) if send else [])

    # A database that is not there (a typo in the URL) is an error, never a new empty one whose
    # "Reports: 0" looks like a quiet week; nor is one that was never set up migrated from here.
    # No key: the digest is counts and references, and without one a query that reached for
    # what people wrote would fail rather than put it in front of a governor.
    text, png, queued = run_on_database(shown, with_database(database_url, compute, keys=None))
    _write_chart(chart_path, png)
    click.echo(text, nl=False)
    for line in _sent(school, queued):
        click.echo(line)


def _trust(deployment: Trust, config: Path, week_text: str | None, send: bool, chart_path: Path | None,
           database_url: str) -> None:
    """The trust digest: every school's week side by side, for the trust safeguarding lead."""
    week = _week(deployment.timezone, week_text, send)
    shown = shown_url(database_url)
    if send and not trust_digest.recipients(deployment):
        raise InputError(f"{config}: nobody among the trust's people holds {trust_digest.TRUST_LEAD}, so the trust "
                         "digest has nobody to go to; give someone that role")
    channels = _server_channels() if send else (CONSOLE,)

    async def compute(sessions: async_sessionmaker[AsyncSession]) -> tuple[str, bytes | None, list[Queued]]:
        now = utc_now()
        # Printed at the terminal as anyone may read it: reports only some may view are left out.
        figures = await trust_digest.trust_figures(deployment, sessions, week, reader=None, now=now)
        png = trust_digest.chart(figures) if chart_path is not None else None
        queued = (await trust_digest.queue_trust_week(deployment, sessions, week, channels=channels, now=now)
                  if send else [])
        return trust_digest.render_trust(figures), png, queued

    text, png, queued = run_on_database(shown, with_database(database_url, compute, keys=None))
    _write_chart(chart_path, png)
    click.echo(text, nl=False)
    for line in _sent_lines(queued, lambda role: "trust safeguarding lead", deployment.timezone):
        click.echo(line)


def _write_chart(chart_path: Path | None, png: bytes | None) -> None:
    if chart_path is not None and png is not None:
        try:
            chart_path.write_bytes(png)
        except OSError as exc:
            raise InputError(f"--chart {chart_path}: cannot write it ({exc.strerror or exc})") from None


def _week(timezone: str, text: str | None, send: bool) -> IsoWeek:
    """The week asked for, or the last complete one; a week not begun (or, to send, not over) is refused."""
    zone, now = ZoneInfo(timezone), utc_now()
    if text is None:
        return last_complete_week(now, zone)
    try:
        week = parse_week(text)
    except InputError as exc:
        raise InputError(f"--week {exc}") from None
    start, end = week.bounds(zone)
    if start > now:
        raise InputError(f"--week {week.label}: that week has not begun yet")
    if send and end > now:
        # Queued now, it would take the place of the whole week's digest (one per week and governor).
        raise InputError(f"--week {week.label}: that week is not over yet, and --send queues only a finished week")
    return week


def _server_channels() -> tuple[str, ...]:
    """The channels the server runs, in its order, so a digest is queued where the server delivers it."""
    from bot.server import Settings  # imported here, as `safeguard serve` does: it loads the chat SDKs

    settings = Settings.from_env(os.environ)
    return ((SLACK,) if settings.slack else ()) + (TEAMS, CONSOLE)


def _sent(school: School, queued: list[Queued]) -> list[str]:
    """What --send did, by role name only (the operator's terminal is no place for names either)."""
    return _sent_lines(queued, school.policy.role_name, school.timezone)


def _sent_lines(queued: list[Queued], role_name: Callable[[str], str], timezone: str) -> list[str]:
    lines = []
    for index, person in enumerate(queued, start=1):
        who = role_name(person.role)
        if len(queued) > 1:
            who += f" ({index} of {len(queued)})"
        if person.channel is None:
            lines.append(f"Not queued for the {who}: they cannot be reached on any channel the server runs.")
        elif person.new:
            lines.append(f"Queued for the {who} on {person.channel}.")
        elif person.queued_at is not None:
            at = person.queued_at.astimezone(ZoneInfo(timezone))
            lines.append(f"Already queued for the {who} on {person.channel} "
                         f"at {at:%H:%M} on {at:%a} {at.day} {at:%b %Y}.")
    return lines
