"""Screenshots at the console: /attach at the screenshots step, /evidence for those the report reached only."""

from __future__ import annotations

import stat
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.advice import INDECENT_IMAGE
from dialogs.evidence import MAX_SCREENSHOT_BYTES
from storage.models import DraftEvidence
from tests.builders import screenshot
from tests.integration.console import Clock, Terminal, console_app, text

WORDS = "A pupil posted a classmate's photo with a cruel caption (made-up)."


async def to_screenshots(teacher: Terminal, imagery: str = "No") -> list[str]:
    await teacher.open()
    for line in ["Social media misuse", "A pupil", "Ava Stone", "Skip", "Instagram", WORDS, "No", "No"]:
        await teacher.type(line)
    return await teacher.type(imagery)


async def test_a_screenshot_attached_at_the_console_is_saved_only_for_its_owner(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, tmp_path: Path
) -> None:
    app = console_app(sessions, clock)
    teacher = Terminal(app, "cfinch")
    assert "Send any screenshots now" in text(await to_screenshots(teacher))
    picture = tmp_path / "phone" / "IMG_2041.jpg"
    picture.parent.mkdir()
    picture.write_bytes(screenshot("JPEG"))
    printed = text(await teacher.type(f"/attach {picture}"))
    assert "Screenshot 1 received." in printed and "1. Done" in printed
    assert "Screenshots: 1" in text(await teacher.type("Done"))
    await teacher.type("Send")

    dsl = Terminal(app, "smorgan")
    opened = text(await dsl.open())
    assert "1 screenshot: press Screenshots" in opened and "/evidence SG-2026-0001 FOLDER" in opened
    folder = tmp_path / "dsl"
    folder.mkdir()
    saved = text(await dsl.type(f"/evidence SG-2026-0001 {folder}"))
    written = folder / "SG-2026-0001-screenshot-1.jpg"
    assert f"Saved: {written}" in saved
    assert written.read_bytes() == picture.read_bytes()
    assert stat.S_IMODE(written.stat().st_mode) == 0o600

    # The headteacher, only told of it, reads its words but is not sent its pictures; the online
    # safety officer was not sent it at all: both refused, and nothing written.
    head = Terminal(app, "jellis")
    told = text(await head.open())
    assert "1 screenshot: sent to whoever answers for it" in told and "/evidence" not in told
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for person in ("jellis", "tokafor"):
        other = Terminal(app, person)
        await other.open()
        refused = text(await other.type(f"/evidence SG-2026-0001 {elsewhere}"))
        assert "You can't see the screenshots of SG-2026-0001: it was not sent to you" in refused
    assert list(elsewhere.iterdir()) == []
    # Nor the reporter, who follows its progress only.
    assert "You can't see the screenshots of SG-2026-0001" in text(
        await teacher.type(f"/evidence SG-2026-0001 {elsewhere}"))


async def test_at_the_console_a_non_image_an_oversized_file_and_a_file_out_of_turn_are_refused(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, tmp_path: Path
) -> None:
    app = console_app(sessions, clock)
    teacher = Terminal(app, "cfinch")
    early = tmp_path / "early.png"
    early.write_bytes(screenshot())
    await teacher.open()
    await teacher.type("Social media misuse")
    assert "Safeguard can't take that file here" in text(await teacher.type(f"/attach {early}"))
    for line in ["A pupil", "Ava Stone", "Skip", "Instagram", WORDS, "No", "No", "No"]:
        await teacher.type(line)
    notes = tmp_path / "notes.png"
    notes.write_text("not a picture at all")
    assert "PNG, JPEG, GIF or WebP pictures only" in text(await teacher.type(f"/attach {notes}"))
    huge = tmp_path / "huge.png"
    huge.write_bytes(screenshot() + bytes(MAX_SCREENSHOT_BYTES))
    assert "may be up to 5 MB" in text(await teacher.type(f"/attach {huge}"))
    assert "could not be fetched" in text(await teacher.type(f"/attach {tmp_path / 'missing.png'}"))
    async with sessions() as session:
        assert (await session.execute(select(func.count()).select_from(DraftEvidence))).scalar_one() == 0


async def test_at_the_console_an_image_after_imagery_a_pupil_took_is_refused_unread(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, tmp_path: Path
) -> None:
    app = console_app(sessions, clock)
    teacher = Terminal(app, "cfinch")
    printed = text(await to_screenshots(teacher, imagery="Yes"))
    assert INDECENT_IMAGE in printed and "Send any screenshots now" not in printed
    unreadable = tmp_path / "image.png"
    unreadable.write_bytes(screenshot())
    unreadable.chmod(0)  # were it opened, this would fail: it is refused before it is touched
    refused = text(await teacher.type(f"/attach {unreadable}"))
    assert "has not opened or kept that file" in refused and INDECENT_IMAGE in refused
    assert "could not be fetched" not in refused
