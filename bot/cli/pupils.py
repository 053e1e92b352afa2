"""`safeguard pupils import ROSTER.csv`: the school's pupils, so a report names the child it is about."""

from __future__ import annotations

import os
from pathlib import Path

import click
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import utc_now
from bot.cli.keyring import keyring_for
from bot.cli.roster import read_roster
from bot.cli.storage import database_option, run_on_database, shown_url, with_database
from bot.examples import EXAMPLE_SCHOOL
from routing.trust import choose_school, load_deployment
from routing.yamlfields import InputError
from storage.crypto import keys_from_env
from storage.pupils import Imported, import_roster


@click.group()
def pupils() -> None:
    """The school's pupil roster (names are encrypted at rest)."""


@pupils.command(name="import")
@click.argument("roster", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False), envvar="SAFEGUARD_CONFIG",
              default=EXAMPLE_SCHOOL, show_default="SAFEGUARD_CONFIG, else the example school",
              help="The school config (YAML): whose roster this is; or a trust's, with --school.")
@click.option("--school", "school_id", default=None, metavar="ID", help="In a trust: whose roster this is.")
@database_option
def import_command(roster: Path, config: Path, school_id: str | None, database_url: str) -> None:
    """Add or update pupils from a CSV export of the school's MIS: an id, a name, a year group or class.

    Pupils are matched by id, so importing again updates them; a pupil no longer in the file
    leaves the roster but stays linked to their reports. A bad file changes nothing. Prints
    counts only. Encrypts with SAFEGUARD_ENCRYPTION_KEY (or the demo key beside a SQLite database).
    """
    school = choose_school(load_deployment(config), school_id)
    try:
        data = roster.read_bytes()
    except OSError as exc:
        raise InputError(f"{roster}: cannot read it ({exc.strerror or exc})") from None
    rows = read_roster(data, str(roster))
    shown = shown_url(database_url)
    keys = keyring_for(keys_from_env(os.environ), database_url).keyring

    async def save(sessions: async_sessionmaker[AsyncSession]) -> Imported:
        async with sessions.begin() as session:
            return await import_roster(session, now=utc_now(), school=school.key, rows=rows,
                                       chain=school.id or "")

    done = run_on_database(shown, with_database(database_url, save, keys=keys))
    click.echo(f"{roster.name}: {done.added} pupil(s) added, {done.updated} updated, {done.unchanged} unchanged"
               + (f"; {done.left} no longer on the roster (kept, still linked to their reports)" if done.left else "")
               + ".")
