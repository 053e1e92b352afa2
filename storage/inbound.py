"""Inbound platform event ids, so a retried delivery (Slack retries, Teams resends) is handled once."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import conflict_insert
from storage.models import InboundEvent


async def seen_inbound(session: AsyncSession, *, channel: str, event_id: str) -> bool:
    """Record this event id; True when it had been recorded already (so skip it)."""
    # The unique constraint decides a race: a concurrent duplicate waits for the first
    # transaction and then inserts nothing. Rolled back with the caller, the id is unseen.
    result = await session.execute(
        conflict_insert(session, InboundEvent)
        .values(channel=channel, event_id=event_id)
        .on_conflict_do_nothing(index_elements=["channel", "event_id"])
        .returning(InboundEvent.id)
    )
    return result.first() is None
