"""The weekly digest's outbox: queued once per school, week and governor, then claimed and sent.

Two servers sharing a database may both find a digest due: the unique row means it is
queued once, and a sender's claim (a short lease) means only one of them sends it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.alerts import CLAIM_SECONDS, MAX_ERROR_CHARS, MAX_LOGGED_ERROR, claim_rows
from storage.db import conflict_insert
from storage.digests import text_digest
from storage.log import SYSTEM, EventKind, append_event
from storage.models import UNSENT, DeliveryStatus, DigestDelivery


async def queue_digest(
    session: AsyncSession, *, now: datetime, school: str, week: str, person_id: str, channel: str,
    text: str, chart: bytes | None, chain: str = "",
) -> bool:
    """Queue a week's digest for a person (and log `digest_queued`, in the school's chain); False if it was already queued."""
    inserted = await session.execute(
        conflict_insert(session, DigestDelivery)
        .values(
            school=school, week=week, person_id=person_id, channel=channel, text=text, chart=chart,
            status=DeliveryStatus.QUEUED.value, attempts=0, queued_at=now,
        )
        .on_conflict_do_nothing(index_elements=["school", "week", "person_id"])
        .returning(DigestDelivery.id)
    )
    if inserted.scalar_one_or_none() is None:
        return False
    # The log keeps the digest's fingerprint, so what the governors were told can be checked later.
    await append_event(
        session, now=now, actor=SYSTEM, kind=EventKind.DIGEST_QUEUED, report_ref=None,
        data={"week": week, "person": person_id, "channel": channel, "digest": text_digest(text)}, chain=chain,
    )
    return True


async def claim_digests(
    session: AsyncSession, *, now: datetime, channel: str, person_id: str | None = None, limit: int = 10,
    lease: timedelta = timedelta(seconds=CLAIM_SECONDS),
) -> list[tuple[DigestDelivery, bool]]:
    """Digests due on `channel` (for one person, if given), claimed for this sender, oldest first.

    Each comes with whether it is in doubt (an earlier attempt may have arrived unheard), as notices do.
    """
    query = select(DigestDelivery.id, DigestDelivery.claimed_until, DigestDelivery.attempts).where(
        DigestDelivery.channel == channel,
        DigestDelivery.status.in_(UNSENT),
        or_(DigestDelivery.claimed_until.is_(None), DigestDelivery.claimed_until < now),
        or_(DigestDelivery.next_attempt_at.is_(None), DigestDelivery.next_attempt_at <= now),
    )
    if person_id is not None:
        query = query.where(DigestDelivery.person_id == person_id)
    candidates = (await session.execute(query.order_by(DigestDelivery.queued_at, DigestDelivery.id).limit(limit))).all()
    claimed = await claim_rows(session, DigestDelivery, [row.id for row in candidates], now=now, lease=lease)
    if not claimed:
        return []
    in_doubt = {row.id for row in candidates if row.claimed_until is not None or row.attempts > 0}
    rows = await session.scalars(
        select(DigestDelivery).where(DigestDelivery.id.in_(claimed)).order_by(DigestDelivery.queued_at, DigestDelivery.id)
        .execution_options(populate_existing=True)
    )
    return [(row, row.id in in_doubt) for row in rows]


async def mark_digest_sent(
    session: AsyncSession, *, now: datetime, digest_id: int, external_ref: str | None = None
) -> bool:
    """Record that a digest reached its governor (and log `digest_delivered`), once; False if it already had."""
    won = await session.execute(
        update(DigestDelivery)
        .where(DigestDelivery.id == digest_id, DigestDelivery.status != DeliveryStatus.SENT.value)
        .values(status=DeliveryStatus.SENT.value, attempts=DigestDelivery.attempts + 1, sent_at=now,
                external_ref=external_ref, last_error=None, claimed_until=None, next_attempt_at=None)
        .returning(DigestDelivery.week, DigestDelivery.person_id, DigestDelivery.channel),
        execution_options={"synchronize_session": False},
    )
    row = won.one_or_none()
    if row is None:
        return False
    await append_event(
        session, now=now, actor=SYSTEM, kind=EventKind.DIGEST_DELIVERED, report_ref=None,
        data={"week": row.week, "person": row.person_id, "channel": row.channel},
    )
    return True


async def mark_digest_failed(
    session: AsyncSession, *, now: datetime, digest_id: int, error: str, retry_at: datetime | None = None,
) -> None:
    """Record a failed attempt and release the claim, so it is tried again (not before `retry_at`)."""
    await session.execute(
        update(DigestDelivery)
        .where(DigestDelivery.id == digest_id, DigestDelivery.status.in_(UNSENT))
        .values(status=DeliveryStatus.FAILED.value, attempts=DigestDelivery.attempts + 1,
                last_error=error[:MAX_ERROR_CHARS], claimed_until=None, next_attempt_at=retry_at),
        execution_options={"synchronize_session": False},
    )


async def give_up_digest(session: AsyncSession, *, now: datetime, digest_id: int, error: str) -> DigestDelivery | None:
    """Record that a digest can never be delivered (and log `delivery_failed`); None if it was settled already."""
    won = await session.execute(
        update(DigestDelivery)
        .where(DigestDelivery.id == digest_id, DigestDelivery.status.in_(UNSENT))
        .values(status=DeliveryStatus.UNDELIVERABLE.value, attempts=DigestDelivery.attempts + 1,
                last_error=error[:MAX_ERROR_CHARS], claimed_until=None, next_attempt_at=None)
        .returning(DigestDelivery.id),
        execution_options={"synchronize_session": False},
    )
    if won.scalar_one_or_none() is None:
        return None
    row = (await session.scalars(select(DigestDelivery).where(DigestDelivery.id == digest_id)
                                 .execution_options(populate_existing=True))).one()
    await append_event(
        session, now=now, actor=SYSTEM, kind=EventKind.DELIVERY_FAILED, report_ref=None,
        data={"person": row.person_id, "channel": row.channel, "notice": "digest", "week": row.week,
              "attempts": row.attempts, "error": error[:MAX_LOGGED_ERROR]},
    )
    return row


async def digests_for_week(session: AsyncSession, *, school: str, week: str) -> list[DigestDelivery]:
    """The digests queued for a week, one per governor, in the order they were queued."""
    query = select(DigestDelivery).where(DigestDelivery.school == school, DigestDelivery.week == week)
    return list(await session.scalars(query.order_by(DigestDelivery.id).execution_options(populate_existing=True)))
