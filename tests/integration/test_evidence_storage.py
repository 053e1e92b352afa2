"""Screenshots at rest: encrypted, moved to a new key by `safeguard keys rotate`, gone with their draft or report."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.cases import conversation
from storage.crypto import KeyringError, new_key, parse_keys
from storage.db import create_engine, sessionmaker
from storage.log import verify
from storage.models import DraftEvidence, Report, ReportEvidence
from tests.builders import TEST_KEY, TEST_KEYS, screenshot
from tests.integration.console import Clock, Terminal, console_app
from tests.integration.test_encryption import invoke

WORDS = "A pupil posted a classmate's photo with a cruel caption (made-up)."


async def report_and_draft_with_screenshots(sessions: async_sessionmaker[AsyncSession], clock: Clock,
                                            folder: Path) -> tuple[bytes, bytes]:
    """A sent report with one screenshot, and another teacher's unfinished report with one; the two pictures."""
    app = console_app(sessions, clock)
    sent, drafted = screenshot("PNG"), screenshot("GIF", colour="#a53a3a")
    (folder / "sent.png").write_bytes(sent)
    (folder / "drafted.gif").write_bytes(drafted)
    for person, picture, send in (("cfinch", "sent.png", True), ("rpatel", "drafted.gif", False)):
        reporter = Terminal(app, person)
        await reporter.open()
        for line in ["Social media misuse", "A pupil", "Ava Stone", "Skip", "Instagram", WORDS, "No", "No", "No",
                     f"/attach {folder / picture}"]:
            await reporter.type(line)
        if send:
            await reporter.type("Done")
            await reporter.type("Send")
    return sent, drafted


async def pictures(sessions: async_sessionmaker[AsyncSession]) -> tuple[list[bytes], list[bytes]]:
    async with sessions() as session:
        return (list(await session.scalars(select(ReportEvidence.data))),
                list(await session.scalars(select(DraftEvidence.data))))


async def test_screenshots_are_encrypted_and_move_to_a_new_key(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], clock: Clock, database_url: str, tmp_path: Path
) -> None:
    sent, drafted = await report_and_draft_with_screenshots(sessions, clock, tmp_path)
    async with engine.connect() as connection:
        raw = [str(v) for table in ("report_evidence", "draft_evidence")
               for v in (await connection.exec_driver_sql(f"SELECT data FROM {table}")).scalars()]
    assert len(raw) == 2 and all(value.startswith("gAAAAA") for value in raw)

    new = new_key()
    rotated = await invoke("keys", "rotate", "--database-url", database_url, key=f"{new},{TEST_KEY}")
    assert rotated.exit_code == 0, rotated.output
    only_new = create_engine(database_url, keys=parse_keys(new))
    only_old = create_engine(database_url, keys=TEST_KEYS)
    try:
        assert await pictures(sessionmaker(only_new)) == ([sent], [drafted])
        with pytest.raises(KeyringError):
            await pictures(sessionmaker(only_old))
        async with sessionmaker(only_new)() as session:
            assert (await verify(session)).ok
    finally:
        await only_new.dispose()
        await only_old.dispose()


async def test_screenshots_go_with_an_expired_draft_and_with_an_erased_report(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, tmp_path: Path
) -> None:
    await report_and_draft_with_screenshots(sessions, clock, tmp_path)
    clock.advance(hours=25)  # the draft is discarded after a day idle
    await conversation.sweep(console_app(sessions, clock))
    async with sessions.begin() as session:
        assert (await session.execute(select(func.count()).select_from(DraftEvidence))).scalar_one() == 0
        assert (await session.execute(select(func.count()).select_from(ReportEvidence))).scalar_one() == 1
        await session.execute(delete(Report))  # erasing a report (the retention schedule, a court's order)
    async with sessions() as session:
        assert (await session.execute(select(func.count()).select_from(ReportEvidence))).scalar_one() == 0
