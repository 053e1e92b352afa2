"""The pupil roster: imported as an admin runs it, named in reports at the console, and never leaked.

A disclosure names a child picked from the roster; a second report names her by typing her
name and year; the DSL's alert counts the earlier report and `/child` lists both. Afterwards no
pupil's name or id is in the event log, the digest, the server's log lines or the database file.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.digest.weekly import IsoWeek, render, weekly_figures
from bot.app import CONSOLE, App
from bot.examples import EXAMPLE_ROSTER, EXAMPLE_TRUST
from routing.trust import load_deployment
from storage.log import verify
from storage.models import Event, Pupil, ReportPupil
from tests.builders import TEST_KEY
from tests.integration.console import Clock, Terminal, console_app, text as printed_text

SCRIPT = Path(sys.executable).parent / "safeguard"
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-c", "from bot.cli.main import main; main()"]
HEADER = "UPN,Legal Forename,Legal Surname,Year Group\n"
NAMES = ("Ava", "Stone", "Leo Marsh", "Mia Hart", "Stoneley")
MIS_IDS = ("A801200100001", "A801200100002")
WORDS = "She said an older boy in a game keeps asking her for photos (made-up words)."


def import_roster(path: Path, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SAFEGUARD_ENCRYPTION_KEY": TEST_KEY, "PYTHONWARNINGS": "ignore"}
    env.pop("SAFEGUARD_CONFIG", None)
    return subprocess.run([*COMMAND, "pupils", "import", str(path), "--database-url", database_url],
                          capture_output=True, text=True, timeout=120, env=env)


async def pupils_and_imports(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    async with sessions() as session:
        pupils = await session.scalar(select(func.count()).select_from(Pupil))
        imports = await session.scalar(select(func.count()).select_from(Event).where(Event.kind == "pupils_imported"))
    return pupils or 0, imports or 0


async def test_a_roster_is_imported_then_updated_by_id_printing_counts_never_names(
    database_url: str, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    done = import_roster(EXAMPLE_ROSTER, database_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "roster.csv: 6 pupil(s) added, 0 updated, 0 unchanged.\n"
    # Leo Marsh left, Ava Stone moved class, a new pupil came.
    lines = EXAMPLE_ROSTER.read_text(encoding="utf-8").splitlines()
    changed = [line.replace("Year 5,5S", "Year 5,5T") for line in lines if "Leo" not in line] + [
        "A801200100009,Zara,Quill,Year 1,1Q"]
    (tmp_path / "roster.csv").write_text("\n".join(changed) + "\n", encoding="utf-8")
    again = import_roster(tmp_path / "roster.csv", database_url)
    assert again.returncode == 0, again.stderr
    assert again.stdout == ("roster.csv: 1 pupil(s) added, 0 updated, 5 unchanged; 1 no longer on the roster "
                            "(kept, still linked to their reports).\n")
    for name in (*NAMES, *MIS_IDS, "Zara"):
        assert name not in done.stdout + again.stdout + done.stderr + again.stderr
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Pupil)) == 7
        left = [p for p in await session.scalars(select(Pupil)) if p.name == "Leo Marsh"]
        assert [(p.on_roster, p.mis_id) for p in left] == [(False, "A801200100002")]
        events = [e.data for e in await session.scalars(select(Event).where(Event.kind == "pupils_imported"))]
    assert events[-1] == {"added": 1, "updated": 0, "unchanged": 5, "left": 1, "school_pupils": 6}


BAD_FILES = {
    "a missing column": (HEADER.replace(",Year Group", "").encode(), "line 1: no column for a year group or class"),
    "an empty id": ((HEADER + "A1,Ava,Stone,Year 5\n,Leo,Marsh,Year 3\n").encode(), "line 3, column 'UPN': empty"),
    "a repeated id": ((HEADER + "A1,Ava,Stone,Year 5\nA2,Leo,Marsh,Year 3\nA1,Mia,Hart,Year 4\n").encode(),
                      "line 4, column 'UPN': the same id as line 2"),
    "not UTF-8": ((HEADER + "A1,Zo\xeb,Stone,Year 5\n").encode("latin-1"), "line 2, column 6: not UTF-8 text"),
    "not CSV": (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 20, "line 1: not a CSV file"),
    "not UTF-8, a spreadsheet": (b"PK\x03\x04\x14\x00\x06\x00\xff\xfe", "line 1, column 9: not UTF-8 text"),
    "a short row": ((HEADER + "A1,Ava,Year 5\n").encode(), "line 2: 3 column(s) where the header has 4"),
}


@pytest.mark.parametrize("bad", list(BAD_FILES))
async def test_a_bad_roster_is_refused_naming_the_line_and_column_and_nothing_is_saved(
    bad: str, database_url: str, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    data, reason = BAD_FILES[bad]
    (tmp_path / "roster.csv").write_bytes(data)
    done = import_roster(tmp_path / "roster.csv", database_url)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert reason in done.stderr and "nothing was imported" in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    for name in ("Ava", "Leo", "Stone", "A1", "A2"):
        assert name not in done.stderr.replace(str(tmp_path), "")
    assert await pupils_and_imports(sessions) == (0, 0)


async def test_reports_about_a_child_link_up_and_only_the_dsl_and_deputies_see_her_history(
    database_url: str, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    assert import_roster(EXAMPLE_ROSTER, database_url).returncode == 0
    app = console_app(sessions, clock)
    teacher = Terminal(app, "cfinch")
    await teacher.open()
    for line in ["Pupil disclosure", "No", "The child is the victim"]:
        await teacher.type(line)
    matches = printed_text(await teacher.type("stone"))
    assert "1. Ava Stone (Year 5)\n  2. Ava Stoneley (Year 6)\n  3. Not on the list\n  4. Search again" in matches
    for line in ["1", WORDS, "Yes", "With me", "No", "No", "Send"]:
        await teacher.type(line)

    dsl = Terminal(app, "smorgan")
    alert = await dsl.open()
    lines = alert[1].split("\n")
    assert lines[1:5] == ["URGENT: New report SG-2026-0001 for you to acknowledge", "Child: Ava Stone (Year 5)",
                          "Where the child is now: With me", "No earlier reports about this child"]
    assert "/history SG-2026-0001" in alert[1]

    # The second report types her name and year rather than picking her: it links to her all the same.
    for line in ["Social media misuse", "A pupil", "Ava Stone", "Not on the list", "Year 5", "Instagram",
                 "A made-up post.", "No", "No", "No", "No screenshots", "Send"]:
        await teacher.type(line)
    second = printed_text(await dsl.type("/alerts"))
    assert "New report SG-2026-0002 for you to acknowledge\nChild: Ava Stone (Year 5)\n1 earlier report about this " \
           "child\n" in second
    listed = printed_text(await dsl.type("/child ava"))
    assert "2 pupils match:\n  1. Ava Stone (Year 5)\n  2. Ava Stoneley (Year 6)" in listed
    history = printed_text(await dsl.type("/child 1"))
    assert history.startswith("Reports about Ava Stone (Year 5): 2\nSG-2026-0001  20 Nov 2026  Pupil disclosure")
    assert "SG-2026-0002  20 Nov 2026  Social media misuse" in history
    deputy = Terminal(app, "rpatel")
    await deputy.open()
    assert "Reports about Ava Stone (Year 5): 2" in printed_text(await deputy.type("/history SG-2026-0002"))
    for person in ("cfinch", "jellis"):
        refused = await Terminal(app, person).type("/child ava")
        assert refused[0] == "! You can't see a child's history: only the DSL and deputy DSLs can."

    async with sessions() as session:
        links = [(r.role) for r in await session.scalars(select(ReportPupil).order_by(ReportPupil.report_id))]
        assert links == ["child", "child"]
        assert await session.scalar(select(func.count(func.distinct(ReportPupil.pupil_id)))) == 1
        assert (await verify(session)).ok
        events = json.dumps([[e.actor, e.kind, e.report_ref, e.data] for e in await session.scalars(select(Event))])
        stored = [row[0] for row in (await session.execute(text("SELECT name FROM pupils"))).all()]
    digest = render(app, await weekly_figures(app, IsoWeek.of(clock().date())))
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for leak in (*NAMES, *MIS_IDS):
        assert leak not in events and leak not in digest and leak not in logged, leak
    assert all(name.startswith("gAAAAA") for name in stored), "pupils' names are ciphertext"
    assert "child_history_viewed" in events
    if database_url.startswith("sqlite"):
        raw = Path(database_url.split("///", 1)[1]).read_bytes()
        for leak in (*NAMES, *MIS_IDS):
            assert leak.encode() not in raw, leak


async def test_a_trust_s_roster_is_imported_for_the_school_named_and_only_that_school_finds_its_pupils(
    database_url: str, sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    env = {**os.environ, "SAFEGUARD_ENCRYPTION_KEY": TEST_KEY, "PYTHONWARNINGS": "ignore"}
    env.pop("SAFEGUARD_CONFIG", None)
    command = [*COMMAND, "pupils", "import", str(EXAMPLE_ROSTER), "--config", str(EXAMPLE_TRUST),
               "--database-url", database_url]
    unnamed = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert unnamed.returncode == 2
    assert unnamed.stderr.startswith("safeguard: error: Bellevue Place Education Trust is a trust of 3 schools: "
                                     "say which with --school"), unnamed.stderr
    done = subprocess.run([*command, "--school", "oak"], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    async with sessions() as session:
        assert set(await session.scalars(select(Pupil.school))) == {"oak"}
        # The import is in Oakfield's own records, which it takes with it if it leaves the trust.
        imported = (await session.execute(select(Event.chain, Event.seq).where(Event.kind == "pupils_imported"))).all()
        assert [tuple(row) for row in imported] == [("oak", 1)]
    trust = load_deployment(EXAMPLE_TRUST)
    app = App(trust.schools[0], sessions, channels=(CONSOLE,), clock=clock, deployment=trust)
    at_oak = Terminal(app.for_school(trust.schools[2]), "cfinch")
    await at_oak.type("Pupil disclosure")
    await at_oak.type("No")
    await at_oak.type("The child is the victim")
    assert "Leo Marsh" in printed_text(await at_oak.type("leo"))
    at_bpa = Terminal(app.for_school(trust.schools[0]), "gmarsh")
    await at_bpa.type("Pupil disclosure")
    await at_bpa.type("No")
    await at_bpa.type("The child is the victim")
    assert "Leo Marsh" not in printed_text(await at_bpa.type("leo")), "Oakfield's roster is not Bellevue Place's"
