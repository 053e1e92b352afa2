"""Slack retries an event it thinks we missed; each event is handled once, however often it comes."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.app import SLACK, STORE_ERRORS
from bot.channels.inbound import InboundLedger

log = logging.getLogger(__name__)

Middleware = Callable[[dict[str, Any], AsyncBoltRequest, Callable[[], Awaitable[None]]], Awaitable[BoltResponse | None]]


def skip_handled_events(ledger: InboundLedger) -> Middleware:
    """A global bolt middleware: an event whose id was handled before is acked and not run again.

    Slack retries when our answer is slow or lost (X-Slack-Retry-Num); bolt acks before it
    runs a listener, so by then the first delivery is already being handled. The ids are kept
    in the database, not in memory, so a restart or a second server does not answer twice.
    """
    async def skip_handled(body: dict[str, Any], req: AsyncBoltRequest,
                           next: Callable[[], Awaitable[None]]) -> BoltResponse | None:  # noqa: A002 (bolt's name)
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if not isinstance(event_id, str) or not event_id:
            await next()
            return None
        try:
            seen = await ledger.seen(SLACK, event_id)
        except STORE_ERRORS:
            log.exception("could not record Slack event %s; handling it anyway", event_id)
            seen = False
        if seen:
            retry = (req.headers.get("x-slack-retry-num") or ["?"])[0]
            log.info("Slack event %s was handled already (retry %s): acked, not run again", event_id, retry)
            return BoltResponse(status=200, body="")
        await next()
        return None

    return skip_handled
