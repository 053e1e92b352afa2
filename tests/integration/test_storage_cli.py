"""`safeguard db upgrade`, `log verify` and `log export`, run as a person would run them."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cli.storage import register
from routing.yamlfields import InputError
from storage.db import create_engine, sessionmaker
from storage.log import entries, verify
from storage.migrate import head, upgrade
from storage.models import Event
from tests.builders import TEST_KEY, TEST_KEYS, write_yaml
from tests.integration.helpers import SCHOOL, minutes, new_report, six_events, unguarded

ROOT = Path(__file__).resolve().parents[2]


@click.group()
def safeguard() -> None:
    """A stand-in for bot.cli.main's group, with the storage commands registered on it."""


register(safeguard)


async def run(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run a storage command with this run's test key (and `env`), as an admin with the key set would."""
    # The commands call asyncio.run, so they run on a thread of their own, away from the tests' loop.
    env = {"SAFEGUARD_ENCRYPTION_KEY": TEST_KEY, **(env or {})}
    return await asyncio.to_thread(CliRunner().invoke, safeguard, list(args), env=env)


async def seed(url: str) -> None:
    engine = create_engine(url, keys=TEST_KEYS)
    try:
        await six_events(sessionmaker(engine))
    finally:
        await engine.dispose()


def people_of_six_events(tmp_path: Path) -> Path:
    """A school config naming the people of `six_events`: SG-2026-0001 went to head1, told dsl1, chair1 not reached."""
    return write_yaml(tmp_path / "school.yaml", {
        "school": SCHOOL, "policy": "st-leonards", "timezone": "Europe/London",
        "people": [
            {"id": "head1", "name": "Test Head", "roles": ["headteacher"]},
            {"id": "dsl1", "name": "Test DSL", "roles": ["dsl"]},
            {"id": "chair1", "name": "Test Chair", "roles": ["chair_of_governors"]},
            {"id": "staff1", "name": "Test Teacher", "roles": []},
        ],
    })


def kinds(output: str) -> list[tuple[int, str]]:
    """(seq, kind) of each event in a JSON Lines export."""
    return [(record["seq"], record["kind"]) for record in map(json.loads, output.splitlines())]


async def test_upgrade_then_verify_and_export(database_url: str, tmp_path: Path) -> None:
    url = ["--database-url", database_url]
    upgraded = await run("db", "upgrade", *url)
    assert upgraded.exit_code == 0, upgraded.output
    assert upgraded.output.endswith(f": at revision {head()}\n")
    assert (await run("db", "upgrade", *url)).exit_code == 0
    empty = await run("log", "verify", *url)
    assert (empty.exit_code, empty.output) == (0, "ok: 0 events verified\n")
    await seed(database_url)
    verified = await run("log", "verify", *url)
    assert (verified.exit_code, verified.output) == (0, "ok: 6 events verified\n")
    dsl = ["--as", "dsl1", "--config", str(people_of_six_events(tmp_path)), *url]
    exported = await run("log", "export", "--format", "csv", *dsl)
    rows = list(csv.DictReader(io.StringIO(exported.output)))
    # SG-2026-0002 was never routed, so nobody may view it, and no export shows it: not even the DSL's.
    assert exported.exit_code == 0 and [r["kind"] for r in rows] == ["created", "routed", "acknowledged", "viewed"]
    # The export is in the log, after the events it exported, and the chain still holds.
    assert (await run("log", "verify", *url)).output == "ok: 7 events verified\n"
    by_head = await run("log", "export", "--format", "jsonl", "--report", " sg-2026-0001", *dsl[2:], "--as", "head1")
    assert (by_head.exit_code, kinds(by_head.output)) == (0, [(1, "created"), (2, "routed"), (4, "acknowledged"), (6, "viewed")])
    one = await run("log", "export", "--format", "jsonl", "--report", "SG-2026-0002", *dsl)
    assert one.output == "" and str(one.exception).startswith("--as dsl1: their authority does not cover SG-2026-0002")
    # Exports made since are in the log too, and so in a later export of it (they are stamped now).
    later = await run("log", "export", "--format", "jsonl", "--since", "2026-11-20T09:18:00Z", *dsl)
    assert [seq for seq, kind in kinds(later.output) if kind != "exported"] == [6]
    naive_time = await run("log", "export", "--format", "jsonl", "--since", "2026-11-20T09:18:00", *dsl)
    assert [r for r in kinds(naive_time.output) if r[1] != "exported"] == [r for r in kinds(later.output) if r[1] != "exported"]
    none = await run("log", "export", "--since", "2099-01-01", *dsl)
    assert none.output == "seq,at,actor,kind,report,data,hash\n"
    everything = [json.loads(line) for line in (await run("log", "export", "--format", "jsonl", *dsl)).output.splitlines()]
    assert [(e["seq"], e["actor"], e["report"], e["data"]) for e in everything if e["kind"] == "exported"] == [
        (7, "dsl1", None, {"scope": "all", "format": "csv", "count": 4, "through": 6}),
        (8, "head1", "SG-2026-0001", {"scope": "SG-2026-0001", "format": "jsonl", "count": 4, "through": 7}),
        # 9 is the refused export of SG-2026-0002, logged under that report and so left out too.
        # How many events since 09:18 depends on the wall clock that stamped the exports: what was printed.
        (10, "dsl1", None, {"scope": "all", "format": "jsonl", "count": len(kinds(later.output)), "through": 9,
                            "since": "2026-11-20T09:18:00.000000Z"}),
        (11, "dsl1", None, {"scope": "all", "format": "jsonl", "count": len(kinds(naive_time.output)), "through": 10,
                            "since": "2026-11-20T09:18:00.000000Z"}),
        (12, "dsl1", None, {"scope": "all", "format": "csv", "count": 0, "through": 11, "since": "2099-01-01"}),
    ]
    assert 9 not in [e["seq"] for e in everything]
    assert len(everything) == 9 and (await run("log", "verify", *url)).output == "ok: 13 events verified\n"


@pytest.mark.parametrize(("who", "message", "report"), [
    (["--as", "staff1"], "--as staff1: only the Designated safeguarding lead (DSL) may export the whole log", None),
    (["--as", "head1"], "--as head1: only the Designated safeguarding lead (DSL) may export the whole log", None),
    (["--as", "chair1", "--report", "SG-2026-0001"],
     "--as chair1: their authority does not cover SG-2026-0001: it was not sent to them", "SG-2026-0001"),
    (["--as", "staff1", "--report", "SG-2026-0001"],
     "--as staff1: their authority does not cover SG-2026-0001: it was not sent to them", "SG-2026-0001"),
    # The same words for a report that does not exist, so that nobody can probe for one.
    (["--as", "head1", "--report", "SG-2026-0404"],
     "--as head1: their authority does not cover SG-2026-0404: it was not sent to them", "SG-2026-0404"),
], ids=["teacher", "headteacher", "rung-not-reached", "reporter", "no-such-report"])
async def test_an_export_beyond_the_named_persons_authority_is_refused_and_logged(
    engine: AsyncEngine, database_url: str, tmp_path: Path, who: list[str], message: str, report: str | None
) -> None:
    await six_events(sessionmaker(engine))
    config = ["--config", str(people_of_six_events(tmp_path)), "--database-url", database_url]
    result = await run("log", "export", *who, *config)
    assert isinstance(result.exception, InputError) and str(result.exception).startswith(message)
    assert result.output == "", "nothing is exported"
    async with sessionmaker(engine)() as session:
        refused = [(e.actor, e.report, e.data) async for e in entries(session) if e.kind == "refused"]
        assert refused == [(who[1], report, {"action": "export"})]
        assert (await verify(session)).ok


@pytest.mark.parametrize(("who", "message"), [
    ([], "--as PERSON_ID: name the person on whose authority you export"),
    (["--as", "  "], "--as PERSON_ID: name the person on whose authority you export"),
    (["--as", "nobody1"], "--as nobody1: nobody has that id in "),
    (["--as", "dsl1", "--report", "42"], "--report: '42' is not a report reference; they look like SG-2026-0042."),
])
async def test_an_export_names_someone_in_the_config(
    engine: AsyncEngine, database_url: str, tmp_path: Path, who: list[str], message: str
) -> None:
    await six_events(sessionmaker(engine))
    result = await run("log", "export", *who, "--config", str(people_of_six_events(tmp_path)),
                       "--database-url", database_url)
    assert isinstance(result.exception, InputError) and message in str(result.exception)
    async with sessionmaker(engine)() as session:
        assert [e.kind async for e in entries(session)][6:] == [], "an unnamed or unknown person is not logged"


async def test_the_dsls_export_of_the_whole_log_leaves_out_reports_about_them(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    sessions = sessionmaker(engine)
    await six_events(sessions)
    async with sessions.begin() as session:
        about = await new_report(session, now=minutes(5), details={"what": "A made-up concern about the DSL"})
        about.subject, about.subject_person = "dsl", "dsl1"
        await session.flush()
    config = ["--config", str(people_of_six_events(tmp_path)), "--database-url", database_url, "--format", "jsonl"]
    mine = await run("log", "export", "--as", "dsl1", *config)
    assert mine.exit_code == 0 and "SG-2026-0003" not in mine.output
    assert [seq for seq, _ in kinds(mine.output)] == [1, 2, 4, 6]  # SG-2026-0002, never routed, is nobody's to see
    refused = await run("log", "export", "--as", "dsl1", "--report", "SG-2026-0003", *config)
    assert str(refused.exception).startswith("--as dsl1: their authority does not cover SG-2026-0003")


async def test_a_read_only_sqlite_copy_verifies_but_is_not_exported_unrecorded(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("read-only opening is a SQLite file's")
    await six_events(sessionmaker(engine))
    read_only = f"sqlite+aiosqlite:///file:{database_url.split('///', 1)[1]}?mode=ro&uri=true"
    verified = await run("log", "verify", "--database-url", read_only)
    assert (verified.exit_code, verified.output) == (0, "ok: 6 events verified\n")
    exported = await run("log", "export", "--as", "dsl1", "--config", str(people_of_six_events(tmp_path)),
                         "--database-url", read_only)
    assert exported.output == "" and isinstance(exported.exception, InputError)
    assert str(exported.exception) == ("the export could not be recorded in the log (attempt to write a readonly "
                                       "database), so nothing was exported")


async def test_the_database_url_comes_from_the_environment(database_url: str) -> None:
    assert (await run("db", "upgrade", env={"DATABASE_URL": database_url})).exit_code == 0
    result = await run("log", "verify", env={"DATABASE_URL": database_url})
    assert (result.exit_code, result.output) == (0, "ok: 0 events verified\n")


async def test_verify_prints_the_problem_and_exits_1(engine: AsyncEngine, database_url: str) -> None:
    await six_events(sessionmaker(engine))
    await unguarded(engine, update(Event).where(Event.seq == 4).values(actor="dsl1"))
    result = await run("log", "verify", "--database-url", database_url)
    assert (result.exit_code, result.output) == (1, "event 4 (acknowledged, SG-2026-0001) was edited: its hash does not match\n")


@pytest.mark.parametrize(("args", "message"), [
    (["log", "export", "--since", "20/11/2026"], "--since '20/11/2026': not a date"),
    (["log", "export", "--format", "xml"], "unknown export format 'xml'; allowed: csv, jsonl"),
])
async def test_bad_options_are_input_errors(engine: AsyncEngine, database_url: str, args: list[str], message: str) -> None:
    result = await run(*args, "--database-url", database_url)
    assert isinstance(result.exception, InputError)
    assert message in str(result.exception)


async def test_a_database_not_yet_upgraded_is_an_input_error(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        Path(database_url.split("///", 1)[1]).touch()
    result = await run("log", "verify", "--database-url", database_url)
    assert isinstance(result.exception, InputError)
    assert "has no Safeguard tables; run `safeguard db upgrade` first" in str(result.exception)


@pytest.mark.parametrize(("url", "message"), [
    ("sqlite+aiosqlite:///{tmp}/missing.db", "missing.db: no such database file"),
    ("postgresql+asyncpg://someone:secret@127.0.0.1:1/none", "cannot use the database at postgresql+asyncpg://someone:***@127.0.0.1:1/none"),
    ("mysql://someone@db.invalid/x", "Safeguard speaks only aiosqlite and asyncpg"),
    ("not a url", "--database-url: not a database URL"),
], ids=["missing-file", "unreachable", "unsupported", "unparsable"])
async def test_a_database_that_cannot_be_used_is_an_input_error(tmp_path: Path, url: str, message: str) -> None:
    result = await run("log", "verify", "--database-url", url.format(tmp=tmp_path))
    assert isinstance(result.exception, InputError)
    assert message in str(result.exception)
    assert "secret" not in str(result.exception)
    assert not (tmp_path / "missing.db").exists()


def test_the_safeguard_command_turns_bad_input_into_exit_2(tmp_path: Path) -> None:
    # What the lead's registration in bot/cli/main.py will give: one line on stderr, exit 2.
    script = "from bot.cli.main import cli, main; from bot.cli.storage import register; register(cli); main()"
    command = [sys.executable, "-c", script, "log", "verify", "--database-url", f"sqlite+aiosqlite:///{tmp_path}/none.db"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=ROOT,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == f"safeguard: error: {tmp_path}/none.db: no such database file; check --database-url or DATABASE_URL\n"


def test_a_refused_export_is_one_line_on_stderr_and_exit_2(tmp_path: Path) -> None:
    database = tmp_path / "safeguard.db"
    asyncio.run(upgrade(f"sqlite+aiosqlite:///{database}"))
    script = "from bot.cli.main import main; main()"
    command = [sys.executable, "-c", script, "log", "export", "--as", "cfinch",
               "--database-url", f"sqlite+aiosqlite:///{database}"]  # the example school's class teacher
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=ROOT, check=False,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == ("safeguard: error: --as cfinch: only the Designated safeguarding lead (DSL) may export the "
                           "whole log; name them, or export one report with --report REF on the authority of someone "
                           "it was sent to\n")
