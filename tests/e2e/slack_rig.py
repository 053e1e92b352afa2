"""The test rig: our server for real on 127.0.0.1, FakeSlack beside it, and staff phones that sign like Slack."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode

import aiohttp

from bot.app import App
from bot.channels.slack import SlackChannel
from tests.builders import START
from tests.e2e.fake_slack import BOT_USER, TEAM, Call, FakeSlack, dm_channel

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
APP_ID = "A0SAFEGUARD"
# Fictional Slack ids for the example school's fictional people.
SLACK_IDS = {
    "jellis": "U0JELLIS01", "smorgan": "U0SMORGAN1", "rpatel": "U0RPATEL01", "tokafor": "U0TOKAFOR1",
    "hbrooks": "U0HBROOKS1", "dwilde": "U0DWILDE01", "cfinch": "U0CFINCH01", "lnwosu": "U0LNWOSU01",
}
NOT_IN_DIRECTORY = "U0VISITOR1"
_numbers = itertools.count(1)


@dataclass
class Clock:
    """The app's time: a Friday morning in term, moved on by hand when a test needs time to pass.

    Not the real time: deadlines count school hours, so a test run in the evening would see a
    30-minute deadline fall due the next morning. Slack's own timestamps (signatures, event
    times) stay real, as Slack's would be.
    """

    offset: timedelta = timedelta(0)

    def __call__(self) -> datetime:
        return START + self.offset

    def advance(self, minutes: float) -> None:
        self.offset += timedelta(minutes=minutes)


async def eventually(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 10.0) -> None:
    """Poll `check` (bounded) until it holds: the server works after it has answered."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, f"waited {timeout}s for {what}"
        await asyncio.sleep(0.01)


def sign(body: str, timestamp: int, secret: str = SECRET) -> str:
    """X-Slack-Signature as Slack computes it: v0= HMAC-SHA256 of v0:{timestamp}:{body}."""
    return "v0=" + hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Answer:
    """Our server's HTTP answer."""

    status: int
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Rig:
    """Our server, FakeSlack, and a way to send signed requests as Slack would."""

    url: str
    fake: FakeSlack
    app: App
    slack: SlackChannel
    http: aiohttp.ClientSession
    clock: Clock
    fake_url: str = ""
    phones: dict[str, Phone] = field(default_factory=dict)

    async def post(self, body: str, *, content_type: str, timestamp: int | None = None, secret: str = SECRET,
                   headers: dict[str, str] | None = None, signature: str | None = None) -> Answer:
        """POST /slack/events, signed (unless told otherwise) exactly as Slack signs."""
        at = int(time.time()) if timestamp is None else timestamp
        sent = {"Content-Type": content_type, "X-Slack-Request-Timestamp": str(at),
                "X-Slack-Signature": signature if signature is not None else sign(body, at, secret), **(headers or {})}
        async with self.http.post(f"{self.url}/slack/events", data=body.encode(), headers=sent) as response:
            return Answer(response.status, await response.text())

    async def event(self, event: dict[str, Any], *, event_id: str | None = None, retry: int | None = None) -> Answer:
        """An Events API delivery (retried, with X-Slack-Retry-Num, when `retry` is given)."""
        envelope = {
            "token": "unused-legacy-token", "team_id": TEAM, "api_app_id": APP_ID, "event": event,
            "type": "event_callback", "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()), "is_ext_shared_channel": False,
            "authorizations": [{"enterprise_id": None, "team_id": TEAM, "user_id": BOT_USER, "is_bot": True,
                                "is_enterprise_install": False}],
        }
        headers = {} if retry is None else {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        return await self.post(json.dumps(envelope), content_type="application/json", headers=headers)

    async def interact(self, payload: dict[str, Any]) -> Answer:
        """An interaction (button, menu, shortcut, modal), form-encoded as `payload=` as Slack sends it."""
        return await self.post(urlencode({"payload": json.dumps(payload)}),
                               content_type="application/x-www-form-urlencoded")

    async def command(self, user: str, *, channel_id: str = "C0STAFFROOM", text: str = "",
                      name: str = "/report") -> Answer:
        """A slash command (`name`) typed by `user` in `channel_id`."""
        form = {
            "token": "unused-legacy-token", "team_id": TEAM, "team_domain": "oakfield", "channel_id": channel_id,
            "channel_name": "staffroom", "user_id": user, "user_name": user.lower(), "command": name,
            "text": text, "api_app_id": APP_ID, "is_enterprise_install": "false",
            "response_url": f"{self.fake_url}/response/{next(_numbers)}", "trigger_id": trigger_id(),
        }
        return await self.post(urlencode(form), content_type="application/x-www-form-urlencoded")

    def phone(self, person_id: str) -> Phone:
        """The Slack app of someone in the example school."""
        return self.phones.setdefault(person_id, Phone(self, person_id, SLACK_IDS[person_id]))


class BalancedRig(Rig):
    """Slack in front of several servers: each request goes to the next in turn, as a round-robin load balancer sends it."""

    def __init__(self, urls: list[str], fake: FakeSlack, http: aiohttp.ClientSession, fake_url: str = "") -> None:
        # No app or channel of its own: the servers run in processes of their own.
        super().__init__(urls[0], fake, cast(Any, None), cast(Any, None), http, Clock(), fake_url)
        self.urls = urls
        self.turn = 0

    async def post(self, body: str, **kwargs: Any) -> Answer:
        self.url = self.urls[self.turn % len(self.urls)]
        self.turn += 1
        return await super().post(body, **kwargs)


class SocketRig(Rig):
    """The Rig over Socket Mode: what Slack would POST to /slack/events goes as an envelope on the socket.

    Phones type, tap and pick exactly as over HTTP; the answer is the acknowledgement's payload.
    """

    async def post(self, body: str, *, content_type: str, timestamp: int | None = None, secret: str = "",
                   headers: dict[str, str] | None = None, signature: str | None = None) -> Answer:
        retry = (headers or {}).get("X-Slack-Retry-Num")
        if content_type == "application/json":
            ack = await self.fake.socket_mode.envelope("events_api", json.loads(body),
                                                  retry_attempt=int(retry) if retry else None)
        else:
            form = dict(parse_qsl(body, keep_blank_values=True))
            if "payload" in form:
                ack = await self.fake.socket_mode.envelope("interactive", json.loads(form["payload"]))
            else:
                ack = await self.fake.socket_mode.envelope("slash_commands", form)
        payload = ack.get("payload")
        return Answer(200, "" if payload is None else json.dumps(payload))


@dataclass
class Phone:
    """One person's Slack: their DM with the bot, and what they tap and type in it."""

    rig: Rig
    person_id: str
    user: str

    @property
    def dm(self) -> str:
        return dm_channel(self.user)

    def posts(self) -> list[Call]:
        """Every message the bot posted in this person's DM, oldest first."""
        return self.rig.fake.to("chat.postMessage", channel=self.dm)

    def latest(self) -> dict[str, Any]:
        """The bot's newest message in the DM, as Slack holds it now (updates included)."""
        posts = self.posts()
        assert posts, f"the bot has not written to {self.person_id}"
        return self.message_of(posts[-1])

    def message_of(self, call: Call) -> dict[str, Any]:
        """A message the bot posted, as Slack holds it now."""
        return self.rig.fake.messages[(self.dm, call.result["ts"])]

    def said(self) -> str:
        """All the bot told this person in the DM, as one string."""
        return "\n".join(c.text() for c in self.posts())

    async def wait_for_post(self, count: int) -> Call:
        """Wait (bounded) for the bot's `count`th message in this DM."""
        return (await self.rig.fake.wait_for("chat.postMessage", count, channel=self.dm))[count - 1]

    async def wait_for_said(self, words: str, timeout: float = 10.0) -> Call:
        """Wait (bounded) for a message in this DM that says `words`; that message."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not (found := [c for c in self.posts() if words in c.text()]):
            assert asyncio.get_running_loop().time() < deadline, f"{self.person_id} was never told {words!r}: {self.said()}"
            await asyncio.sleep(0.01)
        return found[-1]

    async def type(self, text: str, *, event_id: str | None = None) -> Call:
        """Type a message to the bot; the bot's answer."""
        before = len(self.posts())
        answer = await self.rig.event(self.message_event(text), event_id=event_id)
        assert answer.status == 200, answer
        return await self.wait_for_post(before + 1)

    def message_event(self, text: str) -> dict[str, Any]:
        ts = f"{time.time():.6f}"
        return {"type": "message", "channel": self.dm, "user": self.user, "text": text, "ts": ts, "event_ts": ts,
                "channel_type": "im", "client_msg_id": str(uuid.uuid4()), "team": TEAM}

    async def share(self, *files: dict[str, Any], text: str = "") -> list[Call]:
        """Share files in the DM (a file_share message, as Slack sends it); every message the bot answered with."""
        before = len(self.posts())
        event = {**self.message_event(text), "subtype": "file_share", "files": list(files)}
        answer = await self.rig.event(event)
        assert answer.status == 200, answer
        await self.wait_for_post(before + 1)
        await self.rig.slack.idle()
        return self.posts()[before:]

    async def tap(self, label: str, message: dict[str, Any] | None = None) -> Call:
        """Tap the button labelled `label` on the bot's newest message (or `message`); the bot's answer."""
        shown = message or self.latest()
        block, button = find_button(shown, label)
        before = len(self.posts())
        answer = await self.rig.interact(self.action_payload(shown, block, button))
        assert answer.status == 200, answer
        return await self.wait_for_post(before + 1)

    async def choose(self, name: str) -> Call:
        """Pick a colleague by name from the menu on the bot's newest message; the bot's answer."""
        shown = self.latest()
        for block in shown["blocks"]:
            for element in block.get("elements", []):
                if element.get("type") == "static_select":
                    options = element.get("options") or [o for g in element["option_groups"] for o in g["options"]]
                    option = next(o for o in options if o["text"]["text"] == name)
                    action = {"type": "static_select", "action_id": element["action_id"], "block_id": block["block_id"],
                              "selected_option": option, "action_ts": f"{time.time():.6f}"}
                    before = len(self.posts())
                    answer = await self.rig.interact(self.payload(shown, action))
                    assert answer.status == 200, answer
                    return await self.wait_for_post(before + 1)
        raise AssertionError(f"no colleague menu in {shown['blocks']}")

    def action_payload(self, message: dict[str, Any], block: dict[str, Any], button: dict[str, Any],
                       *, channel: str | None = None) -> dict[str, Any]:
        action = {"type": "button", "action_id": button["action_id"], "block_id": block["block_id"],
                  "text": button["text"], "value": button.get("value"), "action_ts": f"{time.time():.6f}"}
        return self.payload(message, action, channel=channel)

    def payload(self, message: dict[str, Any], action: dict[str, Any], *, channel: str | None = None) -> dict[str, Any]:
        """A block_actions payload for an action on a message in this person's DM (or in `channel`)."""
        where = channel or self.dm
        return {
            "type": "block_actions", "user": {"id": self.user, "username": self.person_id, "name": self.person_id,
                                              "team_id": TEAM},
            "api_app_id": APP_ID, "token": "unused-legacy-token",
            "container": {"type": "message", "message_ts": message["ts"], "channel_id": where, "is_ephemeral": False},
            "trigger_id": trigger_id(), "team": {"id": TEAM, "domain": "oakfield"}, "enterprise": None,
            "is_enterprise_install": False, "channel": {"id": where, "name": "directmessage"},
            "message": message, "state": {"values": {}},
            "response_url": f"{self.rig.fake_url}/response/{self.user}/{where}/{next(_numbers)}", "actions": [action],
        }

    def view_submission(self, view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        """What Slack sends when this person presses a modal's submit button."""
        return {
            "type": "view_submission", "team": {"id": TEAM, "domain": "oakfield"},
            "user": {"id": self.user, "username": self.person_id, "name": self.person_id, "team_id": TEAM},
            "api_app_id": APP_ID, "token": "unused-legacy-token", "trigger_id": trigger_id(),
            "view": {**view, "team_id": TEAM, "state": {"values": values}, "hash": "1790000000.abcdef",
                     "app_id": APP_ID, "bot_id": "B0SAFEBOT1", "root_view_id": view.get("id"),
                     "previous_view_id": None, "external_id": "", "app_installed_team_id": TEAM},
            "response_urls": [], "is_enterprise_install": False, "enterprise": None,
        }


def text_objects(call: Call) -> list[dict[str, Any]]:
    """Every Block Kit text object a call sent (in its blocks or its view), in order."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk([call.args.get("blocks"), call.args.get("view")])
    return found


def read_as_markup(call: Call) -> str:
    """What Slack parses for markup in a call: its notification text and its mrkdwn text objects."""
    texts = [str(call.args.get("text") or "")] + [t["text"] for t in text_objects(call) if t["type"] == "mrkdwn"]
    return "\n".join(texts)


def shown_literally(call: Call) -> str:
    """What a call asked Slack to show as typed: its plain_text objects."""
    return "\n".join(t["text"] for t in text_objects(call) if t["type"] == "plain_text")


def find_button(message: dict[str, Any], label: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The actions block and the button labelled `label` in a message."""
    for block in message.get("blocks", []):
        for element in block.get("elements", []):
            if element.get("type") == "button" and element["text"]["text"] == label:
                return block, element
    labels = [e["text"]["text"] for b in message.get("blocks", []) for e in b.get("elements", []) if e.get("type") == "button"]
    raise AssertionError(f"no {label!r} button; the buttons are {labels}")


def trigger_id() -> str:
    return f"{next(_numbers)}.1790000000.{uuid.uuid4().hex[:16]}"
