"""Alembic's environment: migrate on the connection storage.migrate hands in, or on the URL given."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from storage.db import create_engine
from storage.models import Base
from storage.slack_tables import with_slack_tables

config = context.config
# Our models, and slack_sdk's own installation tables (migration 0011 creates them).
target_metadata = with_slack_tables(Base.metadata)


def url() -> str:
    """`-x url=...` on the alembic command line, else the ini file's sqlalchemy.url."""
    given = context.get_x_argument(as_dictionary=True).get("url")
    return given or config.get_main_option("sqlalchemy.url") or ""


def run_offline() -> None:
    """Print the SQL instead of running it (`alembic upgrade head --sql`)."""
    context.configure(url=url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_on(connection: Connection) -> None:
    """Run the migrations on an open connection (its transaction is the caller's)."""
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


async def run_on_url(url: str) -> None:
    """Run the migrations on a URL of our own (the `alembic` command line)."""
    engine = create_engine(url, keys=None)  # the schema only: no report text is read
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run_on)
    finally:
        await engine.dispose()


def run_online() -> None:
    """storage.migrate passes a connection in; the alembic command line passes a URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
    else:
        asyncio.run(run_on_url(url()))


if context.is_offline_mode():
    run_offline()
else:
    run_online()
