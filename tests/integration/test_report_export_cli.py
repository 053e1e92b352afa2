"""`safeguard report export`: a report made and worked at the console, handed on whole as a PDF, CSV or JSON file."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from pypdf import PdfReader
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.cli.main import cli
from bot.examples import EXAMPLE_SCHOOL, EXAMPLE_TRUST
from routing.school import load_school
from routing.yamlfields import InputError
from storage.db import sessionmaker
from storage.log import Entry, entries, events_for, verify
from storage.models import Event
from storage.reports import get_report
from storage.retention import erase
from tests.builders import TEST_KEY, Clock, write_yaml
from tests.integration.console import Terminal, console_app
from tests.integration.trust_helpers import two_schools

ROOT = Path(__file__).resolve().parents[2]
# A Friday in June: British Summer Time, so a time in the school's zone is an hour on from UTC.
SUMMER = datetime(2026, 6, 19, 8, 15, tzinfo=UTC)
DSL_NAME = "Siân Łukasiewicz"
LEO = ["Pupil disclosure", "No", "The child is the victim", "Leo Marsh", "Skip",
       "He said a man he met in a game sent him a made-up link", "No", "In class", "Yes", "No", "Send"]
AVA = ["Pupil disclosure", "No", "The child is the victim", "Ava Stone", "Year 5",
       "She said an older boy keeps messaging her (made-up words)", "No", "In class", "No", "No", "Send"]
ABOUT_RIYA = ["Concern about a colleague", "Riya Patel", "Made-up messages to a pupil", "No", "No", "No", "Send"]
NOTE = "Spoke to Leo's mother by phone; she will keep the made-up messages."
ACTION = "Blocked the made-up game's chat on the school network."
REASON = "The police are investigating the made-up account; early help offered to the family."


def school_config(tmp_path: Path) -> Path:
    """The example school, its DSL renamed so that the PDF must print letters beyond ASCII."""
    data = yaml.safe_load(EXAMPLE_SCHOOL.read_text(encoding="utf-8"))
    for person in data["people"]:
        if person["id"] == "smorgan":
            person["name"] = DSL_NAME
    return write_yaml(tmp_path / "school.yaml", data)


async def worked_reports(sessions: async_sessionmaker[AsyncSession], config: Path) -> None:
    """SG-2026-0001 (Leo: the DSL's, the headteacher told) worked to its close; SG-2026-0002 (Ava: the DSL's
    alone); SG-2026-0003 (about Riya Patel: the headteacher's)."""
    clock = Clock(SUMMER)
    app = console_app(sessions, clock, school=load_school(config))
    teacher = Terminal(app, "cfinch")
    await teacher.open()
    for lines in (LEO, AVA, ABOUT_RIYA):
        for line in lines:
            await teacher.type(line)
        clock.advance(minutes=3)
    dsl = Terminal(app, "smorgan")
    await dsl.open()
    for line in ("/ack SG-2026-0001", f"/note SG-2026-0001 {NOTE}", f"/action SG-2026-0001 {ACTION}",
                 f"/close SG-2026-0001 police {REASON}"):
        clock.advance(minutes=4)
        said = await dsl.type(line)
        assert not said[0].startswith("!"), said


async def export(*args: str) -> Result:
    """`safeguard report export ...` with this run's key, on a thread of its own (the command runs its own loop)."""
    return await asyncio.to_thread(CliRunner().invoke, cli, ["report", "export", *args],
                                   env={"SAFEGUARD_ENCRYPTION_KEY": TEST_KEY})


async def report_events(engine: AsyncEngine, reference: str) -> list[Entry]:
    async with sessionmaker(engine)() as session:
        return await events_for(session, reference)


def pdf_text(path: Path) -> tuple[int, str]:
    reader = PdfReader(path)
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    """Text with every run of white space one space: a wrapped line reads on."""
    return " ".join(text.split())


async def test_the_pdf_holds_the_whole_report_for_someone_it_was_sent_to(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], database_url: str, tmp_path: Path
) -> None:
    config = school_config(tmp_path)
    await worked_reports(sessions, config)
    out = tmp_path / "leo.pdf"
    # The headteacher was told of Leo's report, so may hand it on; Ava's was not sent to him.
    done = await export("SG-2026-0001", "--as", "jellis", "--format", "pdf", "--out", str(out),
                        "--config", str(config), "--database-url", database_url)
    assert done.exit_code == 0, done.output
    pages, text = pdf_text(out)
    words = flat(text)
    for expected in ("SG-2026-0001", "Oakfield Lower School", "A pupil disclosed online abuse", "Leo Marsh", NOTE, ACTION,
                     "Reported to the police", REASON, DSL_NAME, "Europe/London", "Jordan Ellis"):
        assert expected in words, expected
    assert text.count("OFFICIAL-SENSITIVE") >= 2 * pages, "marked at the head and the foot of every page"
    assert f"Page 1 of {pages}" in text and f"Page {pages} of {pages}" in text
    assert "Fri 19 Jun 2026, 09:15:00 BST" in words, "reported at 08:15 UTC: 09:15 in the school's summer time"
    assert "Ava Stone" not in text and "older boy" not in text, "nothing of a report its reader may not see"
    events = await report_events(engine, "SG-2026-0001")
    exported = events[-1]
    assert (exported.kind, exported.actor) == ("exported", "jellis")
    assert exported.data == {"scope": "SG-2026-0001", "format": "pdf", "count": len(events) - 1,
                             "through": exported.data["through"]}
    last = events[-2]
    assert last.seq <= exported.data["through"] < exported.seq
    assert f"event {last.seq}, whose hash is: {last.hash}" in words
    assert f"recorded in the log as event {exported.seq}" in words
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    async with sessions() as session:
        assert (await verify(session)).ok


async def test_csv_and_json_hold_the_chronology_in_the_schools_time(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], database_url: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = school_config(tmp_path)
    await worked_reports(sessions, config)
    monkeypatch.chdir(tmp_path)
    base = ["--as", "smorgan", "--config", str(config), "--database-url", database_url]
    assert (await export("SG-2026-0001", "--format", "csv", *base)).exit_code == 0
    rows = list(csv.DictReader(io.StringIO((tmp_path / "SG-2026-0001.csv").read_text(encoding="utf-8"))))
    assert list(rows[0]) == ["seq", "time (Europe/London)", "what", "who", "details", "hash"]
    assert (rows[0]["what"], rows[0]["who"], rows[0]["time (Europe/London)"]) == (
        "Reported", "Chris Finch", "2026-06-19T09:15:00+01:00")
    by_what = {row["what"]: row for row in rows}
    assert by_what["Note"]["details"] == NOTE and by_what["Note"]["who"] == DSL_NAME
    assert by_what["Action taken"]["details"] == ACTION
    assert by_what["Closed"]["details"] == f"Reported to the police. Reason: {REASON}"
    assert "Designated safeguarding lead" in by_what["Routed"]["details"]

    assert (await export("SG-2026-0001", "--format", "json", *base)).exit_code == 0
    document = json.loads((tmp_path / "SG-2026-0001.json").read_text(encoding="utf-8"))
    assert (document["reference"], document["timezone"], document["marking"]) == (
        "SG-2026-0001", "Europe/London", "OFFICIAL-SENSITIVE")
    assert (document["decision"], document["reason"]) == ("Reported to the police", REASON)
    assert [e["what"] for e in document["entries"]][:2] == ["Reported", "Routed"]
    assert document["routing"]["owner"] == f"Designated safeguarding lead (DSL): {DSL_NAME}"
    events = await report_events(engine, "SG-2026-0001")
    # The JSON's entries run to the event before its own export (the CSV's export is among them).
    assert document["log"]["seq"] == events[-2].seq and document["log"]["hash"] == events[-2].hash
    assert [e["seq"] for e in document["entries"]] == [e.seq for e in events[:-1]]
    async with sessions() as session:
        assert (await verify(session)).ok


@pytest.mark.parametrize(("person", "reference"), [
    ("jellis", "SG-2026-0002"),  # the headteacher, for a report routed only to the DSL
    ("rpatel", "SG-2026-0003"),  # the person it is about
    ("cfinch", "SG-2026-0001"),  # its reporter follows its progress, but may not hand it on
    ("jellis", "SG-2026-0404"),  # no such report: the same answer, so nobody can probe for one
], ids=["not-sent-to-them", "about-them", "reporter", "no-such-report"])
async def test_someone_not_entitled_is_refused_and_it_is_logged(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], database_url: str, tmp_path: Path,
    person: str, reference: str,
) -> None:
    config = school_config(tmp_path)
    await worked_reports(sessions, config)
    out = tmp_path / "out.pdf"
    refused = await export(reference, "--as", person, "--out", str(out), "--config", str(config),
                           "--database-url", database_url)
    assert isinstance(refused.exception, InputError)
    assert str(refused.exception).startswith(f"--as {person}: their authority does not cover {reference}")
    assert not out.exists()
    events = await report_events(engine, reference)
    assert (events[-1].kind, events[-1].actor, events[-1].data) == ("refused", person, {"action": "export"})
    assert "exported" not in [e.kind for e in events]


async def test_bad_input_changes_nothing(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], database_url: str, tmp_path: Path
) -> None:
    config = school_config(tmp_path)
    await worked_reports(sessions, config)
    async with sessions() as session:
        before = [e async for e in entries(session)]
    folder = tmp_path / "out"
    folder.mkdir()
    existing = folder / "kept.pdf"
    existing.write_bytes(b"someone else's file")
    base = ["--as", "smorgan", "--config", str(config), "--database-url", database_url]
    for args, message in (
        (["SG-2026-0001", "--out", str(existing)], f"{existing}: already exists"),
        (["SG-2026-0001", "--format", "docx", "--out", str(folder / "a.docx")], "--format 'docx': a report exports as"),
        (["42", "--out", str(folder / "b.pdf")], "REF: '42' is not a report reference"),
        (["SG-2026-0001", "--out", str(folder / "none" / "c.pdf")], "no such folder"),
    ):
        result = await export(*args, *base)
        assert isinstance(result.exception, InputError) and message in str(result.exception), result.exception
    assert existing.read_bytes() == b"someone else's file"
    assert [p.name for p in folder.iterdir()] == ["kept.pdf"]
    async with sessions() as session:
        assert [e async for e in entries(session)] == before, "nothing logged, nothing changed"


def test_a_refused_export_is_one_line_on_stderr_and_exit_2(tmp_path: Path) -> None:
    database = tmp_path / "safeguard.db"
    from storage.migrate import upgrade

    asyncio.run(upgrade(f"sqlite+aiosqlite:///{database}"))
    command = [sys.executable, "-c", "from bot.cli.main import main; main()", "report", "export", "SG-2026-0001",
               "--as", "cfinch", "--database-url", f"sqlite+aiosqlite:///{database}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=tmp_path, check=False,
                          env={**os.environ, "PYTHONWARNINGS": "ignore", "SAFEGUARD_ENCRYPTION_KEY": TEST_KEY})
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == ("safeguard: error: --as cfinch: their authority does not cover SG-2026-0001: it was not "
                           "sent to them (or it is about them); name someone it was sent to\n")
    assert list(tmp_path.iterdir()) == [database]


async def test_exports_before_and_after_erasure_under_retention_show_what_they_should(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], database_url: str, tmp_path: Path
) -> None:
    config = school_config(tmp_path)
    await worked_reports(sessions, config)

    async def exported(name: str) -> tuple[str, dict[str, str]]:
        for fmt in ("pdf", "csv"):
            done = await export("SG-2026-0001", "--as", "smorgan", "--format", fmt,
                                "--out", str(tmp_path / f"{name}.{fmt}"), "--config", str(config),
                                "--database-url", database_url)
            assert done.exit_code == 0, done.output
        rows = list(csv.DictReader(io.StringIO((tmp_path / f"{name}.csv").read_text(encoding="utf-8"))))
        return flat(pdf_text(tmp_path / f"{name}.pdf")[1]), {row["what"]: row["details"] for row in rows}

    before, rows = await exported("before")
    assert NOTE in before and REASON in before and rows["Note"] == NOTE

    # Erased as the scheduler's retention round erases a report whose period is up.
    async with sessions.begin() as session:
        report = await get_report(session, "SG-2026-0001")
        assert report is not None
        assert await erase(session, now=datetime.now(UTC), report_id=report.id, rule="default: P6Y") is not None
    after, rows = await exported("after")
    assert NOTE not in after and REASON not in after
    assert rows["Note"] == "(no words kept)"
    assert "Words erased under retention" in after and "default: P6Y" in after
    assert "SG-2026-0001" in after and "Reported to the police" in after, "the skeleton stays: the decision too"
    async with sessionmaker(engine)() as session:
        result = await verify(session)
    assert result.ok and result.erased == 1, result.problem


async def test_in_a_trust_the_reference_names_the_school_and_its_own_chain(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], database_url: str, tmp_path: Path
) -> None:
    refs = await two_schools(sessions)
    first = refs["bpa"][0]
    trust = ["--config", str(EXAMPLE_TRUST), "--database-url", database_url]
    done = await export(first, "--as", "obrien", "--format", "json", "--out", str(tmp_path / "bpa.json"), *trust)
    assert done.exit_code == 0, done.output
    document = json.loads((tmp_path / "bpa.json").read_text(encoding="utf-8"))
    assert (document["school"], document["log"]["chain"]) == ("Bellevue Place Academy", "bpa")
    async with sessions() as session:
        events = [e async for e in entries(session, Event.chain == "bpa", Event.report_ref == first)]
    assert (document["log"]["seq"], document["log"]["hash"]) == (events[-2].seq, events[-2].hash)
    assert events[-1].kind == "exported" and events[-1].chain == "bpa"
    wrong = await export(first, "--as", "obrien", "--school", "oak", "--out", str(tmp_path / "x.pdf"), *trust)
    assert str(wrong.exception).startswith(f"{first}: that is not a report of Oakfield Lower School")
    # Another school's DSL: refused (and logged in that school's chain), nothing written.
    outsider = await export(refs["oak"][0], "--as", "obrien", "--out", str(tmp_path / "y.pdf"), *trust)
    assert str(outsider.exception).startswith("--as obrien: they work at Bellevue Place Academy, not at Oakfield")
    assert not (tmp_path / "x.pdf").exists() and not (tmp_path / "y.pdf").exists()
    async with sessions() as session:
        assert (await verify(session)).ok


async def test_an_export_that_cannot_be_recorded_is_not_made(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], database_url: str, tmp_path: Path
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("read-only opening is a SQLite file's")
    config = school_config(tmp_path)
    await worked_reports(sessions, config)
    read_only = f"sqlite+aiosqlite:///file:{database_url.split('///', 1)[1]}?mode=ro&uri=true"
    out = tmp_path / "never.pdf"
    result = await export("SG-2026-0001", "--as", "smorgan", "--out", str(out), "--config", str(config),
                          "--database-url", read_only)
    assert isinstance(result.exception, InputError)
    assert str(result.exception) == ("the export could not be recorded in the log (attempt to write a readonly "
                                     "database), so nothing was exported")
    assert not out.exists()
