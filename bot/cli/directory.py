"""`safeguard directory sync-slack`: fill in missing Slack ids from staff email addresses."""

from __future__ import annotations

import asyncio
import re
import sys
import tempfile
from pathlib import Path

import click

from routing.school import Person, load_school
from routing.yamlfields import InputError

EXIT_FINDINGS = 1


@click.group()
def directory() -> None:
    """The school's staff list."""


@directory.command(name="sync-slack")
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False, exists=True), required=True,
              help="The school config (YAML) to fill in.")
@click.option("--token", envvar="SLACK_BOT_TOKEN", default="", metavar="xoxb-...",
              help="The app's Bot User OAuth Token (or set SLACK_BOT_TOKEN).")
@click.option("--api-url", envvar="SLACK_API_URL", default=None, metavar="URL",
              help="Slack's Web API, for a proxy (or set SLACK_API_URL). Default: https://slack.com/api/")
@click.option("--dry-run", is_flag=True, help="Print the ids found; change nothing.")
def sync_slack(config: Path, token: str, api_url: str | None, dry_run: bool) -> None:
    """Look up each person with an email but no Slack id, and add the id to the config (comments kept).

    Exits 1 when someone is still without a Slack id (no email, or no Slack account for it).
    """
    # Imported here so that other commands need not load the Slack SDK.
    from bot.server import DEFAULT_SLACK_API_URL
    from bot.channels.slack.directory import DirectoryError, slack_ids

    if not token.startswith("xoxb-"):
        raise InputError("--token: give the app's Bot User OAuth Token (xoxb-...), or set SLACK_BOT_TOKEN")
    school = load_school(config)
    wanted = [p for p in school.people if p.slack is None and p.email is not None]
    try:
        found = asyncio.run(slack_ids(token, api_url or DEFAULT_SLACK_API_URL, [p.email for p in wanted if p.email is not None]))
    except DirectoryError as exc:
        raise InputError(str(exc)) from None
    ids: dict[str, str] = {}
    for person in wanted:
        slack_id = found.get(person.email or "")
        if slack_id is not None:
            ids[person.id] = slack_id
    for person in school.people:
        click.echo(f"{person.id}: {_status(person, found, ids)}")
    if ids and not dry_run:
        text = config.read_text(encoding="utf-8")
        updated = add_slack_ids(text, ids)
        if updated is not None and _still_valid(config, updated, ids):
            config.write_text(updated, encoding="utf-8")
            click.echo(f"{config}: added {len(ids)} Slack id(s)")
        else:
            click.echo(f"{config}: not changed (its layout is not one this command can edit safely); "
                       "add the ids above as `slack:` lines by hand")
    missing = [p for p in school.people if p.slack is None and p.id not in ids]
    if missing:
        sys.exit(EXIT_FINDINGS)


def add_slack_ids(text: str, ids: dict[str, str]) -> str | None:
    """The config's text with a `slack:` line under each person's `id:` line; None if one cannot be placed."""
    lines = text.splitlines(keepends=True)
    for person_id, slack_id in ids.items():
        entry = re.compile(rf"^(\s*-\s+)id:\s*(['\"]?){re.escape(person_id)}\2\s*(#.*)?$")
        at = [i for i, line in enumerate(lines) if entry.match(line.rstrip("\r\n"))]
        if len(at) != 1:
            return None
        match = entry.match(lines[at[0]].rstrip("\r\n"))
        assert match is not None
        newline = "\r\n" if lines[at[0]].endswith("\r\n") else "\n"
        lines.insert(at[0] + 1, " " * len(match.group(1)) + f"slack: {slack_id}{newline}")
    return "".join(lines)


def _still_valid(config: Path, text: str, ids: dict[str, str]) -> bool:
    """Whether the edited text loads, with exactly these ids added (written beside the config, then removed)."""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", dir=config.parent, encoding="utf-8", delete=False) as out:
        out.write(text)
    try:
        school = load_school(Path(out.name))
    except InputError:
        return False
    finally:
        Path(out.name).unlink()
    for person_id, slack_id in ids.items():
        person = school.person(person_id)
        if person is None or person.slack != slack_id:
            return False
    return True


def _status(person: Person, found: dict[str, str | None], ids: dict[str, str]) -> str:
    if person.slack is not None:
        return f"{person.slack} (already set)"
    if person.id in ids:
        return f"{ids[person.id]} (found by {person.email})"
    if person.email is None:
        return "no Slack id and no email to look it up by"
    return f"no Slack account uses {person.email}"
