"""Inbound platform event ids, so a retried delivery (Slack retries, Teams resends) is handled once."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import conflict_insert
from storage.models import InboundEvent


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
    rows = [{"channel": channel, "event_id": event_id} for channel, event_id in dict.fromkeys(arrivals)]
    result = await session.execute(
        conflict_insert(session, InboundEvent)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["channel", "event_id"])
        .returning(InboundEvent.channel, InboundEvent.event_id)
    )
    return {(channel, event_id) for channel, event_id in result}
