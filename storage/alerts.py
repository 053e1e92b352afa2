"""Deliveries: an outbox of notices (alerts, news for reporters) a sender works through."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import conflict_insert
from storage.log import SYSTEM, EventKind, append_event
from storage.models import AlertDelivery, DeliveryStatus, DigestDelivery, NoticeKind, Report

# Long enough for a platform's error body, short enough that one bad answer cannot bloat a row.
MAX_ERROR_CHARS = 2000
# How long a sender holds the notices it took; if it dies mid-send, another sender takes them after.
CLAIM_SECONDS = 120


async def queue_alert(
    session: AsyncSession, *, now: datetime, report: Report, person_id: str, channel: str,
    kind: NoticeKind = NoticeKind.ALERT, round: int = 0,
) -> AlertDelivery:
    """Queue a notice of `kind` about a report to a person on a channel; queuing it again returns the same row.

    `round` tells repeated notices apart (a reminder at each escalation step is its own round).
    """
    # ON CONFLICT DO NOTHING: a retried or concurrent submit never queues a second alert.
    await session.execute(
        conflict_insert(session, AlertDelivery)
        .values(
            report_id=report.id, person_id=person_id, channel=channel, kind=kind.value, round=round,
            status=DeliveryStatus.QUEUED.value, attempts=0, queued_at=now,
        )
        .on_conflict_do_nothing(index_elements=["report_id", "person_id", "channel", "kind", "round"])
    )
    query = select(AlertDelivery).where(
        AlertDelivery.report_id == report.id, AlertDelivery.person_id == person_id,
        AlertDelivery.channel == channel, AlertDelivery.kind == kind.value, AlertDelivery.round == round,
    )
    return (await session.scalars(query.execution_options(populate_existing=True))).one()


async def mark_alert_sent(
    session: AsyncSession, *, now: datetime, delivery_id: int, external_ref: str | None = None
) -> AlertDelivery:
    """Record that an alert reached its person (and log `alert_delivered`), once."""
    won = await session.execute(
        update(AlertDelivery)
        .where(AlertDelivery.id == delivery_id, AlertDelivery.status != DeliveryStatus.SENT.value)
        .values(
            status=DeliveryStatus.SENT.value, attempts=AlertDelivery.attempts + 1,
            sent_at=now, external_ref=external_ref, last_error=None, claimed_until=None,
        )
        .returning(AlertDelivery.id),
        execution_options={"synchronize_session": False},
    )
    first_time = won.scalar_one_or_none() is not None
    delivery = await _delivery(session, delivery_id)
    if first_time:
        reference = (await session.scalars(select(Report.reference).where(Report.id == delivery.report_id))).one()
        await append_event(
            session, now=now, actor=SYSTEM, kind=EventKind.ALERT_DELIVERED, report_ref=reference,
            data={
                "person": delivery.person_id, "channel": delivery.channel,
                "notice": delivery.kind, "attempts": delivery.attempts,
            },
        )
    return delivery


async def mark_alert_failed(session: AsyncSession, *, now: datetime, delivery_id: int, error: str) -> AlertDelivery:
    """Record a failed attempt, so the sender tries again; a sent alert stays sent."""
    await session.execute(
        update(AlertDelivery)
        .where(AlertDelivery.id == delivery_id, AlertDelivery.status != DeliveryStatus.SENT.value)
        .values(status=DeliveryStatus.FAILED.value, attempts=AlertDelivery.attempts + 1,
                last_error=error[:MAX_ERROR_CHARS], claimed_until=None),
        execution_options={"synchronize_session": False},
    )
    return await _delivery(session, delivery_id)


async def pending_alerts(
    session: AsyncSession, *, channel: str | None = None, person_id: str | None = None, limit: int = 100
) -> list[AlertDelivery]:
    """Notices still to send (queued, or failed and to be retried), oldest first; optionally one channel's or person's."""
    query = select(AlertDelivery).where(AlertDelivery.status != DeliveryStatus.SENT.value)
    if channel is not None:
        query = query.where(AlertDelivery.channel == channel)
    if person_id is not None:
        query = query.where(AlertDelivery.person_id == person_id)
    query = (
        query
        .order_by(AlertDelivery.queued_at, AlertDelivery.id)
        .limit(limit)
    )
    return list(await session.scalars(query.execution_options(populate_existing=True)))


async def claim_alerts(
    session: AsyncSession, *, now: datetime, channel: str, person_id: str | None = None, limit: int = 100
) -> list[AlertDelivery]:
    """Notices still to send on `channel` (to one person, if given), claimed for this sender, oldest first.

    Two servers sharing a database both look for notices: a compare-and-set on each row's
    claim means only one of them sends it (the other finds it claimed and leaves it).
    """
    candidates = [d.id for d in await pending_alerts(session, channel=channel, person_id=person_id, limit=limit)]
    claimed = await claim_rows(session, AlertDelivery, candidates, now=now)
    query = select(AlertDelivery).where(AlertDelivery.id.in_(claimed)).order_by(AlertDelivery.queued_at, AlertDelivery.id)
    return list(await session.scalars(query.execution_options(populate_existing=True))) if claimed else []


async def claim_rows(
    session: AsyncSession, model: type[AlertDelivery] | type[DigestDelivery], ids: list[int], *, now: datetime
) -> list[int]:
    """Of outbox rows `ids`, those this sender now holds: unsent, and free or with a claim run out.

    A compare-and-set per row: of two senders reading the same row, one update matches it.
    """
    free = or_(model.claimed_until.is_(None), model.claimed_until < now)
    claimed = []
    for row_id in ids:
        won = await session.execute(
            update(model)
            .where(model.id == row_id, model.status != DeliveryStatus.SENT.value, free)
            .values(claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
            .returning(model.id),
            execution_options={"synchronize_session": False},
        )
        if won.scalar_one_or_none() is not None:
            claimed.append(row_id)
    return claimed


async def _delivery(session: AsyncSession, delivery_id: int) -> AlertDelivery:
    query = select(AlertDelivery).where(AlertDelivery.id == delivery_id).execution_options(populate_existing=True)
    delivery = (await session.scalars(query)).one_or_none()
    if delivery is None:
        raise LookupError(f"no alert delivery {delivery_id}")
    return delivery
