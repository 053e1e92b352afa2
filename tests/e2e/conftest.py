"""The e2e rig: a migrated database (SQLite, and PostgreSQL when TEST_DATABASE_URL is set), FakeSlack and
our server, both on ephemeral ports of 127.0.0.1, and a school config that gives everyone a Slack id."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import CONSOLE, SLACK, App
from bot.server import SLACK_KEY, Settings, build_server
from routing.trust import load_deployment
from storage.sealed_reporters import Relay
from tests.builders import example_school_with_ids
from tests.e2e.fake_slack import TOKEN, FakeSlack
from tests.e2e.fake_socket_mode import APP_TOKEN
from tests.e2e.slack_rig import SECRET, SLACK_IDS, Clock, Rig, SocketRig
from tests.integration.conftest import database_url, engine, migrated_templates, sessions  # noqa: F401 (fixtures)

RigFactory = Callable[..., Awaitable[Rig]]


@pytest.fixture
def school_file(tmp_path: Path) -> Path:
    """The example school, with a (fictional) Slack id for everyone."""
    return example_school_with_ids(tmp_path / "school.yaml", "slack", SLACK_IDS)


@pytest.fixture
async def fake_slack() -> AsyncIterator[tuple[FakeSlack, str]]:
    """FakeSlack on an ephemeral port; yields it and its base URL."""
    fake = FakeSlack()
    server = TestServer(fake.application(), host="127.0.0.1")
    await server.start_server()
    fake.origin = str(server.make_url("")).rstrip("/")
    yield fake, fake.origin
    await server.close()


@pytest.fixture
async def make_rig(sessions: async_sessionmaker[AsyncSession], school_file: Path,  # noqa: F811
                   fake_slack: tuple[FakeSlack, str]) -> AsyncIterator[RigFactory]:
    """Start our server (its outbox round every `outbox_seconds`, no scheduler rounds of its own) against FakeSlack."""
    fake, fake_url = fake_slack
    started: list[tuple[TestServer, Rig]] = []
    http = aiohttp.ClientSession()

    async def make(*, outbox_seconds: float = 3600.0, send_timeout: float = 10.0, relay: Relay | None = None,
                   socket_mode: bool = False, metrics_token: str | None = None,
                   ready_max_queue_age: float = 900.0) -> Rig:
        clock = Clock()
        # A school config, or a trust's (a test may give one as its `school_file`): every school is served.
        deployment = load_deployment(school_file)
        app = App(deployment.schools[0], sessions, channels=(SLACK, CONSOLE), clock=clock, deployment=deployment,
                  relay=relay)
        # The tests run the scheduler's rounds by hand, with the clock they move, as they do the outbox's.
        # Over Socket Mode (`socket_mode`), with an app-level token and no signing secret, as a school behind a firewall runs it.
        settings = Settings(slack_bot_token=TOKEN, slack_signing_secret=None if socket_mode else SECRET,
                            slack_app_token=APP_TOKEN if socket_mode else None, slack_api_url=f"{fake_url}/api/",
                            outbox_seconds=outbox_seconds, scheduler_seconds=0, send_timeout=send_timeout,
                            metrics_token=metrics_token, ready_max_queue_age=ready_max_queue_age)
        web_app = build_server(app, settings)
        server = TestServer(web_app, host="127.0.0.1")
        await server.start_server()
        kind = SocketRig if socket_mode else Rig
        rig = kind(str(server.make_url("")).rstrip("/"), fake, app, web_app[SLACK_KEY], http, clock, fake_url)
        started.append((server, rig))
        return rig

    yield make
    for server, rig in started:
        await rig.slack.idle()
        await server.close()  # stops the outbox loop, after letting listeners at work finish
    await http.close()


@pytest.fixture
async def socket_rig(make_rig: RigFactory) -> Rig:
    """Our server connected to FakeSlack over Socket Mode (no public address, no signing secret)."""
    return await make_rig(socket_mode=True)


@pytest.fixture
async def rig(make_rig: RigFactory) -> Rig:
    """Our server against FakeSlack, its outbox looping only hourly (tests see the sends a request causes)."""
    return await make_rig()
