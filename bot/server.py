"""The aiohttp server: GET /healthz, /readyz and /metrics, POST /api/messages (Teams), and POST /slack/events when Slack is on."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlparse

from aiohttp import web
from sqlalchemy import text

from bot.app import STORE_ERRORS, App
from bot.examples import EXAMPLE_SCHOOL
from bot.channels.http_body import MAX_BODY_BYTES, TOO_BIG
from bot.metrics import endpoints as watch
from bot.scheduler import EVERY_SECONDS, Scheduler
from bot.channels.slack import SlackChannel
from bot.channels.slack.install import Install, install
from bot.channels.teams import TEAMS_KEY, TeamsSettings, add_teams_routes
from routing.yamlfields import InputError
from storage.alerts import CLAIM_SECONDS
from storage.crypto import Keyring, keys_from_env
from storage.sealed_reporters import Relay, relay_from_env
from storage.db import DEFAULT_URL

log = logging.getLogger(__name__)

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_PORT = 3978
# How often the server looks for alerts still to send (one queued by a restart, or a failed send).
OUTBOX_SECONDS = 10.0
SEND_TIMEOUT_SECONDS = 10.0
# /readyz turns 503 once a message has waited this long to be sent: the tightest acknowledgement
# deadline is 15 minutes (a child at immediate risk), so an alert older than that is already late.
READY_MAX_QUEUE_AGE = 900.0
# A bearer token shorter than this could be guessed; `python3 -c "import secrets; print(secrets.token_urlsafe(32))"`.
MIN_METRICS_TOKEN = 16


@dataclass(frozen=True)
class Settings:
    """The server's settings, read once from the environment at start-up and passed down."""

    slack_bot_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    # Socket Mode: an app-level token (xapp-...); Slack's requests then come over a socket we open.
    slack_app_token: str | None = field(default=None, repr=False)
    # One app installed in several workspaces (each school's own) through Slack's OAuth flow.
    slack_client_id: str | None = None
    slack_client_secret: str | None = field(default=None, repr=False)
    slack_api_url: str = DEFAULT_SLACK_API_URL
    database_url: str = DEFAULT_URL
    config: Path = EXAMPLE_SCHOOL
    port: int = DEFAULT_PORT
    outbox_seconds: float = OUTBOX_SECONDS
    # How long one call to Slack or the Bot Connector may take before it counts as failed.
    send_timeout: float = SEND_TIMEOUT_SECONDS
    # How long a sender holds the messages it took: after a crash, how soon another may send them.
    delivery_lease: float = CLAIM_SECONDS
    # How often the scheduler looks for escalations, LADO reminders and the digest; 0 turns it off.
    scheduler_seconds: float = EVERY_SECONDS
    teams: TeamsSettings = field(default_factory=TeamsSettings)
    # GET /metrics answers this machine, and a scraper elsewhere holding this token (bot/metrics/endpoints.py).
    metrics_token: str | None = field(default=None, repr=False)
    ready_max_queue_age: float = READY_MAX_QUEUE_AGE
    # SAFEGUARD_ENCRYPTION_KEY: what staff report is encrypted with it (storage/crypto.py).
    encryption_keys: Keyring | None = field(default=None, repr=False)
    # SAFEGUARD_RELAY_KEY: with it, a concern about a colleague may be sent without a name (storage/sealed_reporters.py).
    relay: Relay | None = field(default=None, repr=False)

    @property
    def slack(self) -> bool:
        """Whether Slack is on: a bot token with an app token (Socket Mode), or the signing secret with a bot
        token (one workspace) or the app's OAuth credentials."""
        if self.slack_app_token:
            return bool(self.slack_bot_token)
        return bool(self.slack_signing_secret and (self.slack_bot_token or self.slack_workspaces))

    @property
    def slack_workspaces(self) -> bool:
        """Whether the app is installed workspace by workspace (SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set)."""
        return bool(self.slack_client_id and self.slack_client_secret)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Settings from environment variables, checked; an InputError names the first one that is wrong."""
        token = env.get("SLACK_BOT_TOKEN", "").strip() or None
        secret = env.get("SLACK_SIGNING_SECRET", "").strip() or None
        port_text = env.get("PORT", "").strip() or str(DEFAULT_PORT)
        try:
            port = int(port_text)
        except ValueError:
            port = 0
        settings = cls(
            slack_bot_token=token,
            slack_signing_secret=secret,
            slack_app_token=env.get("SLACK_APP_TOKEN", "").strip() or None,
            slack_client_id=env.get("SLACK_CLIENT_ID", "").strip() or None,
            slack_client_secret=env.get("SLACK_CLIENT_SECRET", "").strip() or None,
            slack_api_url=env.get("SLACK_API_URL", "").strip() or DEFAULT_SLACK_API_URL,
            database_url=env.get("DATABASE_URL", "").strip() or DEFAULT_URL,
            config=Path(env.get("SAFEGUARD_CONFIG", "").strip() or EXAMPLE_SCHOOL),
            port=port,
            teams=TeamsSettings.from_env(env),
            outbox_seconds=_seconds(env, "SAFEGUARD_OUTBOX_SECONDS", OUTBOX_SECONDS),
            send_timeout=_seconds(env, "SAFEGUARD_SEND_TIMEOUT_SECONDS", SEND_TIMEOUT_SECONDS),
            delivery_lease=_seconds(env, "SAFEGUARD_DELIVERY_LEASE_SECONDS", CLAIM_SECONDS),
            scheduler_seconds=_seconds(env, "SAFEGUARD_SCHEDULER_SECONDS", EVERY_SECONDS),
            metrics_token=env.get("SAFEGUARD_METRICS_TOKEN", "").strip() or None,
            ready_max_queue_age=_seconds(env, "SAFEGUARD_READY_MAX_QUEUE_AGE", READY_MAX_QUEUE_AGE),
            encryption_keys=keys_from_env(env),
        )
        settings = replace(settings, relay=relay_from_env(env, settings.encryption_keys))
        if not 0 < port < 65536:
            raise InputError(f"PORT {port_text!r}: not a port number; use a number from 1 to 65535, e.g. {DEFAULT_PORT}")
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse settings that would only fail on the first request (an empty signing secret answers 500)."""
        self._check_socket_mode()
        self._check_workspaces()
        if self.slack_bot_token and not self.slack_signing_secret and not self.slack_app_token:
            raise InputError("SLACK_SIGNING_SECRET is empty: copy the Signing Secret from your Slack app's "
                             "Basic Information page, or set SLACK_APP_TOKEN to connect over Socket Mode, which "
                             "needs none (or unset SLACK_BOT_TOKEN to run without Slack)")
        if self.slack_signing_secret and not self.slack_bot_token and not self.slack_workspaces \
                and not self.slack_app_token:
            raise InputError("SLACK_BOT_TOKEN is empty: copy the Bot User OAuth Token (xoxb-...) from your Slack "
                             "app's OAuth & Permissions page, or, to install the app in each school's own "
                             "workspace, set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET instead "
                             "(or unset SLACK_SIGNING_SECRET to run without Slack)")
        if self.slack_bot_token and not self.slack_bot_token.startswith("xoxb-"):
            raise InputError("SLACK_BOT_TOKEN is not a bot token: it starts with xoxb- "
                             "(the Bot User OAuth Token on your Slack app's OAuth & Permissions page)")
        if self.metrics_token is not None and len(self.metrics_token) < MIN_METRICS_TOKEN:
            raise InputError(f"SAFEGUARD_METRICS_TOKEN is too short to keep /metrics private: use at least "
                             f"{MIN_METRICS_TOKEN} random characters, e.g. from "
                             "`python3 -c \"import secrets; print(secrets.token_urlsafe(32))\"`")
        url = urlparse(self.slack_api_url)
        if url.scheme not in ("http", "https") or not url.netloc:
            raise InputError(f"SLACK_API_URL {self.slack_api_url!r}: not a web address; "
                             f"leave it unset for {DEFAULT_SLACK_API_URL}")

    def _check_socket_mode(self) -> None:
        """An app-level token, with one workspace's bot token (and no signing secret needed)."""
        if not self.slack_app_token:
            return
        if not self.slack_app_token.startswith("xapp-"):
            raise InputError("SLACK_APP_TOKEN is not an app-level token: it starts with xapp- (make one with the "
                             "connections:write scope on your Slack app's Basic Information page, App-Level Tokens)")
        if self.slack_client_id or self.slack_client_secret:
            # Socket Mode here serves the one workspace of SLACK_BOT_TOKEN: an install in several
            # workspaces needs Slack to send each admin back to our address, which Socket Mode is for not having.
            raise InputError("SLACK_APP_TOKEN (Socket Mode) is set as well as SLACK_CLIENT_ID or SLACK_CLIENT_SECRET: "
                             "Socket Mode serves one workspace with its SLACK_BOT_TOKEN; unset SLACK_CLIENT_ID and "
                             "SLACK_CLIENT_SECRET (or unset SLACK_APP_TOKEN to install the app in several workspaces "
                             "over HTTPS)")
        if not self.slack_bot_token:
            raise InputError("SLACK_BOT_TOKEN is empty: Socket Mode (SLACK_APP_TOKEN) also needs the Bot User OAuth "
                             "Token (xoxb-...) from your Slack app's OAuth & Permissions page; no signing secret "
                             "is needed")

    def _check_workspaces(self) -> None:
        """The app's OAuth credentials come as a pair, with the signing secret, and instead of a bot token."""
        where = "your Slack app's Basic Information page (App Credentials)"
        if self.slack_client_id and not self.slack_client_secret:
            raise InputError(f"SLACK_CLIENT_SECRET is empty but SLACK_CLIENT_ID is set: copy the Client Secret from "
                             f"{where}, or unset SLACK_CLIENT_ID to use one workspace's SLACK_BOT_TOKEN")
        if self.slack_client_secret and not self.slack_client_id:
            raise InputError(f"SLACK_CLIENT_ID is empty but SLACK_CLIENT_SECRET is set: copy the Client ID from "
                             f"{where}, or unset SLACK_CLIENT_SECRET to use one workspace's SLACK_BOT_TOKEN")
        if not self.slack_workspaces:
            return
        if not self.slack_signing_secret:
            raise InputError(f"SLACK_SIGNING_SECRET is empty: copy the Signing Secret from {where}; Slack signs "
                             "every request with it (SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set)")
        if self.slack_bot_token:
            raise InputError("SLACK_BOT_TOKEN is set as well as SLACK_CLIENT_ID and SLACK_CLIENT_SECRET: with the "
                             "app installed in each workspace, each workspace's token comes from its install; "
                             "unset SLACK_BOT_TOKEN (or unset the other two to use that one workspace's token)")


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    """A positive number of seconds from the environment, or the default; an InputError names a bad one."""
    text_value = env.get(name, "").strip()
    if not text_value:
        return default
    try:
        seconds = float(text_value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < 86400:
        raise InputError(f"{name} {text_value!r}: not a number of seconds; use a number from 0.1 to 86399, "
                         f"or leave it unset for {default:g}")
    return seconds


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SLACK_KEY = web.AppKey("slack", SlackChannel)
APP_KEY = web.AppKey("app", App)


def build_server(app: App, settings: Settings) -> web.Application:
    """The aiohttp application: /healthz, /readyz, /metrics, and Slack's endpoint and outbox when Slack is on."""
    settings.check()
    # Counted outermost, so a request refused as too big or failed with a 5xx is counted as answered.
    server = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[watch.counted, answer_plainly])
    server[APP_KEY] = app
    server.router.add_get("/healthz", healthz)
    watch.add_routes(server, app, token=settings.metrics_token, max_queue_age=settings.ready_max_queue_age)
    if settings.slack:
        # In Socket Mode nothing is signed (Slack answers only on the socket our app token opened).
        slack = SlackChannel(app, token=settings.slack_bot_token, signing_secret=settings.slack_signing_secret or "",
                             api_url=settings.slack_api_url, send_timeout=settings.send_timeout,
                             install=_install(app, settings), app_token=settings.slack_app_token)
        slack.mount(server, outbox_seconds=settings.outbox_seconds)
        server[SLACK_KEY] = slack
    # Teams is always on: authenticated with MICROSOFT_APP_ID, else the Emulator's local mode.
    add_teams_routes(server, app, replace(settings.teams, outbox_seconds=settings.outbox_seconds,
                                          send_timeout=settings.send_timeout))
    if settings.scheduler_seconds > 0:
        server.cleanup_ctx.append(_scheduling(Scheduler(app, every=settings.scheduler_seconds)))
    return server


def _install(app: App, settings: Settings) -> Install | None:
    """With SLACK_CLIENT_ID and SLACK_CLIENT_SECRET: the app installed workspace by workspace, tokens in our database."""
    if not settings.slack_workspaces:
        return None
    assert settings.slack_client_id is not None and settings.slack_client_secret is not None
    # The schools whose workspaces the app serves: every school of the deployment.
    return install(app.trust.schools, app.sessions, client_id=settings.slack_client_id,
                   client_secret=settings.slack_client_secret)


def _scheduling(scheduler: Scheduler) -> Callable[[web.Application], AsyncIterator[None]]:
    """Run the scheduler while the server runs; its first round catches up on anything due while it was down."""
    async def context(server: web.Application) -> AsyncIterator[None]:
        scheduler.start()
        yield
        await scheduler.stop()

    return context


@web.middleware
async def answer_plainly(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse a body too big before reading it; answer what a handler did not expect, plainly, and log it.

    The channels answer bad input with a 4xx themselves; what reaches this is a fault of ours
    or of the database, so it is a 5xx (Slack and Teams then retry), never hidden as a 200.
    """
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return web.Response(status=413, text=TOO_BIG)
    try:
        return await handler(request)
    except web.HTTPRequestEntityTooLarge:  # a body sent without Content-Length, stopped by client_max_size
        return web.Response(status=413, text=TOO_BIG)
    except web.HTTPException:
        raise
    except STORE_ERRORS:
        log.exception("%s %s: the database did not answer", request.method, request.path)
        return web.Response(status=503, text="Safeguard cannot reach its database just now; try again shortly",
                            headers={"Retry-After": "30"})
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return web.Response(status=500, text="Safeguard could not handle this request; the error is in its log")


async def healthz(request: web.Request) -> web.Response:
    """GET /healthz: 200 when the database answers, 503 when it does not (for a load balancer)."""
    app = request.app[APP_KEY]
    try:
        async with app.sessions() as session:
            await session.execute(text("SELECT 1"))
    except STORE_ERRORS:
        log.exception("health check: the database did not answer")
        return web.json_response({"status": "unavailable", "database": False}, status=503)
    answer = {"status": "ok", "database": True, "slack": SLACK_KEY in request.app, "teams": TEAMS_KEY in request.app}
    socket = request.app[SLACK_KEY].socket if SLACK_KEY in request.app else None
    if socket is not None:
        # Behind a firewall, whether Slack can reach us at all is this connection.
        answer["slack_socket_connected"] = await socket.connected()
    return web.json_response(answer)
