"""Engines and sessions for SQLite (a local file, the default) and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolResetState

from storage.crypto import Keyring
from storage.encrypted import attach_keyring

DEFAULT_URL = "sqlite+aiosqlite:///safeguard.db"
# SQLite has one writer at a time; the others wait this long for it rather than fail at once.
SQLITE_BUSY_TIMEOUT_SECONDS = 30
# Hosting platforms hand out plain URLs; these are the async drivers Safeguard ships with.
ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg"}


def database_url(url: str) -> URL:
    """`url` parsed, with a plain `sqlite://` or `postgresql://` given its async driver."""
    parsed = make_url(url)
    return parsed.set(drivername=ASYNC_DRIVERS.get(parsed.drivername, parsed.drivername))


def create_engine(
    url: str, *, keys: Keyring | None, busy_timeout: float = SQLITE_BUSY_TIMEOUT_SECONDS
) -> AsyncEngine:
    """An async engine for `url` (`sqlite+aiosqlite:///path` or `postgresql+asyncpg://...`).

    `keys` encrypt and decrypt report text (storage/encrypted.py); None for an engine that
    never touches it (migrations, the log export, the digest), which then cannot.
    `busy_timeout` is how long a SQLite write waits for another writer before failing.
    """
    parsed = database_url(url)
    # A failed statement's parameters would put what was reported into the error, and so into logs.
    if parsed.get_backend_name() != "sqlite":
        engine = create_async_engine(parsed, pool_pre_ping=True, hide_parameters=True)
        attach_keyring(engine.sync_engine.dialect, keys)
        return engine
    # SQLite has one writer at a time. Connections of one pool that race for it do not queue:
    # the losers sleep in SQLite's busy handler (1 ms, 2, 5 ... up to 100 ms a time), which under
    # load took most of the server's time (bench/ack.py: 96 events a second became 153 without
    # it). One connection per file makes this process's statements queue in order on the pool
    # instead; the busy timeout is left for other processes (a console beside the server).
    one_at_a_time = {} if parsed.database in (None, "", ":memory:") else {"pool_size": 1, "max_overflow": 0}
    # The pool's own reset rolls back every connection handed back to it, even one whose transaction
    # was just committed: on aiosqlite a trip to the database's thread and back for nothing, once per
    # transaction (bench/ack.py: one in ten of those trips for each Slack event). `rollback_if_open`
    # rolls back only a connection that is still in a transaction.
    engine = create_async_engine(parsed, connect_args={"timeout": busy_timeout}, hide_parameters=True,
                                 pool_reset_on_return=None, **one_at_a_time)
    attach_keyring(engine.sync_engine.dialect, keys)
    event.listen(engine.sync_engine, "reset", rollback_if_open)

    def pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # SQLite leaves foreign keys off unless each connection asks for them.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        # A report is stored before its reporter is told "sent": each commit is synced to disk
        # (in WAL mode, NORMAL would sync only at checkpoints, and a power cut could lose it).
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.close()

    event.listen(engine.sync_engine, "connect", pragmas)
    return engine


def rollback_if_open(dbapi_connection: Any, record: ConnectionPoolEntry, state: PoolResetState) -> None:
    """The pool's reset of a SQLite connection handed back: rolled back if a transaction is open, as the pool would."""
    if not state.asyncio_safe:
        return  # a connection being discarded outside the event loop is closed, not rolled back
    if getattr(record.driver_connection, "in_transaction", True):
        dbapi_connection.rollback()


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit (async code cannot lazy-load)."""
    return async_sessionmaker(engine, expire_on_commit=False)


def engine_of(sessions: async_sessionmaker[AsyncSession]) -> AsyncEngine:
    """The engine `sessions` are bound to, for a hot path that runs Core statements on a connection of its own."""
    bind = sessions.kw["bind"]
    if not isinstance(bind, AsyncEngine):
        raise TypeError("these sessions are not bound to an engine")
    return bind


def conflict_insert(session: AsyncSession, entity: type[Any]) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that can say ON CONFLICT, in the session's own dialect (both databases have it)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(entity)
    return sqlite.insert(entity)
