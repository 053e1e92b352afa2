"""The Teams rig: our server's /api/messages over real HTTP, and people of the example school in Teams.

Activities are shaped as Teams sends them (channelId msteams, personal conversations, from.id and
from.aadObjectId), unsigned: the server runs in anonymous mode, as with the Bot Framework Emulator.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot.app import App
from bot.channels.teams import TeamsChannel
from tests.builders import Clock
from tests.teams.fake_connector import FakeBotConnector, Sent

BOT = {"id": "28:safeguard-test-bot", "name": "Safeguard"}
TENANT = "00000000-0000-4000-8000-0000000a0a0a"
# Fictional ids. Half the school config names people by their Entra object id, half by their Teams user id.
AAD = {pid: f"00000000-0000-4000-8000-{n:012d}" for n, pid in enumerate(
    ("jellis", "smorgan", "rpatel", "tokafor", "hbrooks", "dwilde", "cfinch", "lnwosu"), 1)}
CONFIG_TEAMS_IDS = {pid: (AAD[pid] if n % 2 else f"29:1{pid}-teams") for n, pid in enumerate(AAD)}
_ids = itertools.count(1)


@dataclass
class Rig:
    """Our server, the fake Bot Connector it answers through, the app, and an HTTP client."""

    url: str
    fake: FakeBotConnector
    fake_url: str
    app: App
    teams: TeamsChannel
    http: aiohttp.ClientSession
    clock: Clock

    def user(self, person_id: str, *, known: bool = True) -> User:
        """Someone in Teams: a person of the school config, or (known=False) a stranger."""
        return User(self, person_id, f"29:1{person_id}-teams" if known else f"29:1{person_id}-stranger",
                    AAD.get(person_id, "00000000-0000-4000-8000-999999999999") if known else
                    "00000000-0000-4000-8000-888888888888")


@dataclass
class User:
    """One person's 1:1 chat with the bot in Teams."""

    rig: Rig
    person_id: str
    teams_id: str
    aad: str
    conversation: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.conversation = {"id": f"a:1personal-chat-{self.person_id}", "conversationType": "personal",
                             "tenantId": TENANT}

    def activity(self, kind: str = "message", **fields: Any) -> dict[str, Any]:
        """An activity from this person, as Teams shapes it."""
        return {
            "type": kind, "id": f"1700000000{next(_ids):03d}", "timestamp": "2026-11-20T09:15:00.000Z",
            "channelId": "msteams", "serviceUrl": self.rig.fake_url + "/",
            "from": {"id": self.teams_id, "name": "Test Person", "aadObjectId": self.aad},
            "recipient": BOT, "conversation": self.conversation,
            "channelData": {"tenant": {"id": TENANT}}, "locale": "en-GB",
            **fields,
        }

    async def post(self, activity: dict[str, Any]) -> tuple[int, Any]:
        """POST an activity to /api/messages (no Authorization header: anonymous mode); the status and body."""
        async with self.rig.http.post(f"{self.rig.url}/api/messages", json=activity) as response:
            body = await response.json() if response.content_type == "application/json" else await response.text()
            return response.status, body

    async def send(self, activity: dict[str, Any]) -> list[Sent]:
        """POST an activity; what the bot sent into this chat while answering it (its replies).

        Not an alert updated in place: an acknowledgement refreshes the cards after the turn, and
        under load that can land while the turn's answer is still on its way.
        """
        before = len(self.rig.fake.sent)
        status, body = await self.post(activity)
        assert status == 200, (status, body)
        return [s for s in self.rig.fake.sent[before:]
                if s.conversation_id == self.conversation["id"] and s.kind != "update"]

    async def says(self, text: str) -> Sent:
        """Type a message; the bot's one reply."""
        replies = await self.send(self.activity(text=text))
        assert len(replies) == 1, [r.text() for r in replies]
        return replies[0]

    async def taps(self, action: dict[str, Any], reply_to: str | None = None, **inputs: Any) -> Sent:
        """Press an Action.Submit (filling in the card's inputs): Teams sends its data, with no text."""
        assert action["type"] == "Action.Submit", action
        extra = {"replyToId": reply_to} if reply_to else {}
        replies = await self.answers(action, reply_to, **inputs)
        assert len(replies) == 1, [r.text() for r in replies]
        return replies[0]

    async def answers(self, action: dict[str, Any], reply_to: str | None = None, **inputs: Any) -> list[Sent]:
        """Press an Action.Submit; every message the bot answered with."""
        assert action["type"] == "Action.Submit", action
        extra = {"replyToId": reply_to} if reply_to else {}
        return await self.send(self.activity(value={**action["data"], **inputs}, **extra))

    async def installs(self) -> list[Sent]:
        """Add the app in Teams: installationUpdate, then conversationUpdate with the bot as the member added."""
        await self.send(self.activity("installationUpdate", action="add"))
        return await self.send(self.activity("conversationUpdate", membersAdded=[{"id": BOT["id"]}]))
