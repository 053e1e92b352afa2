"""At the console: /export writes a closed report's PDF into the working folder, for someone entitled to it."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.log import events_for, verify
from tests.integration.console import Clock, Terminal, console_app, text

AVA = ["Pupil disclosure", "No", "The child is the victim", "Ava Stone", "Year 5",
       "She said an older boy keeps messaging her (made-up words)", "No", "In class", "No", "No", "Send"]
BULLIED_TEACHER = ["Cyberbullying", "A member of staff", "A parent or carer", "I don't know", "Facebook",
                   "A parent called Mr Quentin Marlowe-Tarrant a liar on Facebook (made-up).", "No", "No",
                   "No screenshots", "Send"]


async def test_export_writes_the_pdf_here_for_the_dsl_and_refuses_the_headteacher(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    app = console_app(sessions, clock)
    teacher = Terminal(app, "cfinch")
    await teacher.open()
    for line in [*AVA, *BULLIED_TEACHER]:  # SG-2026-0001, the DSL's alone; SG-2026-0002, the headteacher's
        await teacher.type(line)
    dsl = Terminal(app, "smorgan")
    await dsl.open()
    assert "/export REF" in text(await dsl.type("/help"))
    for line in ("/ack SG-2026-0001", "/note SG-2026-0001 Made-up note: her mother was told.",
                 "/close SG-2026-0001 handled_in_school Made-up reason: handled with the family."):
        clock.advance(minutes=5)
        await dsl.type(line)

    said = text(await dsl.type("/export sg-2026-0001"))
    saved = here / "SG-2026-0001.pdf"
    assert said.endswith(f"Saved: {saved}") and "for you only" in said
    words = " ".join(" ".join(p.extract_text() for p in PdfReader(saved).pages).split())
    for expected in ("SG-2026-0001", "OFFICIAL-SENSITIVE", "Made-up note: her mother was told.",
                     "Handled in school", "Made-up reason: handled with the family."):
        assert expected in words, expected
    assert "Marlowe-Tarrant" not in words
    # Never over a file already there: the next free name.
    again = text(await dsl.type("/export SG-2026-0001"))
    assert again.endswith(f"Saved: {here / 'SG-2026-0001-2.pdf'}") and saved.read_bytes().startswith(b"%PDF")

    head = Terminal(app, "jellis")
    await head.open()
    assert await head.type("/export SG-2026-0001") == [
        "! You can't export SG-2026-0001: it was not sent to you. If you think it should have been, speak to your "
        "Designated Safeguarding Lead."]
    assert sorted(p.name for p in here.iterdir()) == ["SG-2026-0001-2.pdf", "SG-2026-0001.pdf"]
    async with sessions() as session:
        events = await events_for(session, "SG-2026-0001")
        assert (await verify(session)).ok
    assert [(e.kind, e.actor) for e in events if e.kind in ("exported", "refused")] == [
        ("exported", "smorgan"), ("exported", "smorgan"), ("refused", "jellis")]
