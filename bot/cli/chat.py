"""`safeguard chat`: the console channel, as one person of a school config."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import click

from bot.app import CONSOLE, App
from bot.channels.console import Console, run
from bot.examples import EXAMPLE_SCHOOL
from bot.cli.keyring import keyring_for
from bot.cases.lifecycle import route_unrouted
from bot.cli.storage import database_option, run_on_database, shown_url
from dialogs.reachable import reachable
from routing.check import check_school, grouped
from routing.school import Person, School
from routing.trust import Trust, load_deployment
from routing.yamlfields import InputError
from storage.crypto import keys_from_env
from storage.sealed_reporters import relay_from_env
from storage.db import create_engine, sessionmaker
from storage.migrate import upgrade
from storage.rotation import unlock

# How often a waiting console looks for new alerts (a DSL's terminal "buzzes" within this).
POLL_SECONDS = 3.0


@click.command()
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False), default=EXAMPLE_SCHOOL,
              show_default="the example school",
              help="The school config (YAML): its policy and its people; or a trust's, with all its schools.")
@click.option("--as", "person_id", required=True, metavar="PERSON_ID", help="Who you are: a person id from the config.")
@click.option("--school", "school_id", default=None, metavar="ID",
              help="In a trust: the school you act for (one where you work). Without it, someone at two "
                   "schools is asked which a report is for.")
@database_option
def chat(config: Path, person_id: str, school_id: str | None, database_url: str) -> None:
    """Report a concern, see your alerts and acknowledge them, in this terminal.

    Encrypts with SAFEGUARD_ENCRYPTION_KEY; without it, with a key kept beside the SQLite database
    (written the first time, and said so), as `safeguard serve --demo` does.
    """
    deployment = load_deployment(config)
    school, person, pinned = _who(deployment, config, person_id, school_id)
    for line in grouped(check_school(school, reachable())):
        click.echo(f"safeguard: warning: {line}", err=True)
    shown = shown_url(database_url)
    found = keyring_for(keys_from_env(os.environ), database_url, create=True)
    if found.created:
        click.echo(found.notice(), err=True)
    relay = relay_from_env(os.environ, found.keyring)  # SAFEGUARD_RELAY_KEY: reports without a name

    async def session() -> None:
        await upgrade(database_url)  # the console migrates at start, as the server does
        engine = create_engine(database_url, keys=found.keyring)
        try:
            app = App(school, sessionmaker(engine), channels=(CONSOLE,), deployment=deployment, pinned=pinned,
                      relay=relay)
            sealed = await unlock(app.sessions, now=app.now())
            if sealed.encrypted:
                click.echo(f"safeguard: encrypted {sealed.encrypted} value(s) stored before encryption at rest", err=True)
            await route_unrouted(app)
            interactive = sys.stdin.isatty()
            console = Console(app, person, click.echo)
            await run(console, _reader(interactive), poll_seconds=POLL_SECONDS if interactive else 0)
        finally:
            await engine.dispose()

    run_on_database(shown, session())


def _who(deployment: Trust, config: Path, person_id: str, school_id: str | None) -> tuple[School, Person, bool]:
    """The school the console acts for, the person at it, and whether only that school is offered."""
    everyone = {p.id: p for s in deployment.schools for p in s.everyone}
    if person_id not in everyone:
        raise InputError(f"--as {person_id}: nobody has that id in {config}; the people there are: "
                         + ", ".join(everyone))
    if deployment.alone:
        if school_id is not None and school_id.lower() != deployment.schools[0].key.lower():
            raise InputError(f"--school {school_id}: {config} is one school ({deployment.name}), not a trust; "
                             "leave --school out")
        school = deployment.schools[0]
        return school, everyone[person_id], False
    trust_level = any(p.id == person_id for p in deployment.people)
    theirs = deployment.schools_of(person_id) or (deployment.schools if trust_level else ())
    if school_id is not None:
        chosen = deployment.school(school_id)
        if chosen is None or chosen not in theirs:
            where = ", ".join(f"{s.key} ({s.name})" for s in theirs)
            raise InputError(f"--school {school_id}: {everyone[person_id].name} ({person_id}) does not work at "
                             f"{'that school' if chosen is None else chosen.name}; their schools are {where}")
        found = chosen.person(person_id)
        assert found is not None
        return chosen, found, True
    school = theirs[0]
    found = school.person(person_id)
    assert found is not None
    return school, found, False


def _reader(interactive: bool) -> Callable[[], str]:
    def read_line() -> str:
        if interactive:
            try:
                return input("> ") + "\n"
            except EOFError:
                return ""
        return sys.stdin.readline()

    return read_line
