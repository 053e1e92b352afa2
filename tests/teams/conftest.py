"""The Teams rig: a migrated database (SQLite, and PostgreSQL when TEST_DATABASE_URL is set), the fake Bot
Connector and our server, both on ephemeral ports of 127.0.0.1, and a school config with Teams ids."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import CONSOLE, TEAMS, App
from bot.channels.teams import TEAMS_KEY, TeamsSettings, add_teams_routes
from routing.trust import load_deployment
from storage.sealed_reporters import Relay
from tests.builders import Clock, example_school_with_ids
from tests.integration.conftest import database_url, engine, migrated_templates, sessions  # noqa: F401 (fixtures)
from tests.teams.fake_connector import FakeBotConnector
from tests.teams.rig import CONFIG_TEAMS_IDS, Rig

RigFactory = Callable[..., Awaitable[Rig]]


@pytest.fixture
def school_file(tmp_path: Path) -> Path:
    """The example school, with a (fictional) Teams id for everyone."""
    return example_school_with_ids(tmp_path / "school.yaml", "teams", CONFIG_TEAMS_IDS)


@pytest.fixture
async def fake_connector() -> AsyncIterator[tuple[FakeBotConnector, str]]:
    """The fake Bot Connector on an ephemeral port; yields it and its base URL."""
    fake = FakeBotConnector()
    server = TestServer(fake.application(), host="127.0.0.1")
    await server.start_server()
    fake.origin = str(server.make_url("")).rstrip("/")
    yield fake, fake.origin
    await server.close()


@pytest.fixture
async def make_rig(sessions: async_sessionmaker[AsyncSession], school_file: Path,  # noqa: F811
                   fake_connector: tuple[FakeBotConnector, str]) -> AsyncIterator[RigFactory]:
    """Start our server with Teams routes (its outbox round every `outbox_seconds`) against the fake."""
    fake, fake_url = fake_connector
    started: list[tuple[TestServer, Rig]] = []
    http = aiohttp.ClientSession()

    async def make(*, outbox_seconds: float = 3600.0, relay: Relay | None = None) -> Rig:
        clock = Clock()
        # A school config, or a trust's (a test may give one as its `school_file`): every school is served.
        deployment = load_deployment(school_file)
        app = App(deployment.schools[0], sessions, channels=(TEAMS, CONSOLE), clock=clock, deployment=deployment,
                  relay=relay)
        web_app = web.Application()
        add_teams_routes(web_app, app, TeamsSettings(outbox_seconds=outbox_seconds))
        server = TestServer(web_app, host="127.0.0.1")
        await server.start_server()
        rig = Rig(str(server.make_url("")).rstrip("/"), fake, fake_url, app, web_app[TEAMS_KEY], http, clock)
        started.append((server, rig))
        return rig

    yield make
    for server, rig in started:
        await rig.teams.idle()
        await server.close()
    await http.close()


@pytest.fixture
async def rig(make_rig: RigFactory) -> Rig:
    """Our server against the fake connector, its outbox looping only hourly (tests see what a request causes)."""
    return await make_rig()
