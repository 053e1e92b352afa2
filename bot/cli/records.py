"""`safeguard records`: what is due for erasure, legal holds, hand-offs, and subject access lists."""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import click
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import utc_now
from bot.cases import retention
from bot.cases.lifecycle import parse_reference
from bot.cli.keyring import keyring_for
from bot.cli.storage import database_option, run_on_database, shown_url, with_database
from bot.examples import EXAMPLE_SCHOOL
from dialogs.validation import Invalid
from routing.retention import Period, parse_period
from routing.school import Person, School
from routing.trust import choose_school, load_deployment
from routing.yamlfields import InputError
from storage.crypto import keys_from_env

T = TypeVar("T")
DAYS = re.compile(r"^(\d+)\s*([dwmy])$", re.IGNORECASE)
UNITS = {"d": "D", "w": "W", "m": "M", "y": "Y"}
# Always said, never counted: a figure must not single out a report its reader may not see.
NOT_LISTED = ("Not listed: any report about you, or sent to others and not to you (such as a concern about the "
              "headteacher that went to the chair of governors); those it went to answer for it.")


def _config(command: Callable[..., None]) -> Callable[..., None]:
    command = click.option("--school", "school_id", default=None, metavar="ID",
                           help="In a trust: the school, by its code (e.g. bpa).")(command)
    command = click.option("--config", type=click.Path(path_type=Path, dir_okay=False), envvar="SAFEGUARD_CONFIG",
                           default=EXAMPLE_SCHOOL, show_default="SAFEGUARD_CONFIG, else the example school",
                           help="The school or trust config (YAML): its retention rules and who holds which role.")(command)
    return database_option(command)


def _as(command: Callable[..., None]) -> Callable[..., None]:
    return click.option("--as", "person_id", required=True, metavar="PERSON_ID",
                        help="Who you are acting as (an id from the school config); the log records it.")(command)


@click.group()
def records() -> None:
    """How long reports are kept: what is due for erasure, legal holds, hand-offs, subject access."""


@records.command()
@_config
@click.option("--within", default="30d", show_default=True, metavar="PERIOD",
              help="How far ahead to look: 30d, 8w, 6m, 1y, or ISO 8601 (P90D).")
def due(config: Path, school_id: str | None, database_url: str, within: str) -> None:
    """List the closed reports whose words will be erased within PERIOD: references and categories only."""
    school = choose_school(load_deployment(config), school_id)
    period = _within(within)
    now = utc_now()

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[retention.Due]:
        return await retention.coming(sessions, school, now=now, until=period.after(now))

    found = _run(database_url, work)
    if not found:
        click.echo(f"Nothing is due for erasure within {within}.")
        return
    zone = ZoneInfo(school.timezone)
    click.echo("reference\tcategory\tclosed\tdue\trule\thold")
    for item in found:
        click.echo("\t".join((item.reference, item.category, _day(item.closed_at, zone), _day(item.due_at, zone),
                              item.rule.name, "held" if item.held else "")))


@records.command()
@click.argument("reference")
@_as
@click.option("--reason", required=True, help="Why it is held (an inquiry's request, a claim); stored encrypted.")
@_config
def hold(reference: str, person_id: str, reason: str, config: Path, school_id: str | None, database_url: str) -> None:
    """Place a legal hold on a report: nothing under hold is erased."""
    school, person, ref = _who(config, school_id, person_id, reference)
    _run(database_url, lambda s: retention.hold(s, school, person, ref, reason=reason, now=utc_now()))
    click.echo(f"{ref} is under a legal hold: it will not be erased until the hold is released.")


@records.command()
@click.argument("reference")
@_as
@_config
def release(reference: str, person_id: str, config: Path, school_id: str | None, database_url: str) -> None:
    """Lift the legal hold on a report; its retention rule applies again."""
    school, person, ref = _who(config, school_id, person_id, reference)
    _run(database_url, lambda s: retention.release(s, school, person, ref, now=utc_now()))
    click.echo(f"{ref}: the legal hold is released; it is erased when its retention period is up.")


@records.command(name="handed-on")
@click.argument("reference")
@_as
@click.option("--to", "to", required=True, help='Where it went, e.g. "child protection file"; stored encrypted.')
@_config
def handed_on(reference: str, person_id: str, to: str, config: Path, school_id: str | None, database_url: str) -> None:
    """Record that a report was handed on to a record kept elsewhere, which is then the record."""
    school, person, ref = _who(config, school_id, person_id, reference)
    _run(database_url, lambda s: retention.hand_on(s, school, person, ref, to=to, now=utc_now()))
    rule = school.retention.rule_for("", None, handed_on=True)
    click.echo(f"{ref} is recorded as handed on; its words here are erased {rule.period} after it is closed or "
               "handed on, whichever is later.")


@records.command()
@click.argument("subject_id", metavar="PERSON_ID")
@_as
@_config
def about(subject_id: str, person_id: str, config: Path, school_id: str | None, database_url: str) -> None:
    """List every report about a member of staff and every report they made (for a subject access request)."""
    school = choose_school(load_deployment(config), school_id)
    person = _person(school, person_id, config)
    listed = _run(database_url, lambda s: retention.about(s, school, person, subject_id.strip(), now=utc_now()))
    zone = ZoneInfo(school.timezone)
    for item in listed:
        click.echo("\t".join((item.reference, _day(item.created_at, zone), item.category, item.status,
                              item.decision or "", item.how)))
    if not listed:
        click.echo(f"No report you may see is about {subject_id} or was made by them.")
    click.echo(NOT_LISTED)


def _who(config: Path, school_id: str | None, person_id: str, reference: str) -> tuple[School, Person, str]:
    school = choose_school(load_deployment(config), school_id)
    parsed = parse_reference(reference)
    if isinstance(parsed, Invalid):
        raise InputError(parsed.reason)
    return school, _person(school, person_id, config), parsed


def _person(school: School, person_id: str, config: Path) -> Person:
    person = school.person(person_id.strip())
    if person is None:
        raise InputError(f"--as {person_id}: nobody has that id in {config}")
    return person


def _within(text: str) -> Period:
    short = DAYS.match(text.strip())
    try:
        return parse_period(f"P{short[1]}{UNITS[short[2].lower()]}" if short else text)
    except ValueError:
        raise InputError(f"--within {text!r}: not a period; use 30d, 8w, 6m, 1y, or ISO 8601 such as P90D") from None


def _day(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).date().isoformat()


def _run(url: str, work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    keys = keyring_for(keys_from_env(os.environ), url).keyring
    return run_on_database(shown_url(url), with_database(url, work, keys=keys))
