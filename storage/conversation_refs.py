"""Conversation references: a person's chat with the bot on a channel, kept so alerts can reach it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import conflict_insert
from storage.log import as_json_value
from storage.models import ConversationRef


async def save_reference(
    session: AsyncSession, *, now: datetime, channel: str, person_id: str, reference: Mapping[str, object]
) -> None:
    """Save (or replace) where this person's conversation with the bot is on `channel`."""
    payload = as_json_value(reference)
    await session.execute(
        conflict_insert(session, ConversationRef)
        .values(channel=channel, person_id=person_id, reference=payload, updated_at=now)
        .on_conflict_do_update(index_elements=["channel", "person_id"], set_={"reference": payload, "updated_at": now})
    )


async def load_reference(session: AsyncSession, *, channel: str, person_id: str) -> dict[str, Any] | None:
    """The saved reference of this person's conversation on `channel`, or None if they have none yet."""
    query = select(ConversationRef.reference).where(
        ConversationRef.channel == channel, ConversationRef.person_id == person_id
    )
    return (await session.scalars(query)).one_or_none()


async def forget_reference(session: AsyncSession, *, channel: str, person_id: str) -> bool:
    """Forget this person's conversation on `channel` (they removed the app); whether there was one."""
    result = await session.execute(
        delete(ConversationRef)
        .where(ConversationRef.channel == channel, ConversationRef.person_id == person_id)
        .returning(ConversationRef.person_id),
        execution_options={"synchronize_session": False},
    )
    return result.first() is not None
