"""The Bot Framework side: the CloudAdapter, POST /api/messages as HTTP, and proactive sends and updates.

botbuilder's own `CloudAdapter.process` is not used for the HTTP exchange: it answers 500 to
junk (no Content-Type, bad JSON), to an Authorization header in anonymous mode, and to every
invoke that returns a body (4.17.1 serializes the body twice). `handle`
checks the request, authenticates it, runs the turn with `process_activity`, and writes the
invoke response itself, serialized once.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlparse

from aiohttp import web
from botbuilder.core import TurnContext  # type: ignore[import-untyped]
from botbuilder.integration.aiohttp import CloudAdapter  # type: ignore[import-untyped]
from botbuilder.schema import Activity, ActivityTypes, Attachment, ConversationReference  # type: ignore[import-untyped]
from msrest.serialization import Model

from bot.cases import preview
from bot.channels.http_body import BadBody, load_json, read_text
from bot.channels.teams.cards import CARD_CONTENT_TYPE, Answered, Card, render
from bot.channels.teams.send_once import SendOnceAuthentication
from dialogs import Reply
from bot.channels.teams.settings import TeamsSettings
from bot.channels.turns import parted

log = logging.getLogger(__name__)

Logic = Callable[[Any], Awaitable[None]]  # a turn's work, given botbuilder's TurnContext
# A personal chat's id in Teams runs to about 130 characters; an activity id to about 40.
REF_CHARS = 200
ID_CHARS = 1000  # far past any id Teams sends: not an id


class BadActivity(ValueError):
    """A request to /api/messages that is not an activity Safeguard can handle (answered with a 4xx)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class Connector:
    """The CloudAdapter and what Safeguard asks of it."""

    def __init__(self, settings: TeamsSettings, *, credentials_factory: object | None = None) -> None:
        self.settings = settings
        # A credentials factory is for tests of the authenticated mode (a fixed token, no call to Microsoft).
        # Its connector clients send each message once: a message in doubt is the outbox's to resend.
        auth = SendOnceAuthentication(settings.bot_config(), credentials_factory=credentials_factory)
        self.adapter = CloudAdapter(auth)

    async def handle(self, request: web.Request, logic: Logic) -> web.Response:
        """POST /api/messages: one activity from Teams (or the Emulator), answered as HTTP."""
        auth_header = request.headers.get("Authorization", "")
        try:
            if self.settings.anonymous:
                _check_anonymous(request, auth_header)
            activity = await _read_activity(request)
        except BadActivity as exc:
            return web.Response(status=exc.status, text=str(exc))
        try:
            authenticated = await self.adapter.bot_framework_authentication.authenticate_request(activity, auth_header)
        except Exception as exc:  # botbuilder raises PermissionError, but also plain Exception and network errors
            log.warning("a request to /api/messages was not authenticated: %s", exc)
            return web.Response(status=401, text="not authenticated")
        try:
            invoke = await self.adapter.process_activity(authenticated, activity, logic)
        except Exception:  # the turn catches its own errors; this is botbuilder failing around it
            log.exception("botbuilder could not process a %s activity", activity.type)
            return web.Response(status=503, text="Safeguard could not handle this activity just now")
        if invoke is None:
            return web.Response(status=200)
        body = invoke.body
        if isinstance(body, Model):  # serialized once, here (botbuilder's own path does it twice)
            body = body.serialize()  # type: ignore[no-untyped-call]
        status = int(invoke.status or 200)
        return web.Response(status=status) if body is None else web.json_response(body, status=status)

    async def send(self, reference: Mapping[str, Any], activities: Sequence[Any]) -> list[str]:
        """Send activities into a stored conversation (Teams lets a bot start none); their ids."""
        ids: list[str] = []

        async def logic(context: Any) -> None:
            # A new message, not a reply to the made-up activity botbuilder continues the chat with.
            context.activity.id = None
            for activity in activities:
                sent = await context.send_activity(activity)
                ids.append(str(getattr(sent, "id", "") or ""))

        await self.adapter.continue_conversation(restore(reference), logic, bot_app_id=self.settings.app_id)
        return ids

    async def update(self, reference: Mapping[str, Any], conversation_id: str, activity_id: str, card: Card,
                     shown: str) -> None:
        """Replace a message the bot sent earlier (an alert, once acknowledged), previewed as `shown`."""
        target = restore(reference)
        target.conversation.id = conversation_id  # the alert may be in an older chat than the one stored now

        async def logic(context: Any) -> None:
            replacement = card_activity(card, shown)
            replacement.id = activity_id
            await context.update_activity(replacement)

        await self.adapter.continue_conversation(target, logic, bot_app_id=self.settings.app_id)


def card_activity(card: Card, shown: str) -> Any:
    """A message carrying one Adaptive Card; `shown` (bot.cases.preview) is its summary, the chat list's preview."""
    return Activity(
        type=ActivityTypes.message,
        summary=shown,
        attachments=[Attachment(content_type=CARD_CONTENT_TYPE, content=card)],
    )


def card_activities(cards: Sequence[Card], shown: str) -> list[Any]:
    """A message per card (Teams' 28 KB limit is per message, so a long view is several), each previewed as `shown`."""
    return [card_activity(card, shown) for card in cards]


def reply_activities(replies: Sequence[Reply], answered: Answered | None = None) -> list[Any]:
    """Replies as the messages that show them, previewed by bot.cases.preview (never by their words)."""
    return card_activities(render(replies, answered), preview.of_replies(replies))


def turn_activities(replies: Sequence[Reply], answered: Answered | None = None) -> list[Any]:
    """A dialog turn's replies as messages (a warning apart: bot.channels.turns), the answer just taken atop the first."""
    parts = parted(replies) or ([[]] if answered is not None else [])
    return [activity for number, part in enumerate(parts)
            for activity in reply_activities(part, answered if number == 0 else None)]


def reference_of(activity: Any) -> dict[str, Any]:
    """Where an incoming activity's conversation is, as JSON to store."""
    serialized: dict[str, Any] = TurnContext.get_conversation_reference(activity).serialize()
    return serialized


def restore(reference: Mapping[str, Any]) -> Any:
    """A stored conversation reference, as botbuilder takes it."""
    return ConversationReference().deserialize(dict(reference))


def external_ref(conversation_id: str, activity_id: str) -> str:
    """How a sent alert is found again (AlertDelivery.external_ref): its chat and its id."""
    both = f"{activity_id} {conversation_id}"
    # Too long for the column: keep the id; the person's stored chat is then used to find it.
    return both if len(both) <= REF_CHARS else activity_id[:REF_CHARS]


def parse_external_ref(value: str) -> tuple[str, str | None]:
    """The activity id and, if kept, the conversation id of a sent alert."""
    activity_id, _, conversation_id = value.partition(" ")
    return activity_id, conversation_id or None


# Fields botbuilder reads as text and puts into addresses (the reply goes to
# serviceUrl/v3/conversations/{conversation.id}/activities/{id}): msrest passes an object through
# as it came, so one there is refused rather than sent on.
TEXT_FIELDS = ("type", "id", "serviceUrl", "channelId", "replyToId", "name", "action", "text", "textFormat", "locale")
PARTY_TEXT_FIELDS = ("id", "name", "aadObjectId", "conversationType", "tenantId", "role")


async def _read_activity(request: web.Request) -> Any:
    if request.content_type != "application/json":
        raise BadActivity(415, "send the activity as application/json")
    try:
        body = load_json(await read_text(request))
    except BadBody as exc:
        raise BadActivity(exc.status, str(exc)) from None
    if not isinstance(body, dict):
        raise BadActivity(400, "the request body is not an activity")
    wrong = _wrong_field(body)
    if wrong is not None:
        raise BadActivity(400, f"the activity's {wrong}")
    try:
        activity = Activity().deserialize(body)
    except Exception:  # msrest raises DeserializationError and, for odd shapes, TypeError or AttributeError
        raise BadActivity(400, "the request body is not an activity") from None
    if not isinstance(activity.type, str) or not activity.type:
        raise BadActivity(400, "the activity has no type")
    if not _web_address(activity.service_url or ""):
        raise BadActivity(400, "the activity has no serviceUrl to answer to")
    if activity.conversation is None or not activity.conversation.id:
        raise BadActivity(400, "the activity has no conversation id")
    if activity.from_property is None or not activity.from_property.id:
        raise BadActivity(400, "the activity has no sender (from.id)")
    return activity


def _wrong_field(body: Mapping[str, Any]) -> str | None:
    """The first field that should be text and is not (`conversation.id is not text`), if any."""
    for name in TEXT_FIELDS:
        if body.get(name) is not None and not isinstance(body[name], str):
            return f"{name} is not text"
    for party in ("from", "recipient", "conversation"):
        value = body.get(party)
        if isinstance(value, dict):
            for name in PARTY_TEXT_FIELDS:
                if value.get(name) is not None and not isinstance(value[name], str):
                    return f"{party}.{name} is not text"
    # Ids go into the reply's address (a NUL there, or one past a server's 8 KB line, made the reply
    # itself fail) and into the database.
    conversation = body.get("conversation")
    ids = {"id": body.get("id"), "replyToId": body.get("replyToId"),
           "conversation.id": conversation.get("id") if isinstance(conversation, dict) else None}
    for name, found in ids.items():
        if isinstance(found, str) and not (found.isprintable() and len(found) <= ID_CHARS):
            return f"{name} is not an id (a control character, or over {ID_CHARS:,} characters)"
    return None


def _web_address(text: str) -> bool:
    """Whether `text` is an http(s) address botbuilder can send to (no spaces, a host, a real port)."""
    if any(char.isspace() or not char.isprintable() for char in text):
        return False
    try:
        url = urlparse(text)
        _ = url.port  # raises ValueError for a port that is not a number
    except ValueError:  # `http://[::1` (an unclosed IPv6 address)
        return False
    return url.scheme in ("http", "https") and bool(url.hostname)


def _check_anonymous(request: web.Request, auth_header: str) -> None:
    """Anonymous mode trusts whoever calls, so it answers only this machine, and only unsigned requests."""
    if auth_header:
        # Signed traffic reaching an anonymous server means the Azure Bot and this server disagree:
        # say so, rather than fail to validate it (botbuilder would answer 500).
        raise BadActivity(401, "this server runs without MICROSOFT_APP_ID (anonymous local mode), so it cannot "
                               "check a signed request: set MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD, or clear "
                               "the App ID and password in the Bot Framework Emulator")
    try:
        peer = ipaddress.ip_address(request.remote or "")
    except ValueError:
        peer = None
    # A dual-stack listener sees 127.0.0.1 as ::ffff:127.0.0.1.
    mapped = getattr(peer, "ipv4_mapped", None)
    local = peer is not None and (mapped or peer).is_loopback
    if not local:
        # Anyone who can reach an unauthenticated bot could report, or acknowledge, as anyone.
        raise BadActivity(403, "anonymous mode (no MICROSOFT_APP_ID) answers requests from this machine only")
