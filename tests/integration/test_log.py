"""The event log: contiguous seqs, a hash chain anyone can recompute, serialized appends, guarded rows."""

from __future__ import annotations

import asyncio
import hashlib
import json

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.db import create_engine, sessionmaker
from storage.log import GENESIS_HASH, EventKind, append_event, entries, verify
from storage.models import Event, LogHead
from tests.builders import TEST_KEYS
from tests.integration.helpers import minutes, new_report, six_events


async def test_an_empty_log_verifies(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        result = await verify(session)
    assert (result.ok, result.checked, result.first_bad_seq, result.problem) == (True, 0, None, "")


async def test_events_chain_by_the_documented_formula(sessions: async_sessionmaker[AsyncSession]) -> None:
    await six_events(sessions)
    async with sessions() as session:
        stored = [entry async for entry in entries(session)]
        head = (await session.execute(select(LogHead.seq, LogHead.hash))).one()
        result = await verify(session)
    assert [e.seq for e in stored] == [1, 2, 3, 4, 5, 6]
    assert [e.kind for e in stored] == ["created", "routed", "created", "acknowledged", "note_added", "viewed"]
    prev = GENESIS_HASH
    for event in stored:
        body = {
            "seq": event.seq,
            "at": event.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "actor": event.actor,
            "kind": event.kind,
            "report": event.report,
            "data": event.data,
        }
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert event.prev_hash == prev
        assert event.hash == hashlib.sha256((prev + canonical).encode("utf-8")).hexdigest()
        prev = event.hash
    assert tuple(head) == (6, prev)
    assert (result.ok, result.checked) == (True, 6)


async def test_data_is_stored_as_it_was_hashed(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        await append_event(session, now=minutes(1), actor="dsl1", kind=EventKind.NOTE_ADDED, report_ref="SG-2026-0001",
                           data={"note": "Ça va — a made-up note ✓", "tags": ("a", "b"), "n": 1.5})
    async with sessions() as session:
        [event] = [e async for e in entries(session)]
        assert event.data == {"note": "Ça va — a made-up note ✓", "tags": ["a", "b"], "n": 1.5}
        assert (await verify(session)).ok


async def test_data_that_is_not_json_is_refused(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        with pytest.raises(ValueError):
            await append_event(session, now=minutes(1), actor="x", kind=EventKind.VIEWED, report_ref=None, data={"n": float("nan")})
        with pytest.raises(TypeError):
            await append_event(session, now=minutes(1), actor="x", kind=EventKind.VIEWED, report_ref=None, data={"s": {1, 2}})


async def test_concurrent_writers_cannot_fork_the_chain(sessions: async_sessionmaker[AsyncSession]) -> None:
    async def write(n: int) -> int:
        async with sessions.begin() as session:
            event = await append_event(session, now=minutes(n), actor=f"p{n}", kind=EventKind.VIEWED,
                                       report_ref="SG-2026-0001", data={"n": n})
            await asyncio.sleep(0.01)  # hold the head a moment, so the others queue behind it
            return event.seq

    seqs = await asyncio.gather(*(write(n) for n in range(10)))
    assert sorted(seqs) == list(range(1, 11))
    async with sessions() as session:
        result = await verify(session)
    assert (result.ok, result.checked) == (True, 10)


async def test_a_second_writer_waits_for_the_first(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as first, sessions() as second:
        await append_event(first, now=minutes(1), actor="a", kind=EventKind.VIEWED, report_ref=None, data={})
        waiting = asyncio.create_task(
            append_event(second, now=minutes(2), actor="b", kind=EventKind.VIEWED, report_ref=None, data={})
        )
        await asyncio.sleep(0.3)
        assert not waiting.done(), "the second append should wait for the first transaction's head lock"
        await first.commit()
        assert (await waiting).seq == 2
        await second.commit()
    async with sessions() as session:
        assert (await verify(session)).ok


async def test_an_event_rolled_back_leaves_no_gap(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        await append_event(session, now=minutes(1), actor="a", kind=EventKind.VIEWED, report_ref=None, data={})
        await session.rollback()
    async with sessions.begin() as session:
        assert (await append_event(session, now=minutes(2), actor="b", kind=EventKind.VIEWED, report_ref=None, data={})).seq == 1


@pytest.mark.parametrize("change", ["update", "delete"])
async def test_the_database_refuses_to_change_or_delete_events(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], change: str
) -> None:
    async with sessions.begin() as session:
        await new_report(session)
    statement = update(Event).values(actor="someone-else") if change == "update" else delete(Event)
    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as connection:
            await connection.execute(statement)
    async with sessions() as session:
        result = await verify(session)
    assert (result.ok, result.checked) == (True, 1)


async def test_postgresql_also_refuses_truncate(engine: AsyncEngine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE (its DELETE trigger covers it)")
    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as connection:
            await connection.execute(text("TRUNCATE events"))


async def test_an_append_waits_while_verify_holds_the_log_still(sessions: async_sessionmaker[AsyncSession]) -> None:
    await six_events(sessions)

    async def append() -> int:
        async with sessions.begin() as session:
            return (await append_event(session, now=minutes(9), actor="a", kind=EventKind.VIEWED, report_ref=None, data={})).seq

    async with sessions() as checking:
        assert (await verify(checking)).ok
        waiting = asyncio.create_task(append())
        await asyncio.sleep(0.3)
        assert not waiting.done(), "an append should wait until the verifying transaction ends"
    assert await waiting == 7
    async with sessions() as session:
        assert (await verify(session)).checked == 7


async def test_a_read_only_copy_can_be_verified(database_url: str, sessions: async_sessionmaker[AsyncSession]) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("read-only opening is a SQLite file's (a PostgreSQL reader needs only SELECT rights)")
    await six_events(sessions)
    path = database_url.split("///", 1)[1]
    engine = create_engine(f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true", keys=TEST_KEYS)
    try:
        async with sessionmaker(engine)() as session:
            result = await verify(session)
    finally:
        await engine.dispose()
    assert (result.ok, result.checked) == (True, 6)
