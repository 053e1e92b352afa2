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

from bot.storage_cli import register
from routing.yamlfields import InputError
from storage.db import create_engine, sessionmaker
from storage.migrate import head
from storage.models import Event
from tests.builders import TEST_KEY, TEST_KEYS
from tests.integration.helpers import six_events, unguarded

ROOT = Path(__file__).resolve().parents[2]


@click.group()
def safeguard() -> None:
    """A stand-in for bot.cli's group, with the storage commands registered on it."""


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


async def test_upgrade_then_verify_and_export(database_url: str) -> None:
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
    exported = await run("log", "export", "--format", "csv", *url)
    rows = list(csv.DictReader(io.StringIO(exported.output)))
    assert exported.exit_code == 0 and [r["kind"] for r in rows] == ["created", "routed", "created", "acknowledged", "note_added", "viewed"]
    one = await run("log", "export", "--format", "jsonl", "--report", "SG-2026-0002", *url)
    assert [json.loads(line)["seq"] for line in one.output.splitlines()] == [3, 5]
    later = await run("log", "export", "--format", "jsonl", "--since", "2026-11-20T09:18:00Z", *url)
    assert [json.loads(line)["seq"] for line in later.output.splitlines()] == [5, 6]
    naive_time = await run("log", "export", "--format", "jsonl", "--since", "2026-11-20T09:18:00", *url)
    assert naive_time.output == later.output  # a time without a zone is read as UTC, like the log
    none = await run("log", "export", "--since", "2026-11-21", *url)
    assert none.output == "seq,at,actor,kind,report,data,hash\n"


async def test_a_read_only_sqlite_copy_verifies_and_exports(engine: AsyncEngine, database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("read-only opening is a SQLite file's")
    await six_events(sessionmaker(engine))
    read_only = f"sqlite+aiosqlite:///file:{database_url.split('///', 1)[1]}?mode=ro&uri=true"
    verified = await run("log", "verify", "--database-url", read_only)
    assert (verified.exit_code, verified.output) == (0, "ok: 6 events verified\n")
    assert len((await run("log", "export", "--database-url", read_only)).output.splitlines()) == 7


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
    # What the lead's registration in bot/cli.py will give: one line on stderr, exit 2.
    script = "from bot.cli import cli, main; from bot.storage_cli import register; register(cli); main()"
    command = [sys.executable, "-c", script, "log", "verify", "--database-url", f"sqlite+aiosqlite:///{tmp_path}/none.db"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=ROOT,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == f"safeguard: error: {tmp_path}/none.db: no such database file; check --database-url or DATABASE_URL\n"
