"""A hot path's statements on SQLite, each one trip to aiosqlite's thread instead of four.

aiosqlite runs SQLite on a thread of its own, and SQLAlchemy's adapter makes a statement four
calls to it (a cursor, execute, fetch, close), each a hand-over between threads and a wake-up
of the event loop: a Slack message's three statements and commit were twelve trips, and the
hand-overs, the wake-ups and SQLAlchemy's work around each statement were about a third of the
server's CPU per event (bench/ack.py). aiosqlite's public `execute_fetchall` runs a statement and
fetches its rows in one call.

Only the trips change: the statement is one we built and SQLAlchemy compiled (once) for this
dialect, it runs on the connection SQLAlchemy's pool handed out, inside the transaction that
SQLAlchemy begins and commits, and every value goes through its column's own type on the way
in and out (the draft's encryption, the timestamps' time zone). SQLAlchemy's statement events
do not see these statements; the SQLite connection's own trace does (tests count with it).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class Compiled:
    """A statement compiled once for a dialect: its SQL, and how to bind its parameters and read its rows."""

    compiled: SQLCompiler
    names: tuple[str, ...]  # the parameters in the order of the SQL's question marks
    binds: tuple[Processor, ...]
    results: tuple[Processor, ...]


# By statement and engine (each engine's dialect carries its own keyring): statements are built once, at import.
_COMPILED: dict[tuple[int, int], Compiled] = {}


def direct(conn: AsyncConnection) -> bool:
    """Whether `conn` is SQLite through aiosqlite, where statements can go straight to its thread."""
    return conn.dialect.name == "sqlite" and conn.dialect.driver == "aiosqlite"


def _compile(statement: Executable, dialect: Dialect, keys: Sequence[str]) -> Compiled:
    assert isinstance(statement, ClauseElement)
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    assert isinstance(compiled, SQLCompiler) and compiled.positiontup is not None, "a qmark dialect"
    names = tuple(compiled.positiontup)
    # Each type as this dialect has it (SQLite's own DATETIME and JSON), as SQLAlchemy would bind and read it.
    binds = tuple(compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names)
    selected = getattr(statement, "selected_columns", ())  # an INSERT's RETURNING is given back as SQLite has it
    results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None) for column in selected)
    return Compiled(compiled, names, binds, results)


async def rows(conn: AsyncConnection, statement: Executable, params: Mapping[str, Any],
               keys: Sequence[str] = ()) -> list[tuple[Any, ...]]:
    """Run `statement` (built once, at import) with `params` on `conn`'s SQLite connection in one trip; its rows.

    `keys`: for an INSERT, the columns given values (as SQLAlchemy's `column_keys`).
    """
    key = (id(statement), id(conn.dialect))
    compiled = _COMPILED.get(key)
    if compiled is None:
        compiled = _COMPILED[key] = _compile(statement, conn.dialect, keys)
    values = compiled.compiled.construct_params(dict(params))
    bound = [value if bind is None else bind(value)
             for bind, value in zip(compiled.binds, (values[name] for name in compiled.names), strict=True)]
    raw = await conn.get_raw_connection()
    try:
        fetched = await raw.driver_connection.execute_fetchall(compiled.compiled.string, bound)  # type: ignore[union-attr]
    except sqlite3.Error as exc:
        # As SQLAlchemy raises it (callers catch SQLAlchemyError), and without the values (a draft's words).
        raise DBAPIError.instance(compiled.compiled.string, None, exc, sqlite3.Error, hide_parameters=True) from exc
    if not compiled.results:
        return [tuple(row) for row in fetched]
    return [tuple(value if read is None else read(value) for read, value in zip(compiled.results, row, strict=True))
            for row in fetched]
