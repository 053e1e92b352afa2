"""Posting to Slack once: a call whose answer was lost is "in doubt", and is looked for before it is sent again.

slack_sdk's default retry handler sends a call again after the connection drops
(`ServerDisconnected`, `ClientOSError`): for chat.postMessage that shows a message a second
time when Slack had already posted it and only its answer was lost. Every client here is
built by `web_client`, which re-sends nothing whose fate is unknown; the callers decide
what a message in doubt needs (the outbox looks for it on its next round; a dialog reply
is looked for at once, by `post_once`).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError, SlackRequestError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack.blocks import Message

log = logging.getLogger(__name__)

# What a call to Slack can fail with: Slack said no, or the network did.
SEND_ERRORS: tuple[type[Exception], ...] = (SlackClientError, aiohttp.ClientError, asyncio.TimeoutError, OSError)
# A message's marker (in its Slack message metadata), so that one in doubt can be looked for.
METADATA_TYPE = "safeguard_message"
# How far back in a DM to look for a message in doubt.
HISTORY_LIMIT = 100
# Methods that change nothing, or set something to the same state however often they are
# called: sent again after a dropped connection, nobody sees anything twice. Every other method
# (chat.postMessage, chat.postEphemeral, views.open, files.completeUploadExternal, ...) shows
# something new each time it arrives, so it is never sent again from below our own code.
REPEATABLE = frozenset({
    "auth.test", "conversations.open", "conversations.history", "chat.update", "views.update", "views.publish",
    "users.lookupByEmail", "users.info", "files.getUploadURLExternal",
})


class RepeatSafelyHandler(AsyncRetryHandler):
    """After a connection error, send a call again once, but only when that cannot show anything twice.

    A connection that was never made (`ClientConnectorError`) carried nothing, so any call goes
    again; a connection lost after the request went out (dropped, reset, timed out) may have
    delivered it, so only the methods in REPEATABLE do.
    """

    async def _can_retry_async(self, *, state: RetryState, request: HttpRequest,
                               response: HttpResponse | None = None, error: Exception | None = None) -> bool:
        if error is None or not isinstance(error, aiohttp.ClientError):
            return False
        if isinstance(error, aiohttp.ClientConnectorError):
            return True
        return method_of(request.url) in REPEATABLE and isinstance(
            error, (aiohttp.ServerConnectionError, aiohttp.ClientOSError))


def method_of(url: str) -> str:
    """The Web API method a call's URL names: https://slack.com/api/chat.postMessage -> chat.postMessage."""
    return url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


def web_client(token: str | None, api_url: str, *, timeout: float, rate_limit_retries: int = 0,
               kind: type[AsyncWebClient] = AsyncWebClient) -> AsyncWebClient:
    """A Slack Web API client that sends no call twice where it could show something twice.

    With `rate_limit_retries`, a 429 is waited out inside the call (as Slack's Retry-After asks)
    that many times; a 429 means Slack did nothing, so that never repeats a message.
    """
    handlers: list[AsyncRetryHandler] = [RepeatSafelyHandler(max_retry_count=1)]
    if rate_limit_retries:
        handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=rate_limit_retries))
    # base_url must end in '/': slack_sdk joins method names onto it with urljoin.
    base_url = api_url if api_url.endswith("/") else api_url + "/"
    return kind(token=token, base_url=base_url, timeout=int(max(timeout, 1)), retry_handlers=handlers)


def in_doubt(exc: Exception) -> bool:
    """Whether a failed call may have reached Slack and been done: what is in doubt is looked for before a re-send.

    Only Slack's own answer refusing the call (an error under HTTP 500, a rate limit), a call
    slack_sdk refused before sending it, and a connection that was never made are known not to
    have been done. A dropped or reset connection, a time-out and a 5xx (Slack failing part-way)
    may each follow a posted message.
    """
    if isinstance(exc, SlackApiError):
        return int(exc.response.status_code) >= 500
    return not isinstance(exc, (SlackRequestError, aiohttp.ClientConnectorError))


def marker(key: str) -> dict[str, Any]:
    """The Slack message metadata that marks a message as ours, with its key."""
    return {"event_type": METADATA_TYPE, "event_payload": {"key": key}}


async def post(client: AsyncWebClient, channel: str, message: Message, key: str | None = None) -> str:
    """Post a message (marked with `key`, if given); its 'channel:ts', which is how it is found again."""
    posted = await client.chat_postMessage(channel=channel, text=message.text, blocks=message.blocks,
                                           metadata=marker(key) if key is not None else None)
    return f"{posted['channel']}:{posted['ts']}"


async def find(client: AsyncWebClient, channel: str, key: str) -> str | None:
    """The 'channel:ts' of the message marked `key` in `channel`, if an earlier attempt posted it."""
    history = await client.conversations_history(channel=channel, limit=HISTORY_LIMIT, include_all_metadata=True)
    for message in history.get("messages") or []:
        metadata = message.get("metadata") or {}
        if metadata.get("event_type") == METADATA_TYPE and (metadata.get("event_payload") or {}).get("key") == key:
            return f"{channel}:{message.get('ts')}"
    return None


async def post_once(client: AsyncWebClient, channel: str, message: Message) -> str:
    """Post a message a person is waiting for now (the next question, an answer), shown once.

    It is marked with a key of its own; if the call fails in doubt, the DM is looked at for that
    key, and the message is posted again only if it is not there. Looking, rather than leaving
    it, because the person is mid-report waiting for this very question: without it they would
    see nothing until the idle reminder half an hour later. A failure that is not in doubt (Slack
    refused it) is raised as it is.
    """
    key = f"reply:{uuid.uuid4().hex}"
    try:
        return await post(client, channel, message, key)
    except SEND_ERRORS as exc:
        if not in_doubt(exc):
            raise
        log.info("a reply's answer from Slack was lost (%s); looking for it before posting it again",
                 exc.__class__.__name__)
    found = await find(client, channel, key)
    return found if found is not None else await post(client, channel, message, key)
