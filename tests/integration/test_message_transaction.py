"""A reporter's message is one trip to the database: the draft read and written back on one connection.

Every message every reporter sends runs this, so its cost is the server's cost per event
(bench/ack.py): the draft and the roster's stamp are read in one statement, and the stepped
draft written back in the same transaction, where there were three sessions.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import CONSOLE
from bot.cases import conversation
from tests.builders import Clock
from tests.integration.console import Terminal, console_app

REPORTER = "cfinch"


@contextmanager
def counted(engine: AsyncEngine) -> Iterator[dict[str, list[Any]]]:
    """The connections taken from the pool and the statements run while the block runs."""
    seen: dict[str, list[Any]] = {"connections": [], "statements": []}

    def checkout(*_args: Any) -> None:
        seen["connections"].append(1)

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        seen["statements"].append(sql.split()[0].upper())

    event.listen(engine.sync_engine.pool, "checkout", checkout)
    event.listen(engine.sync_engine, "before_cursor_execute", statement)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine.pool, "checkout", checkout)
        event.remove(engine.sync_engine, "before_cursor_execute", statement)


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

