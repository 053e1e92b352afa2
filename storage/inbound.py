"""Inbound platform event ids, so a retried delivery (Slack retries, Teams resends) is handled once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.base import Executable

from storage.db import conflict_insert
from storage.models import InboundEvent
from storage.sqlite_direct import direct, rows

INBOUND = InboundEvent.metadata.tables["inbound_events"]
# Built once per dialect, parameters bound at each execution (see storage/drafts.py: building a
# statement for every event cost as much CPU as running it).
_RECORDS: dict[str, Executable] = {}
# How long an id is kept: Slack retries an event for about an hour (three retries, the last some
# minutes after the first), Teams resends an activity within minutes; a day covers both with room.
KEPT_FOR = timedelta(days=1)


async def seen_inbound(session: AsyncSession, *, channel: str, event_id: str) -> bool:
    """Record this event id; True when it had been recorded already (so skip it)."""
    return (channel, event_id) not in await record_inbound(session, [(channel, event_id)])


async def record_inbound(session: AsyncSession, arrivals: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    """Record these (channel, event id) pairs in one statement; the pairs not recorded before.

    The unique constraint decides a race: a concurrent duplicate waits for the first
    transaction and then inserts nothing. Rolled back with the caller, the ids are unseen.
    """
    if not arrivals:
        return set()
    now = datetime.now(UTC)
    rows = [{"channel": channel, "event_id": event_id, "seen_at": now} for channel, event_id in dict.fromkeys(arrivals)]
    result = await session.execute(
        conflict_insert(session, InboundEvent)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["channel", "event_id"])
        .returning(InboundEvent.channel, InboundEvent.event_id)
    )
    return {(channel, event_id) for channel, event_id in result}


async def record_event(conn: AsyncConnection, *, channel: str, event_id: str) -> bool:
    """Record this event id in the transaction under way on `conn`; False when it was recorded before (skip it).

    For an event whose handling is one transaction (a Slack DM's dialog step): the id is then
    committed with what it did, or rolled back with it, and a retry finds it exactly when the
    work is done. A concurrent duplicate waits on the unique key for this transaction's end.
    """
    insert = _RECORDS.get(conn.dialect.name)
    if insert is None:
        new = postgresql.insert(INBOUND) if conn.dialect.name == "postgresql" else sqlite.insert(INBOUND)
        insert = _RECORDS[conn.dialect.name] = (new.on_conflict_do_nothing(index_elements=["channel", "event_id"])
                                                .returning(INBOUND.c.id))
    params = {"channel": channel, "event_id": event_id, "seen_at": datetime.now(UTC)}
    if direct(conn):
        return bool(await rows(conn, insert, params, ("channel", "event_id", "seen_at")))
    return (await conn.execute(insert, params)).first() is not None


async def forget_inbound(session: AsyncSession, *, now: datetime) -> int:
    """Forget the ids seen more than KEPT_FOR before `now` (real time): no retry of them can come now; how many."""
    result = await session.execute(
        delete(InboundEvent).where(InboundEvent.seen_at < now - KEPT_FOR).returning(InboundEvent.id),
        execution_options={"synchronize_session": False})
    return len(result.all())
