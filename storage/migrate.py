"""Bring a database's schema up to date, safely at every start (storage/migrations, by Alembic)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import create_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Any fixed number will do: two servers starting together take turns on this lock.
ADVISORY_LOCK = 0x5AFE_600D


def config(connection: Connection | None = None) -> Config:
    """Alembic's config, built in code so no alembic.ini is needed in the working directory."""
    cfg = Config()
    # ConfigParser would read a % in the path as interpolation.
    cfg.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    """The newest revision the code knows."""
    revision = ScriptDirectory.from_config(config()).get_current_head()
    assert revision is not None, "storage/migrations/versions has no revisions"
    return revision


async def upgrade(url: str) -> None:
    """Migrate the database at `url` to the newest revision; a no-op when it is there already."""
    engine = create_engine(url, keys=None)  # the schema only: no report text is read
    try:
        async with engine.connect() as connection:
            await _take_turn(connection)
            await connection.run_sync(lambda sync: command.upgrade(config(sync), "head"))
            await connection.commit()
            if connection.dialect.name == "sqlite":
                await _write_ahead(connection)
    finally:
        await engine.dispose()


async def current(url: str) -> str | None:
    """The revision the database at `url` is at, or None before the first migration."""
    engine = create_engine(url, keys=None)  # the schema only: no report text is read
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
    finally:
        await engine.dispose()


async def _take_turn(connection: AsyncConnection) -> None:
    # Migrate in one transaction that nobody else can migrate in at the same time, so two
    # processes starting together cannot both create the tables.
    if connection.dialect.name == "postgresql":
        await connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK})")
    elif connection.dialect.name == "sqlite":
        # The sqlite3 driver opens no transaction for DDL; this one also takes the write lock.
        await connection.exec_driver_sql("BEGIN IMMEDIATE")


async def _write_ahead(connection: AsyncConnection) -> None:
    """Keep a SQLite file in WAL mode (it stays so; every later connection uses it).

    In the default rollback-journal mode each commit creates, syncs and deletes a journal file
    (three syncs); in WAL mode it appends to the log and syncs once, and readers no longer wait
    for a writer. Measured with bench/ack.py (20 senders flat out): 53 Slack events a second
    became 96. `synchronous` stays FULL (storage/db.py), so a committed report survives a power cut.
    """
    await connection.exec_driver_sql("PRAGMA journal_mode=WAL")
