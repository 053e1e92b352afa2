"""The weekly digest's outbox as a channel reads it: digests claimed for sending, then marked sent or failed.

A claim is a short lease (storage/digest_outbox.py): two servers sharing a database never both
send one digest, and a sender that dies mid-round leaves it to be claimed again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.outbox import undelivered
from bot.app import STORE_ERRORS, App
from storage.digest_outbox import claim_digests, give_up_digest, mark_digest_failed, mark_digest_sent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueuedDigest:
    """One week's digest for one governor, claimed by this sender: the text, and the chart if there is one."""

    digest_id: int
    person_id: str
    week: str
    text: str
    chart: bytes | None = None
    attempts: int = 0
    # An earlier attempt may have arrived without our hearing so (a time-out, a sender that died).
    in_doubt: bool = False
    queued_at: datetime | None = None  # for the delivery latency GET /metrics reports

    @property
    def key(self) -> str:
        """What the digest is called on the platform, so a sender can find out whether it arrived."""
        return f"digest-{self.digest_id}"

    @property
    def chart_name(self) -> str:
        """The chart's file name, as the person sees it (safeguard-digest-2026-W47.png)."""
        return f"safeguard-digest-{self.week}.png"


async def claim(app: App, channel: str, person_id: str | None = None) -> list[QueuedDigest]:
    """Claim the digests waiting on `channel` (for one person, if given), oldest first.

    A database error is raised: the caller decides whether a round can go on without digests.
    """
    async with app.sessions.begin() as session:
        rows = await claim_digests(session, now=app.now(), channel=channel, person_id=person_id, lease=app.lease)
        return [QueuedDigest(row.id, row.person_id, row.week, row.text, row.chart, row.attempts, in_doubt,
                             row.queued_at) for row, in_doubt in rows]


async def delivered(app: App, digest: QueuedDigest, external_ref: str | None = None) -> None:
    """Record that a digest's text reached its governor (logged once as `digest_delivered`)."""
    await delivered_all(app, [(digest, external_ref)])


async def delivered_all(app: App, sent: Sequence[tuple[QueuedDigest, str | None]]) -> None:
    """Record that these digests reached their governors, in one transaction.

    If the database fails here the claims run out and the digests go again: at least once, as
    alerts do, so the failure is logged rather than raised.
    """
    try:
        async with app.sessions.begin() as session:
            for digest, external_ref in sent:
                await mark_digest_sent(session, now=app.now(), digest_id=digest.digest_id, external_ref=external_ref)
    except STORE_ERRORS:
        for digest, _ in sent:
            log.exception("the %s digest reached %s but was not marked sent", digest.week, digest.person_id)


async def failed(app: App, digest: QueuedDigest, error: str, retry_at: datetime | None = None) -> None:
    """Record a failed attempt and release the claim, so a later round tries again (from `retry_at`).

    If this cannot be recorded the claim still runs out, and a later round tries again.
    """
    try:
        async with app.sessions.begin() as session:
            await mark_digest_failed(session, now=app.now(), digest_id=digest.digest_id, error=error, retry_at=retry_at)
    except STORE_ERRORS:
        log.exception("could not record that the %s digest to %s failed", digest.week, digest.person_id)


async def give_up(app: App, digest: QueuedDigest, error: str) -> None:
    """The platform says this digest never can be delivered: record it, log it, and tell the DSL, at once."""
    try:
        async with app.sessions.begin() as session:
            row = await give_up_digest(session, now=app.now(), digest_id=digest.digest_id, error=error)
            if row is not None:
                await undelivered.raise_to_dsl(app, session, report=None, failed=row, error=error)
    except STORE_ERRORS:
        log.exception("could not record that the %s digest to %s can never be delivered", digest.week, digest.person_id)
