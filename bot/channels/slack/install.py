"""One Slack app in several workspaces: the install flow, each workspace's bot token, and whose events reach whom.

A trust whose schools each have their own Slack workspace installs the app in every one of
them through Slack's OAuth flow (GET /slack/install, then Slack sends the installer back to
GET /slack/oauth_redirect). slack_sdk's own SQLAlchemy installation store keeps each
workspace's bot token in our database (storage/slack_tables.py), encrypted under the
deployment's key (bot/channels/slack/sealed_store.py), and its state store the OAuth `state`
of an install under way.

Every call to Slack then goes as the bot of one workspace: the workspace an event came from,
or the workspace of the school an alert is for. Which one is "the workspace at hand", held in
a context variable: set by a bolt middleware for a listener, and by the outbox around each
message it sends. A client with no workspace at hand sends no token, so Slack refuses the
call: nothing is ever sent into one workspace with another's token.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.oauth.async_callback_options import AsyncCallbackOptions, AsyncFailureArgs, AsyncSuccessArgs
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.channels.slack.sealed_store import SealedInstallationStore
from routing.school import Person, School

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
# The bot scopes the app asks for when a workspace installs it: manifest/slack/manifest.yaml's.
BOT_SCOPES = ("chat:write", "commands", "files:read", "files:write", "im:history", "im:write", "users:read",
              "users:read.email")
# How long an install link stays good: an IT admin may take a while over Slack's consent page.
STATE_SECONDS = 600
NOT_INSTALLED = ("Safeguard is not installed in this Slack workspace yet, so it cannot take a report here. "
                 "Please ask your school's IT administrator to install it (they open /slack/install on the "
                 "Safeguard server). If a child is in immediate danger, call 999. Meanwhile, tell your "
                 "Designated Safeguarding Lead in person.")


@dataclass(frozen=True)
class Workspace:
    """A Slack workspace and its bot's token, from the installation store."""

    team_id: str
    bot_token: str | None


# The workspace whose bot the current listener or send speaks as (None: no token at all).
AT_HAND: ContextVar[Workspace | None] = ContextVar("slack_workspace", default=None)


class WorkspaceClient(AsyncWebClient):
    """A Web API client that calls as the bot of the workspace at hand, and never as another's."""

    @property
    def token(self) -> str | None:
        """The bot token of the workspace at hand; None (Slack answers not_authed) when none is."""
        here = AT_HAND.get()
        return here.bot_token if here is not None else None

    @token.setter
    def token(self, value: str | None) -> None:
        """Ignored: a client for many workspaces has no token of its own (slack_sdk sets one as it starts)."""


@contextlib.contextmanager
def speaking_in(workspace: Workspace) -> Iterator[Workspace]:
    """Make `workspace` the one at hand for the calls inside the block."""
    reset = AT_HAND.set(workspace)
    try:
        yield workspace
    finally:
        AT_HAND.reset(reset)


def team_at_hand() -> str | None:
    """The team id of the workspace at hand, if any."""
    here = AT_HAND.get()
    return here.team_id if here is not None else None


class Workspaces:
    """The schools of each workspace, and each workspace's bot, found in slack_sdk's installation store."""

    def __init__(self, schools: Sequence[School], store: AsyncSQLAlchemyInstallationStore) -> None:
        self.store = store
        self.schools: dict[str, tuple[School, ...]] = {}
        for school in schools:
            if school.slack_team is not None:
                self.schools[school.slack_team] = self.schools.get(school.slack_team, ()) + (school,)
        # Within a workspace, its Slack user ids are its people's: the schools named against it only.
        self._people: dict[str, dict[str, Person]] = {
            team: {p.slack: p for school in named for p in school.everyone if p.slack is not None}
            for team, named in self.schools.items()
        }

    def person(self, slack_id: str | None) -> Person | None:
        """The person with this Slack user id among the schools of the workspace at hand (else nobody)."""
        team = team_at_hand()
        if team is None or not slack_id:
            return None
        return self._people.get(team, {}).get(slack_id)

    async def of(self, school: School) -> Workspace | None:
        """The workspace of a school, with its bot's token; None if the school names none or it is not installed."""
        if school.slack_team is None:
            return None
        bot = await self.store.async_find_bot(enterprise_id=None, team_id=school.slack_team)
        if bot is None or not bot.bot_token:
            return None
        return Workspace(school.slack_team, bot.bot_token)


class InstalledAuthorize(AsyncInstallationStoreAuthorize):
    """bolt's authorization from the installation store; a workspace without an installation is logged by its id."""

    async def __call__(self, *, context: AsyncBoltContext, enterprise_id: str | None, team_id: str | None,
                       user_id: str | None, actor_enterprise_id: str | None = None, actor_team_id: str | None = None,
                       actor_user_id: str | None = None) -> AuthorizeResult | None:
        found = await super().__call__(context=context, enterprise_id=enterprise_id, team_id=team_id, user_id=user_id,
                                       actor_enterprise_id=actor_enterprise_id, actor_team_id=actor_team_id,
                                       actor_user_id=actor_user_id)
        if found is None:
            # The team id only: whoever wrote is not ours to name in a log.
            log.warning("a request from Slack workspace %s, where Safeguard is not installed, was answered "
                        "with how to install it", team_id)
        return found


def engine_of(sessions: async_sessionmaker[AsyncSession]) -> AsyncEngine:
    """The engine our sessions use: slack_sdk's stores take an engine, and share our database and pool."""
    engine = sessions.kw.get("bind")
    assert isinstance(engine, AsyncEngine), "the sessionmaker is bound to an AsyncEngine (storage.db.sessionmaker)"
    return engine


@dataclass(frozen=True)
class Install:
    """The OAuth side of one app in many workspaces: the stores, bolt's settings, and the schools per workspace."""

    settings: AsyncOAuthSettings
    authorize: InstalledAuthorize
    workspaces: Workspaces


def install(schools: Sequence[School], sessions: async_sessionmaker[AsyncSession], *, client_id: str,
            client_secret: str) -> Install:
    """slack_sdk's SQLAlchemy stores on our database, and bolt's OAuth settings over them."""
    engine = engine_of(sessions)
    store = SealedInstallationStore(client_id=client_id, engine=engine, logger=log)
    states = AsyncSQLAlchemyOAuthStateStore(expiration_seconds=STATE_SECONDS, engine=engine, logger=log)
    settings = AsyncOAuthSettings(
        client_id=client_id, client_secret=client_secret, scopes=list(BOT_SCOPES), user_scopes=[],
        install_path=INSTALL_PATH, redirect_uri_path=REDIRECT_PATH,
        # Straight on to Slack's consent page: our own page would only hold a button to it.
        install_page_rendering_enabled=False,
        installation_store=store, installation_store_bot_only=True, state_store=states,
        state_expiration_seconds=STATE_SECONDS, callback_options=AsyncCallbackOptions(success=_installed, failure=_not_installed),
        logger=log,
    )
    # Bot tokens only (no user token is asked for); each token's auth.test is asked once, not per event.
    authorize = InstalledAuthorize(logger=log, installation_store=store, client_id=client_id,
                                   client_secret=client_secret, bot_only=True, cache_enabled=True)
    return Install(settings, authorize, Workspaces(schools, store))


def at_hand_middleware(workspaces: Workspaces) -> Callable[..., Awaitable[BoltResponse | None]]:
    """A bolt middleware (after authorization): the request's workspace is the one at hand for its listener.

    A workspace that no school config names is logged by its id; its people are then nobody's,
    and the listener answers them as it answers anyone it does not know.
    """
    async def middleware(context: AsyncBoltContext, next: Callable[[], Awaitable[BoltResponse]]) -> BoltResponse:
        team = context.team_id or ""
        if team not in workspaces.schools:
            log.warning("a request from Slack workspace %s, which no school config names (slack_team)", team)
        AT_HAND.set(Workspace(team, context.bot_token))
        return await next()

    return middleware


async def _installed(args: AsyncSuccessArgs) -> BoltResponse:
    """The install is stored: log the workspace by its id, and show bolt's page (it opens Slack)."""
    log.info("Safeguard was installed in Slack workspace %s", args.installation.team_id)
    return await args.default.success(args)


async def _not_installed(args: AsyncFailureArgs) -> BoltResponse:
    """The install did not complete (cancelled, a stale link, a code Slack refused): log why, show bolt's page."""
    log.warning("a Slack install did not complete: %s", args.reason)
    return await args.default.failure(args)


def add_install_routes(server: web.Application, flow: AsyncOAuthFlow) -> None:
    """GET /slack/install (on to Slack's consent page, with a state) and GET /slack/oauth_redirect (back from it)."""
    async def installation(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await flow.handle_installation(_bolt_request(request)))

    async def callback(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await flow.handle_callback(_bolt_request(request)))

    server.router.add_get(INSTALL_PATH, installation)
    server.router.add_get(REDIRECT_PATH, callback)


def _bolt_request(request: web.Request) -> AsyncBoltRequest:
    """A GET as bolt reads it: the query string and the headers (its state cookie); no body."""
    return AsyncBoltRequest(body="", query=request.query_string, headers=dict(request.headers))
