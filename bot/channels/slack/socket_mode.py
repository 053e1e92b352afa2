"""Slack Socket Mode: Safeguard connects out to Slack, so a school needs no public address.

With SLACK_APP_TOKEN (an app-level token, `xapp-...`) the same bolt app and listeners take
Slack's events, interactions and slash commands from a WebSocket that Safeguard opens itself
(slack-bolt's aiohttp adapter, over slack_sdk's Socket Mode client): nothing reaches in, so a
school's firewall, proxy and certificates stay as they are. The URL of the socket comes from
`apps.connections.open` on SLACK_API_URL; the client answers Slack's pings, and reconnects when
Slack asks it to (a `disconnect` envelope) or the connection drops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aiohttp
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import SLACK, STORE_ERRORS
from bot.channels.http_body import has_lone_surrogate
from bot.channels.inbound import InboundLedger
from bot.channels.slack.shape import ID_CHARS, problem
from routing.yamlfields import InputError

log = logging.getLogger(__name__)
# slack_sdk's client logs every message it receives at DEBUG, words and all; what staff type must
# never reach a log (only references and roles do), so its logger stops at INFO whatever the root says.
CLIENT_LOG = logging.getLogger(f"{__name__}.client")
CLIENT_LOG.setLevel(logging.INFO)

# How often the client pings Slack; a connection silent for four of these is replaced.
PING_SECONDS = 10.0
# What Slack answers apps.connections.open with a token that cannot open a socket: a wrong token
# (or revoked), a bot token given as SLACK_APP_TOKEN, an app-level token without connections:write.
REFUSED = {"invalid_auth", "not_authed", "token_revoked", "account_inactive", "not_allowed_token_type",
           "missing_scope"}
# Envelopes an event id does not cover: each is handled once by its envelope id instead.
BY_ENVELOPE = ("interactive", "slash_commands")


class Handler(AsyncSocketModeHandler):
    """bolt's Socket Mode handler, with the checks every Slack request gets over HTTP, and each envelope once."""

    def __init__(self, bolt: AsyncApp, app_token: str, ledger: InboundLedger, *,
                 web_client: AsyncWebClient, ping_interval: float) -> None:
        super().__init__(bolt, app_token, logger=CLIENT_LOG, web_client=web_client, ping_interval=ping_interval)
        self.ledger = ledger

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        wrong = problem(req.payload)
        if wrong is None and has_lone_surrogate(req.payload):
            wrong = "it holds text that is not Unicode (a lone surrogate escape)"
        if wrong is not None:
            # Acknowledged, so Slack does not send it again; our listeners would only raise on it.
            log.warning("a Slack %s envelope was refused: the payload is not as Slack sends it: %s", req.type, wrong)
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            return
        if await self._seen(req):
            log.info("Slack %s envelope %s was handled already: acknowledged, not run again", req.type, req.envelope_id)
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            return
        await super().handle(client, req)

    async def _seen(self, req: SocketModeRequest) -> bool:
        """Whether this interaction or command envelope came before (events go by their event id, in bolt)."""
        envelope = req.envelope_id
        if req.type not in BY_ENVELOPE or not isinstance(envelope, str) or not envelope.isprintable() \
                or not 0 < len(envelope) <= ID_CHARS - len("envelope:"):
            return False
        try:
            return await self.ledger.seen(SLACK, f"envelope:{envelope}")
        except STORE_ERRORS:
            log.exception("could not record Slack envelope %s; handling it anyway", envelope)
            return False


class SocketMode:
    """One Socket Mode connection to Slack for the server's lifetime: opened at start-up, closed at shutdown."""

    def __init__(self, bolt: AsyncApp, app_token: str, ledger: InboundLedger, *,
                 ping_interval: float = PING_SECONDS) -> None:
        self.bolt, self.app_token, self.ledger, self.ping_interval = bolt, app_token, ledger, ping_interval
        self.handler: Handler | None = None
        self._connecting: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Ask Slack for a socket (an InputError if it refuses the token), then connect in the background.

        Slack unreachable at start-up is not fatal: the client keeps trying, and meanwhile the
        outbox holds alerts and Teams and /healthz are served.
        """
        # Made here, in the running loop: slack_sdk's client starts a task and a session when made.
        handler = self.handler = Handler(self.bolt, self.app_token, self.ledger, web_client=self.bolt.client,
                                         ping_interval=self.ping_interval)
        try:
            handler.client.wss_uri = await handler.client.issue_new_wss_url()
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "")
            if error in REFUSED:
                await self.stop()
                raise InputError(f"Slack refused SLACK_APP_TOKEN ({error}): make an app-level token with the "
                                 "connections:write scope on your Slack app's Basic Information page "
                                 "(App-Level Tokens) and turn Socket Mode on") from None
            log.warning("Slack did not open a Socket Mode connection (%s); trying again", error)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.warning("could not reach Slack to open a Socket Mode connection (%s); trying again",
                        type(exc).__name__)
        # slack_sdk leaves connect and close untyped.
        self._connecting = asyncio.create_task(handler.client.connect(),  # type: ignore[no-untyped-call]
                                               name="slack-socket-mode")

    async def connected(self) -> bool:
        """Whether the socket is open now (for /healthz)."""
        return self.handler is not None and await self.handler.client.is_connected()

    async def stop(self) -> None:
        """Close the socket: Slack sends nothing more here (a second server, or this one restarted, takes it)."""
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connecting
        if self.handler is not None:
            await self.handler.client.close()  # type: ignore[no-untyped-call]
            self.handler = None
