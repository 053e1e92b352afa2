"""One delivery round, the same on every chat channel: the notices waiting, then the digests waiting.

Each channel knows how to send one notice and one digest; what it shares is the order, and
that a database it cannot read skips that part of the round (the next round tries again).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot import digest_delivery, notices
from bot.app import STORE_ERRORS, App

log = logging.getLogger(__name__)

SendNotice = Callable[[notices.Notice], Awaitable[bool]]
SendDigest = Callable[[digest_delivery.QueuedDigest], Awaitable[bool]]


async def deliver_round(app: App, channel: str, send_notice: SendNotice, send_digest: SendDigest) -> int:
    """Send every notice, then every weekly digest, waiting on `channel`; how many went.

    A failed send is recorded by the sender and tried again next round.
    """
    sent = 0
    try:
        waiting = await notices.pending(app, channel)
    except STORE_ERRORS:
        log.exception("could not read the %s outbox", channel)
        waiting = []
    for notice in waiting:
        sent += await send_notice(notice)
    try:
        digests = await digest_delivery.claim(app, channel)
    except STORE_ERRORS:
        log.exception("could not read the %s digest outbox", channel)
        digests = []
    for digest in digests:
        sent += await send_digest(digest)
    return sent
