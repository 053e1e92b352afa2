"""The Teams channel: POST /api/messages on our aiohttp server, the bot behind it, and its outbox."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from aiohttp import web

from bot.app import TEAMS, App
from bot.channels.inbound import InboundLedger
from bot.channels.teams.adapter import Connector
from bot.channels.teams.handlers import TeamsBot
from bot.channels.teams.outbox import Outbox
from bot.channels.teams.people import Directory, References
from bot.channels.teams.settings import TeamsSettings
from bot.channels.work import DRAIN_SECONDS, InFlight

log = logging.getLogger(__name__)

MESSAGES_PATH = "/api/messages"
class TeamsChannel:
    """Everything Teams: the adapter, the bot's turns, the people's chats, and the outbox."""

    def __init__(self, app: App, settings: TeamsSettings, *, credentials_factory: object | None = None) -> None:
        settings.check()
        self.app = app
        self.settings = settings
        self.connector = Connector(settings, credentials_factory=credentials_factory)
        self.directory = Directory(app)
        self.references = References(app)
        self.inbound = InboundLedger(app.sessions)
        self.outbox = Outbox(app, self.connector, self.references, send_timeout=settings.send_timeout)
        self.bot = TeamsBot(self)
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._work = InFlight()

    async def handle(self, request: web.Request) -> web.Response:
        """POST /api/messages."""
        return await self.connector.handle(request, self.bot.on_turn)

    def lock(self, person_id: str) -> asyncio.Lock:
        """One activity at a time per person, so two quick taps cannot both answer the same question."""
        return self._locks.setdefault(person_id, asyncio.Lock())

    def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run `work` after the turn (sending alerts must not hold up Teams' answer), counted for shutdown."""
        self._work.begin()

        async def run() -> None:
            try:
                await work
            except Exception:
                log.exception("Teams background work failed")
            finally:
                await self._work.end()

        task = asyncio.create_task(run())
        self._tasks.add(task)  # the loop keeps only a weak reference to a task
        task.add_done_callback(self._tasks.discard)

    async def after_acknowledge(self, reference: str) -> None:
        """Every Teams alert of the report shows the acknowledgement; then the reporter's news goes."""
        await self.outbox.refresh(reference)
        await self.outbox.deliver()

    def working(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Count a turn at work, so shutdown (and a test) can wait for it to finish."""
        return self._work.working()

    async def idle(self, timeout: float = DRAIN_SECONDS) -> bool:
        """Wait until no turn or send is at work; False if some still were after `timeout` seconds."""
        return await self._work.idle(timeout)

    def mount(self, server: web.Application) -> None:
        """Serve POST /api/messages on `server`, and run the outbox while it runs."""
        if TEAMS not in self.app.channels:
            log.warning("Teams is served but not among the app's channels, so no alert is queued for Teams")
        if self.settings.anonymous:
            log.warning("Teams runs in anonymous local mode (no MICROSOFT_APP_ID): for the Bot Framework Emulator "
                        "on this machine only, never for a real Teams tenant")
        server.router.add_post(MESSAGES_PATH, self.handle)
        server.cleanup_ctx.append(self._running())

    def _running(self) -> Callable[[web.Application], AsyncIterator[None]]:
        async def running(_server: web.Application) -> AsyncIterator[None]:
            every = self.settings.outbox_seconds
            loop = asyncio.create_task(self.outbox.run(every), name="teams-outbox") if every > 0 else None
            yield
            if not await self.idle():
                log.warning("stopping with Teams work still under way")
            if loop is not None:
                loop.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await loop

        return running


TEAMS_KEY = web.AppKey("teams", TeamsChannel)


def add_teams_routes(web_app: web.Application, app: App, settings: TeamsSettings) -> None:
    """Serve Teams on `web_app`: POST /api/messages, and the outbox sending alerts while the server runs."""
    teams = TeamsChannel(app, settings)
    teams.mount(web_app)
    web_app[TEAMS_KEY] = teams
