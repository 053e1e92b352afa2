"""Events' data is stored as the canonical JSON their hash covers, and verify hashes that text as it lies.

Verify checks the record, not the bytes the database keeps for it: data text that is not
canonical (written before issue 24 by json.dumps's defaults, or re-spaced since) is parsed and
encoded again, and verifies when its value is the one hashed; a different value is named.
The log is helpers.six_events: 1 created, 2 routed, 3 created, 4 acknowledged, 5 note_added, 6 viewed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from storage.log import VerifyResult, canonical, verify
from tests.integration.helpers import six_events, unguarded


async def stored_data(connection: AsyncConnection) -> dict[int, str]:
    """Each event's data as the database keeps its text."""
    cast = "data::text" if connection.dialect.name == "postgresql" else "data"
    rows: Any = await connection.exec_driver_sql(f"SELECT seq, {cast} FROM events ORDER BY seq")
    return {seq: data for seq, data in rows}


async def rewritten(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession],
                    write: Callable[[int, Any], str | None]) -> tuple[VerifyResult, dict[int, str]]:
    """six_events, then each event's data text replaced by `write(seq, value)` (None: left), and verified."""
    await six_events(sessions)
    async with engine.connect() as connection:
        before = await stored_data(connection)
        postgres = connection.dialect.name == "postgresql"
    statement = "UPDATE events SET data = CAST(:data AS json) WHERE seq = :seq" if postgres else \
        "UPDATE events SET data = :data WHERE seq = :seq"
    edits = {seq: write(seq, json.loads(data)) for seq, data in before.items()}
    await unguarded(engine, *(text(statement).bindparams(seq=seq, data=data)
                              for seq, data in edits.items() if data is not None))
    async with engine.connect() as connection:
        after = await stored_data(connection)
    async with sessions() as session:
        return await verify(session), after


async def test_data_is_stored_as_the_canonical_json_hashed(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> None:
    await six_events(sessions)
    async with engine.connect() as connection:
        stored = await stored_data(connection)
    assert len(stored) == 6
    assert all(data == canonical(json.loads(data)) for data in stored.values())
    assert stored[5] == '{"note":"Spoke to the class teacher (made-up)"}'


async def test_a_log_written_before_canonical_text_still_verifies(
        engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> None:
    # As SQLAlchemy's JSON type wrote it before: json.dumps's defaults, ", " and ": ", non-ASCII escaped;
    # and the keys in reverse, as a dict built in another order would have been.
    def old(_seq: int, value: Any) -> str:
        return json.dumps(dict(reversed(value.items())))

    result, stored = await rewritten(engine, sessions, old)
    assert all(data != canonical(json.loads(data)) for seq, data in stored.items() if json.loads(data))
    assert (result.ok, result.checked, result.problem) == (True, 6, "")


async def test_data_respaced_is_the_same_record(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> None:
    result, stored = await rewritten(engine, sessions, lambda seq, value: json.dumps(value, indent=2) if seq == 4 else None)
    assert "\n" in stored[4]
    assert (result.ok, result.checked) == (True, 6)


CHANGED_VALUES: dict[str, Callable[[Any], str]] = {
    "another person": lambda value: canonical({**value, "by": "dsl1"}),
    "a key added": lambda value: canonical({**value, "also": None}),
    "a number for a string": lambda value: canonical({key: 1 for key in value}),
    "the same text spaced, with a key changed": lambda value: json.dumps({**value, "by": "dsl1"}, indent=1),
}


@pytest.mark.parametrize("change", sorted(CHANGED_VALUES))
async def test_data_text_of_another_value_is_named(
        engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], change: str) -> None:
    result, _ = await rewritten(engine, sessions, lambda seq, value: CHANGED_VALUES[change](value) if seq == 4 else None)
    assert (result.ok, result.first_bad_seq, result.checked) == (False, 4, 3)
    assert result.problem == "event 4 (acknowledged, SG-2026-0001) was edited: its hash does not match"


async def test_the_next_fields_moved_into_the_data_text_are_named(
        engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> None:
    # The data's text carrying the fields after it, as if to split the hashed body another way.
    def swallowing(seq: int, value: Any) -> str | None:
        return canonical(value)[:-1] + ',"kind":"acknowledged","report":"SG-2026-0001","seq":4}' if seq == 4 else None

    result, stored = await rewritten(engine, sessions, swallowing)
    assert "seq" in json.loads(stored[4])
    assert (result.ok, result.first_bad_seq) == (False, 4)
    assert result.problem.endswith("was edited: its hash does not match")
