"""`safeguard doctor`: the set-up check an IT admin runs before going live, and whenever something seems off."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from pathlib import Path

import click

from bot.app import utc_now
from bot.cli.storage import database_option
from bot.cli.checks.config import calendar_rows, load, policy_rows
from bot.cli.checks.database import database_rows
from bot.cli.checks.rows import Row, as_json, as_table, healthy, problem
from bot.cli.checks.slack import slack_rows

EXIT_PROBLEMS = 1


@click.command()
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False, exists=True), envvar="SAFEGUARD_CONFIG",
              required=True, help="The school or trust config (YAML) the server runs with (or set SAFEGUARD_CONFIG).")
@database_option
@click.option("--json", "as_json_output", is_flag=True, help="Print the checks as JSON, for monitoring.")
def doctor(config: Path, database_url: str, as_json_output: bool) -> None:
    """Check the set-up before going live: config, database, key, Slack, Teams, outbox, calendar.

    Reads the same settings as `safeguard serve` (SAFEGUARD_ENCRYPTION_KEY, DATABASE_URL,
    SLACK_*, MICROSOFT_APP_*). Prints one row per check, with how to fix each problem; exits 1
    if there is one. It names people by their id in the config only, and never shows a report.
    """
    rows = asyncio.run(_checks(config, database_url, os.environ, utc_now()))
    if as_json_output:
        click.echo(as_json(rows))
    else:
        click.echo(as_table(rows, width=shutil.get_terminal_size((100, 24)).columns), nl=False)
    if not healthy(rows):
        sys.exit(EXIT_PROBLEMS)


async def _checks(config: Path, database_url: str, env: Mapping[str, str], now: datetime) -> list[Row]:
    config_row, deployment = load(config)
    rows = [config_row]
    if deployment is not None:
        rows += _guarded("policy", lambda: policy_rows(deployment))
    rows += await _guarded_async("database", database_rows(database_url, env, now))
    rows += await _guarded_async("slack", slack_rows(env, deployment))
    # Imported here: botbuilder takes a while to load, and `safeguard route` should not wait for it.
    from bot.cli.checks.teams import teams_row

    rows += _guarded("teams", lambda: [teams_row(env, deployment)])
    if deployment is not None:
        rows += _guarded("calendar", lambda: calendar_rows(deployment, now))
    return rows


def _guarded(check: str, work: Callable[[], list[Row]]) -> list[Row]:
    """A check's rows; a check that fails unexpectedly is a problem row, never a traceback."""
    try:
        return work()
    except Exception as exc:  # noqa: BLE001 - every other check must still run
        return [_crashed(check, exc)]


async def _guarded_async(check: str, work: Awaitable[list[Row]]) -> list[Row]:
    try:
        return await work
    except Exception as exc:  # noqa: BLE001 - every other check must still run
        return [_crashed(check, exc)]


def _crashed(check: str, exc: Exception) -> Row:
    return problem(check, f"the check itself failed ({exc.__class__.__name__})",
                   "run `safeguard doctor` again; if it fails the same way, report it with this line")
