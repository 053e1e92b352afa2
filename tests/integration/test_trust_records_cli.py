"""`safeguard log verify --school` and `log export --school --as` on a trust, run as its admin would run them."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cases.log_export import ExportRefused, export_log
from bot.examples import EXAMPLE_TRUST
from routing.trust import choose_school, load_deployment
from routing.yamlfields import InputError
from storage.db import sessionmaker
from storage.log import entries, verify
from storage.models import Event
from tests.builders import TEST_KEY
from tests.integration.helpers import minutes, six_events, unguarded
from tests.integration.test_storage_cli import ROOT, people_of_six_events, run
from tests.integration.trust_helpers import two_schools

TRUST = ["--config", str(EXAMPLE_TRUST)]


async def test_verify_checks_one_school_or_every_school(engine: AsyncEngine, database_url: str) -> None:
    refs = await two_schools(sessionmaker(engine))
    url = ["--database-url", database_url]
    bpa = await run("log", "verify", *url, *TRUST, "--school", "bpa")
    assert (bpa.exit_code, bpa.output) == (0, "ok: 7 events of Bellevue Place Academy (bpa) verified\n")
    everything = await run("log", "verify", *url, *TRUST)
    assert (everything.exit_code, everything.output) == (0, "ok: 9 events verified\n")
    await unguarded(engine, update(Event).where(Event.chain == "bpa", Event.seq == 5).values(actor="pshah"))
    edited = await run("log", "verify", *url, *TRUST, "--school", "bpa")
    assert (edited.exit_code, edited.output) == (
        1, f"school BPA's records: event 5 (acknowledged, {refs['bpa'][0]}) was edited: its hash does not match\n")
    oak = await run("log", "verify", *url, *TRUST, "--school", "OAK")
    assert (oak.exit_code, oak.output) == (0, "ok: 2 events of Oakfield Lower School (oak) verified\n")
    assert (await run("log", "verify", *url, *TRUST)).exit_code == 1


async def test_a_schools_dsl_exports_its_records_and_nothing_of_another_school(
    engine: AsyncEngine, database_url: str
) -> None:
    sessions = sessionmaker(engine)
    refs = await two_schools(sessions)
    result = await run("log", "export", "--database-url", database_url, *TRUST, "--school", "bpa",
                       "--as", "obrien", "--format", "jsonl")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [r["seq"] for r in records] == [1, 2, 3, 4, 5, 6, 7]
    assert {r["chain"] for r in records} == {"bpa"} and {r["report"] for r in records} == {*refs["bpa"], None}
    assert refs["oak"][0] not in result.output
    async with sessions() as session:
        exported = [(e.chain, e.seq, e.actor, e.data) async for e in entries(session) if e.kind == "exported"]
        assert exported == [("bpa", 8, "obrien", {"scope": "all", "format": "jsonl", "count": 7, "through": 7})]
        assert (await verify(session)).ok


async def test_a_dsl_of_another_school_is_refused_and_the_attempt_is_logged(
    engine: AsyncEngine, database_url: str
) -> None:
    sessions = sessionmaker(engine)
    refs = await two_schools(sessions)
    result = await run("log", "export", "--database-url", database_url, *TRUST, "--school", "bpa", "--as", "smorgan")
    assert isinstance(result.exception, InputError) and result.output == ""
    assert str(result.exception) == ("--as smorgan: they work at Oakfield Lower School, not at Bellevue Place Academy; a "
                                     "school's records are exported on the authority of its own DSL: name Bellevue "
                                     "Place Academy's")
    # Another school's report, asked for by this school's DSL (as `--report` passes it on).
    bpa = choose_school(load_deployment(EXAMPLE_TRUST), "bpa")
    dsl = bpa.person("obrien")
    assert dsl is not None
    with pytest.raises(ExportRefused) as other:
        await export_log(sessions, bpa, person=dsl, fmt="csv", report_ref=refs["oak"][0], since=None,
                         now=minutes(30), write=lambda line: pytest.fail(f"exported {line}"))
    assert str(other.value) == (f"--report {refs['oak'][0]}: that is not a report of Bellevue Place Academy; "
                                "export it with --school set to its own school")
    async with sessions() as session:
        refused = [(e.chain, e.actor, e.report) async for e in entries(session) if e.kind == "refused"]
        assert refused == [("bpa", "smorgan", None), ("bpa", "obrien", None)]
        assert (await verify(session)).ok


async def test_refusals_exit_2_with_one_line_from_the_installed_command(engine: AsyncEngine, database_url: str) -> None:
    await two_schools(sessionmaker(engine))
    env = {**os.environ, "SAFEGUARD_ENCRYPTION_KEY": TEST_KEY, "DATABASE_URL": database_url}
    safeguard = str(ROOT / ".venv" / "bin" / "safeguard")
    for args, message in (
        (["log", "export", *TRUST, "--school", "bpa", "--as", "smorgan"], "--as smorgan: they work at Oakfield Lower School"),
        (["log", "export", *TRUST, "--as", "obrien"], "is a trust of 3 schools: say which with --school"),
        (["log", "verify", *TRUST, "--school", "xyz"], "--school xyz: no such school in"),
        (["log", "verify", "--school", "bpa"], "--school picks one school of a trust: give --config TRUST.yaml"),
    ):
        done = await asyncio.to_thread(subprocess.run, [safeguard, *args], capture_output=True, text=True, env=env,
                                       timeout=120)
        assert done.returncode == 2 and done.stdout == "", (args, done.stderr)
        assert message in done.stderr and "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1


async def test_a_lone_school_config_verifies_and_exports_as_before(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    await six_events(sessionmaker(engine))
    lone = ["--config", str(people_of_six_events(tmp_path)), "--database-url", database_url]
    verified = await run("log", "verify", *lone)
    assert (verified.exit_code, verified.output) == (0, "ok: 6 events verified\n")
    exported = await run("log", "export", *lone, "--as", "dsl1", "--format", "jsonl")
    assert exported.exit_code == 0 and all("chain" not in json.loads(line) for line in exported.output.splitlines())
    wrong = await run("log", "verify", *lone, "--school", "bpa")
    assert "this config is one school (Test Primary School), not a trust" in str(wrong.exception)
