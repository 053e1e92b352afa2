"""`safeguard report export`: one report, whole, as a PDF, CSV or JSON file to hand on to the case file."""

from __future__ import annotations

import os
from pathlib import Path

import click
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App, utc_now
from bot.cases.log_export import refuse_outsider
from bot.cases.report_export import FORMATS, Exported, export_report
from bot.cases.report_export import check_format as check_report_format
from bot.cli.keyring import keyring_for
from bot.cli.storage import authority, database_option, reference, run_on_database, shown_url, with_database
from bot.examples import EXAMPLE_SCHOOL
from routing.school import School
from routing.trust import Trust, choose_school, load_deployment
from routing.yamlfields import InputError
from storage.chains import chain_of
from storage.crypto import keys_from_env


@click.group()
def report() -> None:
    """One report at a time."""


@report.command(name="export")
@click.argument("reference_text", metavar="REF")
@click.option("--as", "person_id", metavar="PERSON_ID",
              help="The person on whose authority you export (an id from the school config); the log records it.")
@click.option("--format", "fmt", default="pdf", show_default=True, metavar="|".join(FORMATS), help="Output format.")
@click.option("--out", "out", type=click.Path(path_type=Path, dir_okay=False), metavar="PATH",
              help="Where to write it (default: REF.FORMAT here); an existing file is never overwritten.")
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False), envvar="SAFEGUARD_CONFIG",
              default=EXAMPLE_SCHOOL, show_default="SAFEGUARD_CONFIG, else the example school",
              help="The school or trust config (YAML): who holds which role.")
@click.option("--school", "school_id", metavar="ID",
              help="In a trust: the report's school (its code); by default the one its reference names.")
@database_option
def report_export(reference_text: str, person_id: str | None, fmt: str, out: Path | None, config: Path,
                  school_id: str | None, database_url: str) -> None:
    """Write one report's whole chronology, routing, decision and reason to a file, marked OFFICIAL-SENSITIVE.

    Only someone the report was sent to (and who it is not about) may export it; a refusal exits
    2 and is logged. Every export is recorded in the log before the file is written. Needs the
    encryption key (SAFEGUARD_ENCRYPTION_KEY, or the demo key file beside a SQLite database).
    """
    chosen = check_report_format(fmt)
    ref = reference(reference_text, option="REF")
    target = out if out is not None else Path.cwd() / f"{ref}.{chosen}"
    if target.exists():
        raise InputError(f"{target}: already exists; Safeguard never overwrites a file: give another --out")
    if not target.parent.is_dir():
        raise InputError(f"{target.parent}: no such folder; give --out a path in a folder that exists")
    deployment = load_deployment(config)
    school = _school(deployment, school_id, ref)
    person, home = authority(deployment, school, config, person_id)
    keys = keyring_for(keys_from_env(os.environ), database_url).keyring

    async def made(sessions: async_sessionmaker[AsyncSession]) -> Exported:
        if home is not None:
            await refuse_outsider(sessions, school, person, home, now=utc_now())
        app = App(school, sessions, deployment=deployment)
        done = await export_report(app, person, ref, chosen)
        if not isinstance(done, Exported):
            raise InputError(f"--as {person.id}: their authority does not cover {ref}: it was not sent to them "
                             "(or it is about them); name someone it was sent to")
        return done

    exported = run_on_database(shown_url(database_url), with_database(database_url, made, keys=keys))
    _write_new(target, exported.data)
    click.echo(f"{target}: {ref} as {chosen}, recorded in the log as event {exported.event_seq}", err=True)


def _school(deployment: Trust, school_id: str | None, ref: str) -> School:
    """The report's school: the one --school names (it must be the reference's), else the one the reference names."""
    code = chain_of(ref)
    if deployment.alone or school_id is not None:
        school = choose_school(deployment, school_id)
        if not deployment.alone and code != (school.id or ""):
            raise InputError(f"{ref}: that is not a report of {school.name}; its reference names school "
                             f"{code.upper() or 'none'}")
        return school
    if not code:
        raise InputError(f"{ref}: a reference of a trust's school names it, like SG-BPA-2026-0042")
    return choose_school(deployment, code, option=f"{ref}: school")


def _write_new(target: Path, data: bytes) -> None:
    """Write `data` to a new file readable by its owner alone; never over a file already there."""
    try:
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InputError(f"{target}: already exists; Safeguard never overwrites a file: give another --out") from None
    except OSError as exc:
        raise InputError(f"{target}: cannot be written ({exc.strerror or exc})") from None
    with os.fdopen(descriptor, "wb") as opened:
        opened.write(data)
