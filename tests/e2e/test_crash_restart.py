"""A real `safeguard serve` SIGKILLed at chosen points and started again: no report lost, every message shown once.

The points: mid-dialog (between a reporter's answers), between the commit of a report and
the send of its messages (Slack holds the first call of the send), and mid-send (Slack has
posted the alert, but the server dies before it hears so). After each restart the test
checks what each person's DM shows, as they would see it, and what the database holds.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import select

from storage.db import create_engine, sessionmaker
from storage.log import verify
from storage.models import AlertDelivery, Report
from tests.builders import TEST_KEY, TEST_KEYS
from tests.e2e.fake_slack import BOT_USER, TEAM, TOKEN, FakeSlack, dm_channel, words_of
from tests.e2e.reports import CHILD_WORDS
from tests.e2e.slack_rig import SECRET, SLACK_IDS, sign
from tests.e2e.test_serve import COMMAND, environment, free_port, until_healthy

TEACHER, DSL = SLACK_IDS["cfinch"], SLACK_IDS["smorgan"]
ANSWERS = ["Pupil disclosure", "No", "The child is the victim", "Mia Hart", "Skip", CHILD_WORDS, "No", "With me", "No", "No"]
# More than the people a pupil disclosure reaches (the DSL, those informed, the reporter).
RECIPIENTS_AT_MOST = 8


class Server:
    """One `safeguard serve` process over a database file that outlives it."""

    def __init__(self, url: str, env: dict[str, str], config: Path) -> None:
        self.url, self.env, self.config = url, env, config
        self.port = free_port()
        self.process: asyncio.subprocess.Process | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, http: aiohttp.ClientSession) -> None:
        self.process = await asyncio.create_subprocess_exec(
            *COMMAND, "serve", "--config", str(self.config), "--port", str(self.port), "--database-url", self.url,
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        await until_healthy(http, self.base, "safeguard serve")

    async def kill(self) -> None:
        """SIGKILL: no shutdown, no draining, nothing flushed that was not committed."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self.process.wait(), 30)


async def say(http: aiohttp.ClientSession, server: Server, user: str, text: str) -> None:
    """A direct message to the bot, delivered and signed as Slack's Events API does."""
    ts = f"{time.time():.6f}"
    event = {"type": "message", "channel": dm_channel(user), "user": user, "text": text, "ts": ts, "event_ts": ts,
             "channel_type": "im", "client_msg_id": str(uuid.uuid4()), "team": TEAM}
    body = json.dumps({
        "token": "unused-legacy-token", "team_id": TEAM, "api_app_id": "A0SAFEGUARD", "event": event,
        "type": "event_callback", "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}", "event_time": int(time.time()),
        "authorizations": [{"enterprise_id": None, "team_id": TEAM, "user_id": BOT_USER, "is_bot": True,
                            "is_enterprise_install": False}],
    })
    at = int(time.time())
    headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": str(at),
               "X-Slack-Signature": sign(body, at, SECRET)}
    async with http.post(f"{server.base}/slack/events", data=body.encode(), headers=headers) as response:
        assert response.status == 200


async def answer(fake: FakeSlack, http: aiohttp.ClientSession, server: Server, texts: list[str]) -> None:
    """The teacher types each answer after the bot has asked its question."""
    for text in texts:
        before = len(fake.to("chat.postMessage", channel=dm_channel(TEACHER)))
        await say(http, server, TEACHER, text)
        await fake.wait_for("chat.postMessage", before + 1, channel=dm_channel(TEACHER), timeout=30)


def shown(fake: FakeSlack, user: str, starting: str) -> list[str]:
    """The messages in a person's DM that start with `starting`, as they see them."""
    texts = [words_of(m).removeprefix(":rotating_light: ").lstrip("*") for m in fake.shown_in(dm_channel(user))]
    return [text for text in texts if text.startswith(starting)]


async def until(check: Any, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout}s for {what}")
        await asyncio.sleep(0.1)


async def test_killed_mid_dialog_after_commit_and_mid_send_nothing_is_lost_or_shown_twice(
    fake_slack: tuple[FakeSlack, str], school_file: Path, tmp_path: Path
) -> None:
    fake, fake_url = fake_slack
    url = f"sqlite+aiosqlite:///{tmp_path / 'crash.db'}"
    env = environment(SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=f"{fake_url}/api/",
                      SAFEGUARD_OUTBOX_SECONDS="0.3", SAFEGUARD_DELIVERY_LEASE_SECONDS="1",
                      SAFEGUARD_ENCRYPTION_KEY=TEST_KEY)
    holds: list[asyncio.Event] = []
    server = Server(url, env, school_file)
    async with aiohttp.ClientSession() as http:
        try:
            # 1. Mid-dialog: three answers stored, then the server dies between two messages.
            await server.start(http)
            await answer(fake, http, server, ANSWERS[:3])
            await server.kill()

            # 2. Between commit and send: the report is stored with its messages queued, and the
            #    server dies in the first call of sending them.
            await server.start(http)
            await answer(fake, http, server, ANSWERS[3:])
            # Everyone's messages go side by side, so each of their first calls is held.
            holds.extend(fake.hold_next("conversations.open") for _ in range(RECIPIENTS_AT_MOST))
            opened = len(fake.to("conversations.open"))
            await say(http, server, TEACHER, "Send")
            await fake.wait_for("conversations.open", opened + 1, timeout=30)
            await server.kill()
            fake.failures["conversations.open"].clear()  # holds no call took: the restarted server's go through
            assert not shown(fake, TEACHER, "Thank you") and not shown(fake, DSL, "URGENT") \
                and not shown(fake, DSL, "New report")

            # 3. Restarted: the receipt and the alert go, once each.
            await server.start(http)

            async def first_sent() -> bool:
                return len(shown(fake, TEACHER, "Thank you")) == 1 and len(shown(fake, DSL, "New report")) == 1

            await until(first_sent, "the first report's receipt and alert after the restart")

            # 4. Mid-send: Slack posts the second report's alert to the DSL, but the server dies
            #    before it hears back.
            await answer(fake, http, server, ANSWERS)
            holds.append(fake.hold_next("chat.postMessage", channel=dm_channel(DSL)))
            await say(http, server, TEACHER, "Send")

            async def second_alert_posted() -> bool:
                return len(shown(fake, DSL, "New report")) == 2

            await until(second_alert_posted, "the second alert to reach Slack")
            await server.kill()

            # 5. Restarted: the alert in doubt is found in the DSL's DM, not sent again.
            await server.start(http)
            engine = create_engine(url, keys=TEST_KEYS)
            try:
                sessions = sessionmaker(engine)

                async def all_sent() -> bool:
                    async with sessions() as session:
                        rows = list(await session.scalars(select(AlertDelivery)))
                        return len(rows) == 4 and all(row.status == "sent" for row in rows)

                await until(all_sent, "every receipt and alert to be marked sent")
                async with sessions() as session:
                    references = list(await session.scalars(select(Report.reference).order_by(Report.id)))
                    assert len(references) == 2, "one report per Send, none lost"
                    assert (await verify(session)).ok
            finally:
                await engine.dispose()
        finally:
            for hold in holds:
                hold.set()
            await server.stop()

    receipts = shown(fake, TEACHER, "Thank you")
    alerts = shown(fake, DSL, "New report")
    assert [r.split("Your report ")[1].split()[0] for r in receipts] == references
    assert [a.split("New report ")[1].split()[0] for a in alerts] == references
    assert len(fake.to("chat.postMessage", channel=dm_channel(DSL))) == 2, "the alert in doubt was not posted again"
