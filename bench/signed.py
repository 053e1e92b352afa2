"""Requests as Slack sends them: Events API envelopes, signed with the app's signing secret."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import aiohttp

from tests.e2e.fake_slack import BOT_USER, TEAM
from tests.e2e.slack_rig import SECRET

_event_numbers = itertools.count(1)


def signature(body: bytes, timestamp: str) -> str:
    """X-Slack-Signature: v0= and the HMAC-SHA256 of `v0:{timestamp}:{body}`."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(SECRET.encode(), base, hashlib.sha256).hexdigest()


def dm_message(user: str, channel: str, text: str) -> bytes:
    """A `message.im` event: someone typed `text` in their DM with the bot."""
    ts = f"{time.time():.6f}"
    event = {"type": "message", "channel": channel, "user": user, "text": text, "ts": ts, "event_ts": ts,
             "channel_type": "im", "team": TEAM}
    envelope = {
        "token": "unused-legacy-token", "team_id": TEAM, "api_app_id": "A0SAFEGUARD", "event": event,
        "type": "event_callback", "event_id": f"Ev{next(_event_numbers):010d}", "event_time": int(time.time()),
        "authorizations": [{"enterprise_id": None, "team_id": TEAM, "user_id": BOT_USER, "is_bot": True,
                            "is_enterprise_install": False}],
    }
    return json.dumps(envelope).encode()


async def post_signed(http: aiohttp.ClientSession, url: str, body: bytes, content_type: str = "application/json") -> int:
    """POST `body` to `url` signed now; the HTTP status (the body is read and dropped)."""
    timestamp = str(int(time.time()))
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": timestamp,
               "X-Slack-Signature": signature(body, timestamp)}
    async with http.post(url, data=body, headers=headers) as response:
        await response.read()
        return response.status
