"""The Slack channel: a slack-bolt AsyncApp on our aiohttp server, its Web API client, and its outbox."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.internals import parse_body
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import App
from bot.channels.http_body import BadBody, has_lone_surrogate, read_text
from bot.channels.inbound import InboundLedger
from bot.channels.slack.handlers import Handlers
from bot.channels.slack.host import Registered
from bot.channels.slack.ids import EVENTS_PATH
from bot.channels.slack.install import NOT_INSTALLED, Install, WorkspaceClient, add_install_routes, at_hand_middleware
from bot.channels.slack.outbox import Outbox
from bot.channels.slack.posting import web_client
from bot.channels.slack.retries import skip_handled_events
from bot.channels.slack.shape import problem
from bot.channels.slack.socket_mode import SocketMode
from bot.channels.work import DRAIN_SECONDS, InFlight
from routing.school import Person

log = logging.getLogger(__name__)

# How long one call to Slack may take before it counts as failed (and is tried again later).
SEND_TIMEOUT_SECONDS = 10.0
# Events come as JSON; commands, shortcuts and interactions as a form (with a JSON `payload`).
SLACK_TYPES = ("application/json", "application/x-www-form-urlencoded")


class SlackChannel:
    """Everything Slack: the bolt app and its listeners, the Web API client, the outbox, the directory."""

    def __init__(self, app: App, *, token: str | None, signing_secret: str, api_url: str,
                 send_timeout: float = SEND_TIMEOUT_SECONDS, install: Install | None = None,
                 app_token: str | None = None) -> None:
        self.app = app
        self.send_timeout = send_timeout
        # Installed in several workspaces (`install`), every call goes as the bot of the workspace
        # at hand, with its token from the installation store; else as the one bot of `token`.
        kind = AsyncWebClient if install is None else WorkspaceClient
        # A reply to someone mid-conversation waits as Slack asks (it allows about one message a
        # second per channel) rather than being dropped. The outbox has a client of its own that
        # does not wait inside a call: it defers its messages until Slack's Retry-After instead.
        # Neither sends a message again when Slack's answer is lost (bot/channels/slack/posting.py).
        self.client = web_client(token, api_url, timeout=send_timeout, rate_limit_retries=2, kind=kind)
        outbox_client = web_client(token, api_url, timeout=send_timeout, kind=kind)
        self.install = install
        if install is None:
            # No `authorize=`: bolt asks auth.test once, on the first request, who the bot is.
            self.bolt = AsyncApp(signing_secret=signing_secret, client=self.client, name="safeguard",
                                 request_verification_enabled=False)
        else:
            self.bolt = AsyncApp(signing_secret=signing_secret, client=self.client, name="safeguard",
                                 request_verification_enabled=False, oauth_settings=install.settings,
                                 # bolt takes an AsyncAuthorize here too (it checks for one), though typed as a callable.
                                 authorize=install.authorize,  # type: ignore[arg-type]
                                 user_facing_authorize_error_message=NOT_INSTALLED)
            self.bolt.middleware(at_hand_middleware(install.workspaces))
        # Every request reaches bolt through `handle`, which checks Slack's signature before anything
        # else (or over Socket Mode, where nothing is signed), so bolt's own check of the same HMAC is
        # off: it was a second verification of every event (bench/ack.py).
        # No signing secret in Socket Mode: nothing is posted to us to sign.
        self.verifier = SignatureVerifier(signing_secret) if signing_secret else None
        self.outbox = Outbox(app, outbox_client, workspaces=install.workspaces if install is not None else None)
        self.people: dict[str, Person] = {p.slack: p for p in app.staff if p.slack is not None}
        self.registered = Registered()
        self._locks: dict[str, asyncio.Lock] = {}
        self._work = InFlight()
        self.inbound = InboundLedger(app.sessions)
        handlers = Handlers(self)
        # A DM typed to the bot is taken before the ack, its event id recorded in the dialog step's own
        # transaction (bot/channels/slack/typed.py); every other event's id goes to the ledger first.
        self.bolt.middleware(handlers.typed.middleware)
        self.bolt.middleware(skip_handled_events(self.inbound))
        handlers.register()
        # With an app-level token, Slack's requests come over a socket we open (no signing secret
        # then: the socket is opened with the token, and only Slack can answer on it).
        self.socket = SocketMode(self.bolt, app_token, self.inbound) if app_token is not None else None

    def person(self, slack_id: str | None) -> Person | None:
        """The person with this Slack user id: of the school, or, in several workspaces, of the workspace's schools."""
        if self.install is not None:
            return self.install.workspaces.person(slack_id)
        return self.people.get(slack_id or "")

    def lock(self, person_id: str) -> asyncio.Lock:
        """One message at a time per person, so two quick taps cannot both answer the same question."""
        return self._locks.setdefault(person_id, asyncio.Lock())

    def working(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Count a listener at work, so shutdown (and a test) can wait for it to finish."""
        return self._work.working()

    def later(self, key: str, work: Callable[[], Awaitable[None]]) -> None:
        """Do `work` once Slack has its answer, counted as work, after what was left to do under `key` before."""
        self._work.later(key, work)

    async def idle(self, timeout: float = DRAIN_SECONDS) -> bool:
        """Wait until no listener is at work; False if some still were after `timeout` seconds."""
        return await self._work.idle(timeout)

    async def handle(self, request: web.Request) -> web.Response:
        """POST /slack/events: events, commands, shortcuts and interactions, all signed by Slack.

        bolt parses a body before it checks the signature, and raises (answering 500) on much that
        is not Slack's, so everything is checked here first: its type (415), its encoding (400),
        its signature and timestamp (401), that it parses (400), and that its fields have the
        types Slack sends (400).
        """
        if request.content_type not in SLACK_TYPES:
            return web.Response(status=415, text="Slack sends application/json or application/x-www-form-urlencoded")
        try:
            body = await read_text(request)
        except BadBody as exc:
            return exc.response()
        if not self._signed(body, request.headers.get("X-Slack-Request-Timestamp", ""),
                            request.headers.get("X-Slack-Signature", "")):
            return web.Response(status=401, text="invalid request")
        try:
            parsed = parse_body(body, request.content_type)  # bolt's own parser, as bolt will run it below
        except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
            return web.Response(status=400, text="the request body could not be read")
        wrong = problem(parsed)
        if wrong is None and has_lone_surrogate(parsed):
            wrong = "it holds text that is not Unicode (a lone surrogate escape)"
        if wrong is not None:
            log.warning("a signed Slack request was refused: %s", wrong)
            return web.Response(status=400, text=f"the request is not as Slack sends it: {wrong}")
        # The content type without its parameters, so that bolt parses the body just as it was checked.
        headers = {name: value for name, value in request.headers.items() if name.lower() != "content-type"}
        try:
            bolt_request = AsyncBoltRequest(body=body, query=request.query_string,
                                            headers={**headers, "Content-Type": request.content_type})
        except (ValueError, LookupError, AttributeError, TypeError):  # bolt reading a shape the check let by
            log.warning("bolt could not read a signed Slack request", exc_info=True)
            return web.Response(status=400, text="the request body could not be read")
        return await to_aiohttp_response(await self.bolt.async_dispatch(bolt_request))

    def _signed(self, body: str, timestamp: str, signature: str) -> bool:
        """Whether Slack signed `body`, within the last five minutes (slack_sdk's check, made total)."""
        # slack_sdk raises, rather than answering False, on a timestamp that is not a number and
        # on a signature that is not ASCII; neither comes from Slack.
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12) or not signature.isascii():
            return False
        if self.verifier is None:
            return False
        return self.verifier.is_valid(body, timestamp, signature)

    def mount(self, server: web.Application, *, outbox_seconds: float) -> None:
        """Serve POST /slack/events on `server` (and the install flow, in several workspaces), or connect over
        Socket Mode; run the outbox."""
        if self.socket is None:
            server.router.add_post(EVENTS_PATH, self.handle)
        if self.bolt.oauth_flow is not None:
            add_install_routes(server, self.bolt.oauth_flow)
        server.cleanup_ctx.append(self._running(outbox_seconds))

    def _running(self, every: float) -> Callable[[web.Application], AsyncIterator[None]]:
        async def running(_server: web.Application) -> AsyncIterator[None]:
            # One HTTP session for every call to Slack while the server runs: without it slack_sdk
            # opens a connection (a TLS handshake, to the real Slack) for each call. bolt hands the
            # listeners' clients the same session. slack_sdk takes the time-out from the session then.
            session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.send_timeout))
            self.client.session = self.outbox.client.session = session
            if self.socket is not None:
                try:
                    await self.socket.start()
                except BaseException:
                    await session.close()
                    raise
            stop = asyncio.Event()
            loop = asyncio.create_task(self.outbox.run(every, stop), name="slack-outbox")
            yield
            if self.socket is not None:
                await self.socket.stop()  # nothing new comes in while the work under way finishes
            if not await self.idle():
                log.warning("stopping with Slack listeners still at work")
            # Let a round under way finish (an alert posted but not yet marked would go twice).
            stop.set()
            try:
                await asyncio.wait_for(loop, DRAIN_SECONDS)
            except TimeoutError:
                log.warning("stopped the Slack outbox in the middle of a round")
            await session.close()

        return running


__all__ = ["Registered", "SlackChannel"]
