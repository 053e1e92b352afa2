"""The weekly digest at the console: shown to the governor lead with their news, once, then marked sent.

A terminal shows no image, so a digest with a chart says how to save it instead. Each test runs on
SQLite and, with TEST_DATABASE_URL, on PostgreSQL; the console is driven line by line.
"""

from __future__ import annotations

import struct
import zlib

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import CONSOLE, SLACK
from storage.digest_outbox import queue_digest
from storage.log import verify
from storage.models import DigestDelivery, Event
from tests.integration.console import Clock, Terminal, console_app, text

TEXT = ("Safeguard weekly digest, week 2026-W47\n"
        "Reports: 3 (2 pupil disclosure, 1 social media misuse)\n"
        "Overdue: none")
CHART_LINE = "Its chart, as a PNG file: safeguard digest --week 2026-W47 --chart FILE"


def tiny_png() -> bytes:
    """A valid 2x1 greyscale PNG, built by hand (signature, IHDR, IDAT, IEND)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 2, 1, 8, 0, 0, 0, 0)  # 2x1, 8-bit greyscale
    pixels = zlib.compress(b"\x00\x20\xe0")  # one row: filter 0, then a dark and a light pixel
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


async def queue(sessions: async_sessionmaker[AsyncSession], clock: Clock, *, person_id: str = "dwilde",
                channel: str = CONSOLE, week: str = "2026-W47", chart: bytes | None = None) -> None:
    async with sessions.begin() as session:
        assert await queue_digest(session, now=clock(), school="Oakfield Lower School", week=week,
                                  person_id=person_id, channel=channel, text=TEXT.replace("2026-W47", week),
                                  chart=chart)


async def test_the_governor_sees_the_digest_once_with_where_its_chart_is(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    await queue(sessions, clock, chart=tiny_png())
    governor = Terminal(console_app(sessions, clock), "dwilde")
    opened = text(await governor.open())
    assert f"{TEXT}\n{CHART_LINE}" in opened
    assert "\\x89PNG" not in opened and "IHDR" not in opened, "the chart's bytes are never printed"

    assert TEXT not in text(await governor.type("/help")), "a digest is shown once"
    async with sessions() as session:
        row = (await session.scalars(select(DigestDelivery))).one()
        assert (row.status, row.attempts, row.claimed_until) == ("sent", 1, None)
        delivered = list(await session.scalars(select(Event).where(Event.kind == "digest_delivered")))
        assert [(e.actor, e.data) for e in delivered] == [
            ("system", {"week": "2026-W47", "person": "dwilde", "channel": CONSOLE})]
        assert (await verify(session)).ok


async def test_a_digest_queued_while_the_governor_is_there_comes_with_the_next_line(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    governor = Terminal(console_app(sessions, clock), "dwilde")
    assert "weekly digest" not in text(await governor.open())
    clock.advance(days=3)
    await queue(sessions, clock, week="2026-W48")
    printed = text(await governor.type("/alerts"))
    assert "Safeguard weekly digest, week 2026-W48" in printed
    assert "--chart" not in printed, "no chart, no line about one"


async def test_only_the_governors_own_console_digests_are_shown(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    await queue(sessions, clock, channel=SLACK)  # goes by Slack, not here
    await queue(sessions, clock, person_id="hbrooks", week="2026-W48")
    app = console_app(sessions, clock)
    assert "weekly digest" not in text(await Terminal(app, "dwilde").open())
    assert "week 2026-W48" in text(await Terminal(app, "hbrooks").open())
    async with sessions() as session:
        status = {(r.person_id, r.channel): r.status for r in await session.scalars(select(DigestDelivery))}
    assert status == {("dwilde", SLACK): "queued", ("hbrooks", CONSOLE): "sent"}
