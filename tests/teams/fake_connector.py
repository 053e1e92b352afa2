"""FakeBotConnector: the Bot Framework's Connector API as far as Safeguard uses it, on 127.0.0.1, recording calls."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Sent:
    """One call the bot made: send (a new message), reply (to a message), or update (replace a message)."""

    kind: str
    conversation_id: str
    activity_id: str | None
    activity: dict[str, Any]
    id: str = ""
    authorization: str | None = None

    @property
    def plain(self) -> str:
        """The message's own text (not a card's)."""
        return str(self.activity.get("text") or "")

    @property
    def images(self) -> list[dict[str, Any]]:
        """The inline images it carried (attachments with an image content type)."""
        return [a for a in self.activity.get("attachments") or [] if str(a.get("contentType", "")).startswith("image/")]

    @property
    def cards(self) -> list[dict[str, Any]]:
        """The Adaptive Cards it carried."""
        return [a["content"] for a in self.activity.get("attachments") or []
                if a.get("contentType") == "application/vnd.microsoft.card.adaptive"]

    def text(self) -> str:
        """Every piece of text it showed, one per line."""
        return "\n".join(str(node.get("text", "")) for node in nodes(self.cards, ("TextRun", "TextBlock")))

    def actions(self) -> list[dict[str, Any]]:
        """Every action on its cards (Action.Submit and Action.ShowCard, nested ones too)."""
        return nodes(self.cards, ("Action.",))

    def action(self, title: str) -> dict[str, Any]:
        """The action with this title."""
        matching = [a for a in self.actions() if a.get("title") == title]
        assert matching, f"no action {title!r}; the card has {[a.get('title') for a in self.actions()]}"
        return matching[0]

    def inputs(self) -> list[dict[str, Any]]:
        """Every input on its cards."""
        return nodes(self.cards, ("Input.",))


def nodes(node: Any, kinds: tuple[str, ...]) -> list[dict[str, Any]]:
    """The objects in a card whose type starts with one of `kinds`, in document order."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if str(node.get("type", "")).startswith(kinds):
            found.append(node)
        for value in node.values():
            found += nodes(value, kinds)
    elif isinstance(node, list):
        for value in node:
            found += nodes(value, kinds)
    return found


@dataclass
class HostedAttachment:
    """An image someone sent in a 1:1 chat, served at its contentUrl on the connector's host."""

    data: bytes
    content_type: str
    hits: list[str | None] = field(default_factory=list)  # the Authorization header of each request for it


@dataclass
class FakeBotConnector:
    """Answers like the Bot Connector service: activities posted, replied to and updated get ids."""

    sent: list[Sent] = field(default_factory=list)
    # Calls answered with an error instead, as (HTTP status, error code), in order.
    failures: list[tuple[int, str, int | None]] = field(default_factory=list)
    stalls: list[float] = field(default_factory=list)
    refused: list[Sent] = field(default_factory=list)
    drops: int = 0  # how many of the next new messages or replies are taken, then their connections dropped
    dropped: list[Sent] = field(default_factory=list)
    # Images people sent, served at /v3/attachments/{id}/views/original (the contentUrl Teams gives a bot).
    attachments: dict[str, HostedAttachment] = field(default_factory=dict)
    # The bot token an attachment needs; None in anonymous local mode, where the bot has no token to give.
    attachment_token: str | None = None
    origin: str = ""
    _numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def application(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation}/activities", self.post)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self.post)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self.put)
        app.router.add_get("/v3/attachments/{attachment}/views/{view}", self.attachment)
        return app

    def image(self, data: bytes, content_type: str = "image/png", *, url: str | None = None) -> dict[str, Any]:
        """An image pasted into a 1:1 chat, as the activity's attachment names it (its contentUrl on this host)."""
        ident = f"0-wus-d{next(self._numbers)}-screenshot"
        self.attachments[ident] = HostedAttachment(data, content_type)
        return {"contentType": "image/*", "contentUrl": url or f"{self.origin}/v3/attachments/{ident}/views/original"}

    def attachment_hits(self) -> int:
        """How many times any image sent was asked for."""
        return sum(len(a.hits) for a in self.attachments.values())

    async def attachment(self, request: web.Request) -> web.Response:
        """GET an image sent in a chat (with the bot's token, where it has one)."""
        found = self.attachments.get(request.match_info["attachment"])
        if found is None:
            return web.json_response({"error": {"code": "NotFound"}}, status=404)
        found.hits.append(request.headers.get("Authorization"))
        if self.attachment_token is not None and request.headers.get("Authorization") != f"Bearer {self.attachment_token}":
            return web.json_response({"error": {"code": "Unauthorized"}}, status=401)
        return web.Response(body=found.data, content_type=found.content_type)

    def fail_next(self, status: int = 400, code: str = "BadArgument", *, retry_after: int | None = None) -> None:
        """Refuse the next new message or reply as the Bot Connector does: `status` and `{"error": {"code": ...}}`.

        With `retry_after`, the answer carries a Retry-After header (as a 429 does).
        """
        self.failures.append((status, code, retry_after))

    def stall_next(self, seconds: float) -> None:
        """Answer the next new message or reply only after `seconds` (longer than the bot waits: a time-out)."""
        self.stalls.append(seconds)

    def drop_next(self, count: int = 1) -> None:
        """Take the next `count` new messages or replies (they are shown), then drop each connection unanswered."""
        self.drops += count

    def received(self) -> list[Sent]:
        """Every new message or reply the bot sent, taken or refused, in order: what reached the connector."""
        return sorted([s for s in [*self.sent, *self.refused] if s.kind != "update"], key=lambda s: int(s.id.rsplit("-", 1)[1]))

    def to(self, conversation_id: str, kind: str | None = None) -> list[Sent]:
        """What was sent into one conversation (of one kind)."""
        return [s for s in self.sent if s.conversation_id == conversation_id and kind in (None, s.kind)]

    async def wait_for(self, match: Callable[[Sent], bool], *, timeout: float = 10.0) -> Sent:
        """Poll (bounded) until a matching call arrived: alerts go out after the turn that caused them."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            found = next((s for s in self.sent if match(s)), None)
            if found is not None:
                return found
            if asyncio.get_running_loop().time() > deadline:
                seen = [(s.kind, s.conversation_id, s.text()[:60]) for s in self.sent]
                raise AssertionError(f"waited {timeout}s; the connector got: {seen}")
            await asyncio.sleep(0.01)

    async def wait_in(self, conversation_id: str, words: str, *, kind: str | None = None) -> Sent:
        """Poll (bounded) until something showing `words` was sent into a conversation."""
        return await self.wait_for(lambda s: s.conversation_id == conversation_id and kind in (None, s.kind)
                                   and words in s.text())

    async def post(self, request: web.Request) -> web.Response:
        activity = await request.json()
        replying = request.match_info.get("activity")
        sent = Sent("reply" if replying else "send", request.match_info["conversation"], replying, activity,
                    id=f"bot-activity-{next(self._numbers)}", authorization=request.headers.get("Authorization"))
        if self.stalls:
            await asyncio.sleep(self.stalls.pop(0))
        if self.failures:
            status, code, retry_after = self.failures.pop(0)
            self.refused.append(sent)
            return web.json_response({"error": {"code": code, "message": f"refused by the fake ({code})"}},
                                     status=status,
                                     headers={"Retry-After": str(retry_after)} if retry_after is not None else None)
        self.sent.append(sent)
        if self.drops:
            self.drops -= 1
            self.dropped.append(sent)
            assert request.transport is not None
            request.transport.close()  # shown in the chat; the bot never hears so
        return web.json_response({"id": sent.id})

    async def put(self, request: web.Request) -> web.Response:
        activity_id = request.match_info["activity"]
        sent = Sent("update", request.match_info["conversation"], activity_id, await request.json(), id=activity_id,
                    authorization=request.headers.get("Authorization"))
        self.sent.append(sent)
        return web.json_response({"id": activity_id})
