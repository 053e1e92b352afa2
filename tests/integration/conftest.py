"""Every storage test runs on SQLite (a temp file) and, when TEST_DATABASE_URL is set, on PostgreSQL."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from storage.db import create_engine, sessionmaker
from storage.migrate import upgrade
from tests.builders import TEST_KEYS
from tests.integration.console import Clock

NO_POSTGRES = (
    "PostgreSQL variant: set TEST_DATABASE_URL=postgresql+asyncpg://USER@HOST:PORT/DB to run it "
    "(each test then gets a database of its own, created and dropped on that server)"
)


@pytest.fixture(scope="session")
async def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[dict[str, str]]:
    """Databases migrated once per run, one per backend, that a test's `engine` database is a copy of.

    Migrating from nothing for every test cost most of the run's time; the migrations
    themselves are tested from nothing in test_migrations.py. PostgreSQL's template is made
    only when a test first asks for it.
    """
    path = tmp_path_factory.mktemp("template") / "safeguard.db"
    await upgrade(f"sqlite+aiosqlite:///{path}")
    templates = {"sqlite": str(path)}
    yield templates
    if "postgresql" in templates:
        await _admin(f'DROP DATABASE IF EXISTS "{templates["postgresql"]}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, migrated_templates: dict[str, str]
) -> AsyncIterator[str]:
    """The URL of a database that nothing else uses, dropped afterwards.

    It is empty, unless the test also uses `engine`: then it starts as a copy of the migrated template.
    """
    migrated = "engine" in request.fixturenames
    if request.param == "sqlite":
        path = tmp_path / "safeguard.db"
        if migrated:
            shutil.copyfile(migrated_templates["sqlite"], path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip(NO_POSTGRES)
    # A database per test: nothing left over from another test, or from another run at the same time.
    name = f"safeguard_test_{uuid.uuid4().hex[:12]}"
    template = f' TEMPLATE "{await _postgres_template(migrated_templates, base)}"' if migrated else ""
    await _admin(f'CREATE DATABASE "{name}"{template}')
    yield make_url(base).set(database=name).render_as_string(hide_password=False)
    await _admin(f'DROP DATABASE "{name}" WITH (FORCE)')


async def _admin(statement: str) -> None:
    admin = create_async_engine(os.environ["TEST_DATABASE_URL"], isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.exec_driver_sql(statement)
    finally:
        await admin.dispose()


async def _postgres_template(templates: dict[str, str], base: str) -> str:
    if "postgresql" not in templates:
        name = f"safeguard_template_{uuid.uuid4().hex[:12]}"
        await _admin(f'CREATE DATABASE "{name}"')
        await upgrade(make_url(base).set(database=name).render_as_string(hide_password=False))
        templates["postgresql"] = name
    return templates["postgresql"]


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a freshly migrated database of its own (see `database_url`)."""
    engine = create_engine(database_url, keys=TEST_KEYS)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions on the freshly migrated database."""
    return sessionmaker(engine)


@pytest.fixture
def clock() -> Clock:
    """A clock the test moves by hand, at a Friday morning in term."""
    return Clock()
