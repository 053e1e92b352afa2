"""A consistent store, made fast: reports, their routing, notes and a valid hash-chained log, in bulk.

Rows go in through the project's own schema and column types (migrated by `storage.migrate`,
`details` and `close_reason` encrypted by the engine's keyring), written with SQLAlchemy Core
executemany a chunk at a time, and the log's chain is made with `storage.log`'s own hashing,
so `storage.log.verify` passes over the result. A store grows in steps (10k reports, then up to
100k, then 1M) and each step goes on from the log head and ids already there.

Not written: recipients and outbox rows (nothing the digest or verify reads); the reports of
one step come after the last step's in the log, but their times are spread over the same years.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bench.stories import Ids, Story, Teller
from routing.school import School
from storage.crypto import Keyring
from storage.db import create_engine
from storage.log import event_hash
from storage.chains import DEFAULT as DEFAULT_CHAIN  # the bench is one school: its references are SG-2026-…
from storage.migrate import upgrade
from storage.models import Event, LogHead, Report, ReportCounter, ReportNote, RoutingDecision
from storage.reports import REFERENCE_PREFIX

CHUNK = 5000  # reports per transaction: about 26,000 events
# Columns a report row may leave out when nothing happened to it yet (executemany wants every key).
OPTIONAL = ("ack_deadline", "acknowledged_at", "acknowledged_by", "closed_at", "closed_by", "close_decision",
            "close_reason", "next_escalation_at", "lado_due_at", "lado_reminded_at", "lado_consulted_at",
            "lado_consulted_by")
FORK = multiprocessing.get_context("fork")


@dataclass
class Tally:
    """What was generated, by the school's local day: reports by category and status, events by kind."""

    reports: Counter[tuple[date, str, str]] = field(default_factory=Counter)
    events: Counter[tuple[date, str]] = field(default_factory=Counter)


@dataclass(frozen=True)
class Grown:
    """One growth step: reports and events added, the store's totals after it, and how long it took."""

    added: int
    reports: int
    events: int
    seconds: float


async def grow(url: str, keys: Keyring, total: int, *, school: School, tally: Tally | None = None,
               seed: int = 8) -> Grown:
    """Add reports to the store at `url` (migrating it first) until it holds `total`."""
    started = time.perf_counter()
    await upgrade(url)
    engine = create_engine(url, keys=keys)
    try:
        async with engine.connect() as connection:
            ids, head, have = await _state(connection)
    finally:
        await engine.dispose()  # before the fork below: the child inherits no connection or its thread
    # Telling and chaining the reports (a process of its own) overlaps writing them (this one): twice as fast.
    chunks: multiprocessing.Queue[Chunk | str | None] = FORK.Queue(maxsize=3)
    teller = FORK.Process(target=_tell, args=(school, f"{seed}:{have}", max(0, total - have), ids, head, chunks),
                          daemon=True)
    teller.start()
    engine = create_engine(url, keys=keys)
    zone = ZoneInfo(school.timezone)
    try:
        while (chunk := await asyncio.to_thread(chunks.get)) is not None:
            if isinstance(chunk, str):
                raise RuntimeError(f"telling the reports failed: {chunk}")
            async with engine.begin() as connection:
                await _write(connection, chunk)
            if tally is not None:
                _count(tally, chunk, zone)
            head = chunk.head
        if engine.dialect.name == "postgresql":
            await _after_postgres(engine)
    finally:
        teller.join(timeout=10)
        await engine.dispose()
    return Grown(added=max(0, total - have), reports=max(have, total), events=head[0],
                 seconds=time.perf_counter() - started)


@dataclass(frozen=True)
class Chunk:
    """Reports told and their events chained, ready to write in one transaction."""

    stories: list[Story]
    events: list[dict[str, Any]]
    head: tuple[int, str]  # the log head after these events
    counters: dict[int, int]  # each year's last reference number after these reports


def _tell(school: School, seed: str, count: int, ids: Ids, head: tuple[int, str],
          out: multiprocessing.Queue[Chunk | str | None]) -> None:
    """In the child process: tell `count` reports' stories a chunk at a time, chained on from `head`."""
    try:
        teller, rng = Teller(school), random.Random(seed)  # the same store every time it is grown the same way
        times = teller.created_times(rng, count)
        for start in range(0, len(times), CHUNK):
            stories = [teller.tell(rng, ids, at) for at in times[start:start + CHUNK]]
            events, head = _chain(stories, head)
            out.put(Chunk(stories, events, head, dict(ids.counters)))
        out.put(None)
    except Exception as exc:  # the parent waits on the queue: tell it, rather than leave it waiting
        out.put(f"{type(exc).__name__}: {exc}")


async def _after_postgres(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        # Ids were given explicitly: move the sequences on, so the app's next insert does not collide.
        for table in ("reports", "report_notes"):
            await connection.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"))
    # Autovacuum would analyze tables this size soon after; the figures are for a store it has seen.
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text("ANALYZE"))


async def _state(connection: AsyncConnection) -> tuple[Ids, tuple[int, str], int]:
    """The next ids, the year counters, the log head and the number of reports already stored."""
    have = await connection.scalar(select(func.count()).select_from(Report)) or 0
    last_report = await connection.scalar(select(func.max(Report.id))) or 0
    last_note = await connection.scalar(select(func.max(ReportNote.id))) or 0
    counters = {year: last for year, last in await connection.execute(
        select(ReportCounter.year, ReportCounter.last).where(ReportCounter.prefix == REFERENCE_PREFIX))}
    seq, digest = (await connection.execute(select(LogHead.seq, LogHead.hash).where(LogHead.chain == DEFAULT_CHAIN))).one()
    return Ids(report=last_report + 1, note=last_note + 1, counters=counters), (seq, digest), have


def _chain(stories: list[Story], head: tuple[int, str]) -> tuple[list[dict[str, Any]], tuple[int, str]]:
    """The chunk's events in time order, numbered on from `head` and hash-chained as append_event does."""
    timeline = sorted(
        ((at, index, order, story.report["reference"], actor, kind, data)
         for index, story in enumerate(stories) for order, (at, actor, kind, data) in enumerate(story.events)),
        key=lambda event: event[:3],
    )
    seq, prev = head
    rows = []
    for at, _, _, reference, actor, kind, data in timeline:
        seq += 1
        digest = event_hash(prev, seq=seq, at=at, actor=actor, kind=kind, report=reference, data=data)
        rows.append({"seq": seq, "at": at, "actor": actor, "kind": kind, "report_ref": reference, "data": data,
                     "prev_hash": prev, "hash": digest})
        prev = digest
    return rows, (seq, prev)


async def _write(connection: AsyncConnection, chunk: Chunk) -> None:
    """One chunk in one transaction: reports, decisions, notes, events, the log head and year counters."""
    stories = chunk.stories
    await connection.execute(insert(Report), [dict.fromkeys(OPTIONAL) | story.report for story in stories])
    await connection.execute(insert(RoutingDecision), [story.decision for story in stories])
    notes = [note for story in stories for note in story.notes]
    if notes:
        await connection.execute(insert(ReportNote), notes)
    await connection.execute(insert(Event), chunk.events)
    seq, digest = chunk.head
    await connection.execute(update(LogHead).where(LogHead.chain == DEFAULT_CHAIN).values(seq=seq, hash=digest))
    upsert = postgresql.insert(ReportCounter) if connection.dialect.name == "postgresql" else sqlite.insert(ReportCounter)
    years = {story.report["created_at"].year for story in stories}
    await connection.execute(
        upsert.on_conflict_do_update(index_elements=[ReportCounter.prefix, ReportCounter.year],
                                     set_={"last": upsert.excluded.last}),
        [{"prefix": REFERENCE_PREFIX, "year": year, "last": chunk.counters[year]} for year in sorted(years)],
    )


def _count(tally: Tally, chunk: Chunk, zone: ZoneInfo) -> None:
    for story in chunk.stories:
        row = story.report
        tally.reports[(row["created_at"].astimezone(zone).date(), row["category"], row["status"])] += 1
    for event in chunk.events:
        tally.events[(event["at"].astimezone(zone).date(), event["kind"])] += 1
