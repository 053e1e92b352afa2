"""A reporter's message is one trip to the database: the draft read and written back on one connection.

Every message every reporter sends runs this, so its cost is the server's cost per event
(bench/ack.py): the draft and the roster's stamp are read in one statement, and the stepped
draft written back in the same transaction, where there were three sessions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import CONSOLE
from bot.cases import conversation
from tests.builders import Clock
from tests.integration.console import Terminal, console_app

REPORTER = "cfinch"


@contextmanager
def counted(engine: AsyncEngine, *, besides: tuple[str, ...] = ()) -> Iterator[dict[str, list[Any]]]:
    """The connections taken from the pool, the statements the database was given and its commits while the block
    runs; on SQLite also the trips to aiosqlite's thread (each call it runs there, a hand-over each way).

    On SQLite they are counted as they reach aiosqlite, for the hot path's statements go there
    without SQLAlchemy (storage/sqlite_direct.py). Only on connections taken from the pool in the
    block, and not by the tasks named in `besides` (a server's own loops, which run when they will).
    """
    seen: dict[str, list[Any]] = {"connections": [], "statements": [], "commits": [], "trips": []}
    ours: set[int] = set()  # the driver connections taken in the block (by id), while they are out

    def checkout(_dbapi: Any, record: Any, _proxy: Any) -> None:
        task = asyncio.current_task()
        if task is None or task.get_name() not in besides:
            seen["connections"].append(1)
            ours.add(id(record.driver_connection))

    def checkin(_dbapi: Any, record: Any) -> None:
        ours.discard(id(record.driver_connection))

    def statement(conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if id(conn.connection.driver_connection) in ours:
            seen["statements"].append(sql.split()[0].upper())

    def commit(conn: Any) -> None:
        if id(conn.connection.driver_connection) in ours:
            seen["commits"].append(1)

    trip = aiosqlite.Connection._execute

    async def counted_trip(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if id(self) in ours:
            seen["trips"].append(getattr(fn, "__name__", "?"))
            if args and isinstance(args[0], str):
                seen["statements"].append(args[0].split()[0].upper())
            elif getattr(fn, "__name__", "") == "commit":
                seen["commits"].append(1)
        return await trip(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    sqlite = engine.dialect.name == "sqlite"
    pool = engine.sync_engine.pool
    event.listen(pool, "checkout", checkout)
    event.listen(pool, "checkin", checkin)
    if sqlite:
        aiosqlite.Connection._execute = counted_trip  # type: ignore[method-assign]
    else:
        event.listen(engine.sync_engine, "before_cursor_execute", statement)
        event.listen(engine.sync_engine, "commit", commit)
    try:
        yield seen
    finally:
        event.remove(pool, "checkout", checkout)
        event.remove(pool, "checkin", checkin)
        if sqlite:
            aiosqlite.Connection._execute = trip  # type: ignore[method-assign]
        else:
            event.remove(engine.sync_engine, "before_cursor_execute", statement)
            event.remove(engine.sync_engine, "commit", commit)


async def test_an_answer_reads_and_writes_its_draft_in_one_transaction(
        engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
    app = console_app(sessions, clock)
    terminal = Terminal(app, REPORTER)
    await conversation.message(app, channel=CONSOLE, user_id=REPORTER, text="hi")
    asked = await terminal.step()
    with counted(engine) as seen:
        replies = await conversation.message(app, channel=CONSOLE, user_id=REPORTER, text="1")
    assert replies and await terminal.step() not in (None, asked), "the answer was taken and saved"
    assert seen["connections"] == [1], "one connection, one transaction, for the whole message"
    assert seen["statements"] == ["SELECT", "INSERT"], "the draft and roster read at once, the draft written back"
    assert seen["commits"] == [1]
    if engine.dialect.name == "sqlite":
        assert len(seen["trips"]) == 3, f"one trip to aiosqlite's thread a statement, and the commit: {seen['trips']}"



async def test_a_committed_transaction_is_not_rolled_back_again_when_its_connection_goes_back(
        engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], clock: Clock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """On SQLite each call reaches the database's own thread and back: none is made for nothing."""
    if engine.dialect.name != "sqlite":
        pytest.skip("the pool's reset is SQLite's (aiosqlite's thread) only")
    rollbacks: list[int] = []
    rollback = aiosqlite.Connection.rollback

    async def counted_rollback(self: aiosqlite.Connection) -> None:
        rollbacks.append(1)
        await rollback(self)

    app = console_app(sessions, clock)
    await conversation.message(app, channel=CONSOLE, user_id=REPORTER, text="hi")  # the first connection made
    monkeypatch.setattr(aiosqlite.Connection, "rollback", counted_rollback)
    await conversation.message(app, channel=CONSOLE, user_id=REPORTER, text="1")
    await conversation.message(app, channel=CONSOLE, user_id=REPORTER, text="2")
    assert rollbacks == []
    # A transaction left open is still rolled back when its connection goes back to the pool.
    async with engine.connect() as conn:
        await conn.execute(text("DELETE FROM drafts"))
    assert rollbacks == [1]
    assert await Terminal(app, REPORTER).step() is not None, "the delete was not committed"
