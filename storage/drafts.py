"""Drafts: a half-finished report conversation per (channel, user), kept across restarts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, delete, exists, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.base import Executable

from storage.db import conflict_insert
from storage.log import as_json_value
from storage.models import Draft, Pupil, PupilSource
from storage.sqlite_direct import direct, rows

# The table itself: the dialog's hot path (one message, one draft) runs Core statements on a
# connection, without an ORM session's unit of work around them (bench/ack.py: the ORM's
# bookkeeping cost more CPU than the statements).
DRAFTS = Draft.metadata.tables["drafts"]


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


# Built once: a statement built per message is also keyed for SQLAlchemy's compiled cache per
# message, which cost as much CPU as running it. Parameters are bound at each execution.
_ROSTER = (Pupil.school == bindparam("school"), Pupil.source == PupilSource.ROSTER.value)
_READ_TURN = select(
    select(Draft.state).where(Draft.channel == bindparam("channel"), Draft.user_id == bindparam("user_id"))
    .scalar_subquery(),
    select(func.count()).select_from(Pupil).where(*_ROSTER).scalar_subquery(),
    select(func.max(Pupil.updated_at)).where(*_ROSTER).scalar_subquery(),
    exists().where(Draft.channel == bindparam("form_channel"), Draft.user_id == bindparam("user_id")),
)
_WRITES: dict[str, Executable] = {}
_DRAFT_KEYS = ("channel", "user_id", "state", "updated_at")


class Turn(NamedTuple):
    """What a message needs read: the draft's state (None without one), the roster's stamp, and whether a form is open."""

    state: dict[str, Any] | None
    stamp: tuple[Any, ...]
    form: bool


async def read_turn(
    conn: AsyncConnection, *, channel: str, user_id: str, school: str, form_channel: str | None = None
) -> Turn:
    """This user's draft (or None), the stamp of `school`'s roster (storage.pupils.RosterCache), and whether they
    have a draft under `form_channel` too (a request's form, which takes their words first), in one statement.

    One round trip to the database for what a message needs read, where there were three sessions.
    """
    # No channel is named "": without a form channel the last column is simply false.
    params = {"channel": channel, "user_id": user_id, "school": school, "form_channel": form_channel or ""}
    if direct(conn):
        ((state, count, latest, form),) = await rows(conn, _READ_TURN, params)
    else:
        state, count, latest, form = (await conn.execute(_READ_TURN, params)).one()
    return Turn(state, (count, latest), bool(form))


async def write_draft(
    conn: AsyncConnection, *, now: datetime, channel: str, user_id: str, state: Mapping[str, object]
) -> None:
    """save_draft, as a Core statement on a connection (the dialog's hot path)."""
    upsert = _WRITES.get(conn.dialect.name)
    if upsert is None:
        insert = postgresql.insert(DRAFTS) if conn.dialect.name == "postgresql" else sqlite.insert(DRAFTS)
        upsert = _WRITES[conn.dialect.name] = insert.on_conflict_do_update(
            index_elements=["channel", "user_id"], set_={"state": insert.excluded.state,
                                                         "updated_at": insert.excluded.updated_at})
    params = {"channel": channel, "user_id": user_id, "state": as_json_value(state), "updated_at": now}
    if direct(conn):
        await rows(conn, upsert, params, _DRAFT_KEYS)
    else:
        await conn.execute(upsert, params)


async def load_draft(session: AsyncSession, *, channel: str, user_id: str) -> dict[str, Any] | None:
    """The saved state of this user's draft, or None."""
    query = select(Draft.state).where(Draft.channel == channel, Draft.user_id == user_id)
    return (await session.scalars(query)).one_or_none()


async def delete_draft(session: AsyncSession | AsyncConnection, *, channel: str, user_id: str) -> bool:
    """Forget this user's draft; whether there was one."""
    result = await session.execute(
        delete(DRAFTS).where(DRAFTS.c.channel == channel, DRAFTS.c.user_id == user_id).returning(DRAFTS.c.user_id)
    )
    return result.first() is not None


async def purge_drafts(session: AsyncSession, *, before: datetime, channel_suffix: str | None = None) -> int:
    """Delete drafts untouched since `before` (they may hold names), only those under channels ending
    `channel_suffix` if given; how many went."""
    query = delete(Draft).where(Draft.updated_at < before)
    if channel_suffix is not None:
        query = query.where(Draft.channel.endswith(channel_suffix, autoescape=True))
    result = await session.execute(query.returning(Draft.user_id), execution_options={"synchronize_session": False})
    return len(result.all())
