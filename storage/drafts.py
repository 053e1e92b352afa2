"""Drafts: a half-finished report conversation per (channel, user), kept across restarts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import conflict_insert
from storage.log import as_json_value
from storage.models import Draft


async def save_draft(
    session: AsyncSession, *, now: datetime, channel: str, user_id: str, state: Mapping[str, object]
) -> None:
    """Save (or replace) the draft of this user on this channel."""
    payload = as_json_value(state)
    await session.execute(
        conflict_insert(session, Draft)
        .values(channel=channel, user_id=user_id, state=payload, updated_at=now)
        .on_conflict_do_update(index_elements=["channel", "user_id"], set_={"state": payload, "updated_at": now})
    )


async def load_draft(session: AsyncSession, *, channel: str, user_id: str) -> dict[str, Any] | None:
    """The saved state of this user's draft, or None."""
    query = select(Draft.state).where(Draft.channel == channel, Draft.user_id == user_id)
    return (await session.scalars(query)).one_or_none()


async def delete_draft(session: AsyncSession, *, channel: str, user_id: str) -> bool:
    """Forget this user's draft; whether there was one."""
    result = await session.execute(
        delete(Draft).where(Draft.channel == channel, Draft.user_id == user_id).returning(Draft.user_id),
        execution_options={"synchronize_session": False},
    )
    return result.first() is not None


async def purge_drafts(session: AsyncSession, *, before: datetime) -> int:
    """Delete drafts untouched since `before` (they may hold names); how many went."""
    result = await session.execute(
        delete(Draft).where(Draft.updated_at < before).returning(Draft.user_id),
        execution_options={"synchronize_session": False},
    )
    return len(result.all())
