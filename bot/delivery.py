"""One delivery round, the same on every chat channel: the notices waiting, then the digests waiting.

Each channel knows how to send one notice and one digest, and what its platform's errors
mean; what they share is here: the order, the back-off after a failure that can pass, the
pause when the platform says to slow down (HTTP 429 with Retry-After), and giving up, and
telling the DSL, when the platform says a message never can be delivered.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot import digest_delivery, notices
from bot.app import STORE_ERRORS, App

log = logging.getLogger(__name__)

# Back-off after a failure that can pass (a network error, a 5xx): 10 s, 20 s, 40 s ... at most
# 15 minutes, so an alert waits at most that long after the platform is back.
FIRST_RETRY = timedelta(seconds=10)
LONGEST_RETRY = timedelta(minutes=15)
# A 429 without a Retry-After: Slack's own advice is to wait and try again; a minute is polite.
DEFAULT_RETRY_AFTER = 60.0


@dataclass(frozen=True)
class Delivered:
    """The message reached the platform; `external_ref` finds it again (to update an alert)."""

    external_ref: str | None = None


@dataclass(frozen=True)
class Failure:
    """A send that did not go, as the channel's sender read its platform's answer."""

    error: str
    # The platform says it never can be delivered (user not found, bot removed): give up, tell the DSL.
    permanent: bool = False
    # The platform asked us to wait this many seconds before sending anything more (HTTP 429).
    retry_after: float | None = None


Outcome = Delivered | Failure
SendNotice = Callable[[notices.Notice], Awaitable[Outcome]]
SendDigest = Callable[[digest_delivery.QueuedDigest], Awaitable[Outcome]]


def retry_at(now: datetime, attempts: int) -> datetime:
    """When to try again after `attempts` failed attempts: doubling from FIRST_RETRY, capped."""
    delay = FIRST_RETRY * (1 << min(max(attempts - 1, 0), 16))
    return now + min(delay, LONGEST_RETRY)


async def deliver_round(app: App, channel: str, send_notice: SendNotice, send_digest: SendDigest) -> int:
    """Send every notice, then every weekly digest, due on `channel`; how many went.

    A failure that can pass is tried again after a back-off; a rate limit hands back the rest
    of the round until the platform's Retry-After; a permanent failure is given up on and the
    DSL is told.
    """
    sent = 0
    try:
        waiting = await notices.pending(app, channel)
    except STORE_ERRORS:
        log.exception("could not read the %s outbox", channel)
        waiting = []
    for index, notice in enumerate(waiting):
        outcome = await send_notice(notice)
        if isinstance(outcome, Delivered):
            await notices.delivered(app, notice, outcome.external_ref)
            sent += 1
            continue
        log.warning("%s %s to %s on %s not sent: %s", notice.kind, notice.reference, notice.person_id, channel,
                    outcome.error)
        if outcome.retry_after is not None:
            until = _after(app, outcome.retry_after)
            await notices.failed(app, notice, outcome.error, until)
            await notices.release(app, waiting[index + 1:], until)
            return sent  # the digests wait too: the platform asked for quiet
        if outcome.permanent:
            await notices.give_up(app, notice, outcome.error)
        else:
            await notices.failed(app, notice, outcome.error, retry_at(app.now(), notice.attempts + 1))
    try:
        digests = await digest_delivery.claim(app, channel)
    except STORE_ERRORS:
        log.exception("could not read the %s digest outbox", channel)
        digests = []
    return sent + await _deliver_digests(app, channel, digests, send_digest)


async def _deliver_digests(
    app: App, channel: str, digests: Sequence[digest_delivery.QueuedDigest], send_digest: SendDigest,
) -> int:
    sent = 0
    for index, digest in enumerate(digests):
        outcome = await send_digest(digest)
        if isinstance(outcome, Delivered):
            await digest_delivery.delivered(app, digest, outcome.external_ref)
            sent += 1
            continue
        log.warning("the %s digest to %s on %s not sent: %s", digest.week, digest.person_id, channel, outcome.error)
        if outcome.retry_after is not None:
            until = _after(app, outcome.retry_after)
            await digest_delivery.failed(app, digest, outcome.error, until)
            await digest_delivery.release(app, digests[index + 1:], until)
            break
        if outcome.permanent:
            await digest_delivery.give_up(app, digest, outcome.error)
        else:
            await digest_delivery.failed(app, digest, outcome.error, retry_at(app.now(), digest.attempts + 1))
    return sent


def _after(app: App, seconds: float) -> datetime:
    # A platform's Retry-After is trusted within reason: never negative, never more than the longest back-off.
    return app.now() + min(timedelta(seconds=max(seconds, 0.0)), LONGEST_RETRY)
