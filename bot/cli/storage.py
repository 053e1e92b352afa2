"""`safeguard db upgrade`, `safeguard log verify` and `safeguard log export`: the store from a shell."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import utc_now
from bot.examples import EXAMPLE_SCHOOL
from bot.cases.lifecycle import parse_reference
from bot.cases.log_export import export_log, refuse_outsider, school_chain
from dialogs.validation import Invalid
from routing.school import Person, School
from routing.trust import Trust, choose_school, load_deployment
from bot.cli.keyring import keyring_for, sqlite_file
from routing.yamlfields import InputError
from storage.crypto import Keyring, keys_from_env
from storage.db import DEFAULT_URL, create_engine, database_url, sessionmaker
from storage.export import FORMATS, check_format
from storage.log import VerifyResult, verify
from storage.migrate import current, head, upgrade
from storage.sealed import check_keys

EXIT_FINDINGS = 1
SUPPORTED = ("sqlite+aiosqlite", "postgresql+asyncpg")
T = TypeVar("T")


def register(cli: click.Group) -> None:
    """Add the `db` and `log` command groups to the `safeguard` command."""
    cli.add_command(db)
    cli.add_command(log)


def database_option(command: Callable[..., None]) -> Callable[..., None]:
    return click.option(
        "--database-url", envvar="DATABASE_URL", default=DEFAULT_URL, show_default=True, metavar="URL",
        help="sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB (or set DATABASE_URL).",
    )(command)


@click.group()
def db() -> None:
    """The report database."""


@db.command(name="upgrade")
@database_option
def db_upgrade(database_url: str) -> None:
    """Create or migrate the database's tables; safe to run at every start."""
    shown = shown_url(database_url)
    run_on_database(shown, upgrade(database_url))
    click.echo(f"{shown}: at revision {head()}")


@click.group()
def log() -> None:
    """The tamper-evident event log."""


@log.command(name="verify")
@database_option
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False), envvar="SAFEGUARD_CONFIG",
              help="The school or trust config (YAML); needed with --school.")
@click.option("--school", "school_id", metavar="ID", help="Check only this school of the trust (its code, e.g. bpa).")
def log_verify(database_url: str, config: Path | None, school_id: str | None) -> None:
    """Re-check every event's hash chain and every report's digest; exit 1 at the first problem.

    In a trust each school's records are a chain of their own: --school checks one school's,
    without it every school's is checked. Needs the encryption key (SAFEGUARD_ENCRYPTION_KEY, or
    the demo key file beside a SQLite database): the digests are of what people wrote, so the
    text is decrypted to check them.
    """
    school = _verified_school(config, school_id)
    shown = shown_url(database_url)
    _refuse_missing_file(database_url)
    keys = keyring_for(keys_from_env(os.environ), database_url).keyring
    chain = school_chain(school) if school is not None else None

    async def check(session: AsyncSession) -> VerifyResult:
        return await verify(session, chain)

    result = run_on_database(shown, _with_session(database_url, check, keys=keys))
    if not result.ok:
        click.echo(result.problem)
        sys.exit(EXIT_FINDINGS)
    whose = f" of {school.name} ({school.key})" if school is not None else ""
    # Erased under retention is not tampering: the log records each erasure, and what it left.
    erased = f"; {result.erased} report(s) erased under retention" if result.erased else ""
    click.echo(f"ok: {result.checked} events{whose} verified{erased}")


def _verified_school(config: Path | None, school_id: str | None) -> School | None:
    """The school whose chain alone is checked; None to check every chain (no --school)."""
    if school_id is None:
        return None
    if config is None:
        raise InputError("--school picks one school of a trust: give --config TRUST.yaml with it")
    deployment = load_deployment(config)
    school = choose_school(deployment, school_id)
    return None if deployment.alone else school


@log.command(name="export")
@database_option
@click.option("--as", "person_id", metavar="PERSON_ID",
              help="The person on whose authority you export (an id from the school config); the log records it.")
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False), envvar="SAFEGUARD_CONFIG",
              default=EXAMPLE_SCHOOL, show_default="SAFEGUARD_CONFIG, else the example school",
              help="The school or trust config (YAML): who holds which role.")
@click.option("--school", "school_id", metavar="ID", help="In a trust: the school whose records you export (its code).")
@click.option("--format", "fmt", default="csv", show_default=True, metavar="|".join(FORMATS), help="Output format.")
@click.option("--report", "report_text", metavar="REF", help="Only this report's events, e.g. SG-2026-0042.")
@click.option("--since", metavar="DATE", help="Only events from this date (UTC) or ISO 8601 time on.")
def log_export(
    database_url: str, person_id: str | None, config: Path, school_id: str | None, fmt: str,
    report_text: str | None, since: str | None,
) -> None:
    """Print the log (seq, at, actor, kind, report, data, hash) as CSV or JSON Lines.

    The whole log needs the authority of the DSL (and leaves out reports about them); one
    report's events, of someone it was sent to. In a trust, --school names the school whose
    records (a chain of their own) are exported, on the authority of that school's DSL. A
    refusal exits 2; both are logged. It needs no encryption key: the log holds digests of
    what people wrote, never the words.
    """
    chosen = check_format(fmt)
    start = _since(since) if since is not None else None
    report_ref = reference(report_text) if report_text is not None else None
    deployment = load_deployment(config)
    school = choose_school(deployment, school_id)
    person, home = authority(deployment, school, config, person_id)

    async def write(sessions: async_sessionmaker[AsyncSession]) -> None:
        if home is not None:
            await refuse_outsider(sessions, school, person, home, now=utc_now())
        await export_log(sessions, school, person=person, fmt=chosen, report_ref=report_ref, since=start,
                         now=utc_now(), write=lambda line: click.echo(line, nl=False))

    run_on_database(shown_url(database_url), with_database(database_url, write, keys=None))


def authority(deployment: Trust, school: School, config: Path, person_id: str | None) -> tuple[Person, School | None]:
    """The person named with --as, and their own school when it is another of the trust (None: this school's).

    An InputError if nobody is named or nobody of that id is in the config.
    """
    if person_id is None or not person_id.strip():
        raise InputError("--as PERSON_ID: name the person on whose authority you export (the DSL for the whole "
                         "log; for one report, someone it was sent to); the log records who it was")
    person = school.person(person_id)
    if person is not None:
        return person, None
    for home in deployment.schools_of(person_id):
        # Someone of another school of the trust: refused (and logged) once the database is open.
        outsider = home.person(person_id)
        if outsider is not None:
            return outsider, home
    known = ", ".join(p.id for p in school.everyone)
    raise InputError(f"--as {person_id}: nobody has that id in {config}; the people there are: {known}")


def reference(text: str, *, option: str = "--report") -> str:
    """A report reference as typed; an InputError saying what one looks like."""
    parsed = parse_reference(text)
    if isinstance(parsed, Invalid):
        raise InputError(f"{option}: {parsed.reason}")
    return parsed


def _since(value: str) -> date | datetime:
    try:
        return date.fromisoformat(value)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(
            f"--since {value!r}: not a date; use YYYY-MM-DD or an ISO 8601 time such as 2026-11-20T09:00:00Z"
        ) from None
    # The log keeps UTC, so a time without a zone is read as UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def _with_session(url: str, work: Callable[[AsyncSession], Awaitable[T]], *, keys: Keyring | None) -> T:
    """Run `work` in one session of a database that is set up (see `with_database`)."""
    async def in_one_session(sessions: async_sessionmaker[AsyncSession]) -> T:
        async with sessions() as session:
            return await work(session)

    return await with_database(url, in_one_session, keys=keys)


async def with_database(url: str, work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]], *,
                        keys: Keyring | None) -> T:
    """Run `work` after checking the database is set up, at this code's revision, and opened by `keys`."""
    _refuse_missing_file(url)
    revision = await current(url)
    if revision != head():
        found = "has no Safeguard tables" if revision is None else f"is at revision {revision}, not {head()}"
        raise InputError(f"{shown_url(url)} {found}; run `safeguard db upgrade` first")
    engine = create_engine(url, keys=keys)
    try:
        sessions = sessionmaker(engine)
        if keys is not None:
            async with sessions() as session:
                await check_keys(session)
        return await work(sessions)
    finally:
        await engine.dispose()


def _refuse_missing_file(url: str) -> None:
    """An InputError for a SQLite file that is not there."""
    # Opening a SQLite path that does not exist would quietly create an empty database.
    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise InputError(f"{path}: no such database file; check --database-url or DATABASE_URL")


def run_on_database(shown: str, work: Coroutine[Any, Any, T]) -> T:
    """Run `work`, turning a database that cannot be reached into one InputError line."""
    try:
        return asyncio.run(work)
    except (OSError, DBAPIError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise InputError(f"cannot use the database at {shown}: {reason}") from None


def shown_url(url: str) -> str:
    """The URL as it may be printed (no password); an InputError if Safeguard cannot use it."""
    usable = "use sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB"
    try:
        parsed = database_url(url)
    except ArgumentError:
        # Not echoed: a URL that does not parse may still hold a password.
        raise InputError(f"--database-url: not a database URL; {usable}") from None
    shown = parsed.render_as_string(hide_password=True)
    if parsed.drivername not in SUPPORTED:
        raise InputError(f"--database-url {shown}: Safeguard speaks only aiosqlite and asyncpg; {usable}")
    return shown
