"""Deliveries: an outbox of notices (alerts, news for reporters) a sender works through."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import conflict_insert
from storage.log import SYSTEM, EventKind, append_event
from storage.models import UNSENT, AlertDelivery, DeliveryStatus, DigestDelivery, NoticeKind, Report

# Long enough for a platform's error body, short enough that one bad answer cannot bloat a row.
MAX_ERROR_CHARS = 2000
# How long a sender holds the notices it took; if it dies mid-send, another sender takes them after.
CLAIM_SECONDS = 120
# The log keeps why a message was given up on in a few words (a platform's error code), never a body.
MAX_LOGGED_ERROR = 200

Outbox = type[AlertDelivery] | type[DigestDelivery]


async def queue_alert(
    session: AsyncSession, *, now: datetime, report: Report | None, person_id: str, channel: str,
    kind: NoticeKind = NoticeKind.ALERT, round: int = 0, detail: dict[str, Any] | None = None,
) -> AlertDelivery:
    """Queue a notice of `kind` about a report to a person on a channel; queuing it again returns the same row.

    `round` tells repeated notices apart (a reminder at each escalation step is its own round).
    `report` is None only for news about something that is not a report (a digest not delivered).
    """
    report_id = report.id if report is not None else None
    # ON CONFLICT DO NOTHING: a retried or concurrent submit never queues a second alert.
    await session.execute(
        conflict_insert(session, AlertDelivery)
        .values(
            report_id=report_id, person_id=person_id, channel=channel, kind=kind.value, round=round,
            status=DeliveryStatus.QUEUED.value, attempts=0, queued_at=now, detail=detail,
        )
        .on_conflict_do_nothing(index_elements=["report_id", "person_id", "channel", "kind", "round"])
    )
    query = select(AlertDelivery).where(
        AlertDelivery.report_id.is_(None) if report_id is None else AlertDelivery.report_id == report_id,
        AlertDelivery.person_id == person_id,
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
            sent_at=now, external_ref=external_ref, last_error=None, claimed_until=None, next_attempt_at=None,
        )
        .returning(AlertDelivery.id),
        execution_options={"synchronize_session": False},
    )
    first_time = won.scalar_one_or_none() is not None
    delivery = await _delivery(session, delivery_id)
    if first_time:
        reference = await _reference(session, delivery.report_id)
        await append_event(
            session, now=now, actor=SYSTEM, kind=EventKind.ALERT_DELIVERED, report_ref=reference,
            data={
                "person": delivery.person_id, "channel": delivery.channel,
                "notice": delivery.kind, "attempts": delivery.attempts,
            },
        )
    return delivery


async def mark_alert_failed(
    session: AsyncSession, *, now: datetime, delivery_id: int, error: str, retry_at: datetime | None = None,
) -> AlertDelivery:
    """Record a failed attempt, so the sender tries again (not before `retry_at`); a sent alert stays sent."""
    await session.execute(
        update(AlertDelivery)
        .where(AlertDelivery.id == delivery_id, AlertDelivery.status.in_(UNSENT))
        .values(status=DeliveryStatus.FAILED.value, attempts=AlertDelivery.attempts + 1,
                last_error=error[:MAX_ERROR_CHARS], claimed_until=None, next_attempt_at=retry_at),
        execution_options={"synchronize_session": False},
    )
    return await _delivery(session, delivery_id)


async def give_up_alert(session: AsyncSession, *, now: datetime, delivery_id: int, error: str) -> AlertDelivery | None:
    """Record that a notice can never be delivered (and log `delivery_failed`); None if it was settled already.

    Only the sender that makes the change gets the row back, so whoever must be told is told once.
    """
    won = await session.execute(
        update(AlertDelivery)
        .where(AlertDelivery.id == delivery_id, AlertDelivery.status.in_(UNSENT))
        .values(status=DeliveryStatus.UNDELIVERABLE.value, attempts=AlertDelivery.attempts + 1,
                last_error=error[:MAX_ERROR_CHARS], claimed_until=None, next_attempt_at=None)
        .returning(AlertDelivery.id),
        execution_options={"synchronize_session": False},
    )
    if won.scalar_one_or_none() is None:
        return None
    delivery = await _delivery(session, delivery_id)
    await append_event(
        session, now=now, actor=SYSTEM, kind=EventKind.DELIVERY_FAILED,
        report_ref=await _reference(session, delivery.report_id),
        data={"person": delivery.person_id, "channel": delivery.channel, "notice": delivery.kind,
              "attempts": delivery.attempts, "error": error[:MAX_LOGGED_ERROR]},
    )
    return delivery


async def due_now(session: AsyncSession, *, channel: str, person_id: str) -> None:
    """Whatever waits to be sent to this person on `channel` may go at once (their chat has just been found)."""
    for model in (AlertDelivery, DigestDelivery):
        await session.execute(
            update(model)
            .where(model.channel == channel, model.person_id == person_id, model.status.in_(UNSENT),
                   model.next_attempt_at.is_not(None))
            .values(next_attempt_at=None),
            execution_options={"synchronize_session": False},
        )


async def release(session: AsyncSession, model: Outbox, ids: list[int], *, retry_at: datetime | None) -> None:
    """Hand back rows claimed but not tried (the platform asked us to wait): no attempt is counted."""
    if ids:
        await session.execute(
            update(model).where(model.id.in_(ids), model.status.in_(UNSENT))
            .values(claimed_until=None, next_attempt_at=retry_at),
            execution_options={"synchronize_session": False},
        )


async def pending_alerts(
    session: AsyncSession, *, channel: str | None = None, person_id: str | None = None, limit: int = 100,
    now: datetime | None = None, person_ids: Sequence[str] | None = None,
) -> list[AlertDelivery]:
    """Notices still to send (queued, or failed and to be retried), oldest first; optionally one channel's or person's.

    Given `now`, a notice waiting out its back-off is left for later.
    """
    query = select(AlertDelivery).where(AlertDelivery.status.in_(UNSENT))
    if now is not None:
        query = query.where(or_(AlertDelivery.next_attempt_at.is_(None), AlertDelivery.next_attempt_at <= now))
    if channel is not None:
        query = query.where(AlertDelivery.channel == channel)
    if person_id is not None:
        query = query.where(AlertDelivery.person_id == person_id)
    if person_ids is not None:  # a person and the handles of the reports they sent without their name
        query = query.where(AlertDelivery.person_id.in_(person_ids))
    query = (
        query
        .order_by(AlertDelivery.queued_at, AlertDelivery.id)
        .limit(limit)
    )
    return list(await session.scalars(query.execution_options(populate_existing=True)))


async def claim_alerts(
    session: AsyncSession, *, now: datetime, channel: str, person_id: str | None = None, limit: int = 100,
    lease: timedelta = timedelta(seconds=CLAIM_SECONDS), person_ids: Sequence[str] | None = None,
) -> list[tuple[AlertDelivery, bool]]:
    """Notices due on `channel` (to one person, if given), claimed for this sender, oldest first.

    Each comes with whether it is in doubt: an earlier attempt may have reached the platform
    without our hearing so (a time-out, or a sender whose claim ran out unmarked because it died). Two servers sharing a database both look
    for notices: a compare-and-set on each row's claim means only one of them sends it.
    """
    candidates = await pending_alerts(session, channel=channel, person_id=person_id, limit=limit, now=now,
                                      person_ids=person_ids)
    claimed = await claim_rows(session, AlertDelivery, [d.id for d in candidates], now=now, lease=lease)
    in_doubt = {d.id for d in candidates if d.claimed_until is not None or d.attempts > 0}
    if not claimed:
        return []
    query = select(AlertDelivery).where(AlertDelivery.id.in_(claimed)).order_by(AlertDelivery.queued_at, AlertDelivery.id)
    rows = await session.scalars(query.execution_options(populate_existing=True))
    return [(row, row.id in in_doubt) for row in rows]


async def claim_rows(
    session: AsyncSession, model: Outbox, ids: list[int], *, now: datetime,
    lease: timedelta = timedelta(seconds=CLAIM_SECONDS),
) -> list[int]:
    """Of outbox rows `ids`, those this sender now holds: unsent, and free or with a claim run out.

    A compare-and-set on each row, in one statement: of two senders reading the same row, one
    update matches it. (One statement per row made a round of a hundred alerts wait for a
    hundred round trips before the first was sent: bench/alert.py.)
    """
    if not ids:
        return []
    free = or_(model.claimed_until.is_(None), model.claimed_until < now)
    won = await session.execute(
        update(model)
        .where(model.id.in_(ids), model.status.in_(UNSENT), free)
        .values(claimed_until=now + lease)
        .returning(model.id),
        execution_options={"synchronize_session": False},
    )
    held = set(won.scalars())
    return [row_id for row_id in ids if row_id in held]


async def _reference(session: AsyncSession, report_id: int | None) -> str | None:
    if report_id is None:
        return None
    return (await session.scalars(select(Report.reference).where(Report.id == report_id))).one()


async def _delivery(session: AsyncSession, delivery_id: int) -> AlertDelivery:
    query = select(AlertDelivery).where(AlertDelivery.id == delivery_id).execution_options(populate_existing=True)
    delivery = (await session.scalars(query)).one_or_none()
    if delivery is None:
        raise LookupError(f"no alert delivery {delivery_id}")
    return delivery
