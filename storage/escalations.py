"""The clocks on reports: which are due to escalate or for a LADO reminder, and taking each step once.

A step is taken by a compare-and-set on the report row (the step number it expects), in the
same transaction as the alerts it queues and the event it logs. Two schedulers sharing one
database may both see a report due: on PostgreSQL `SKIP LOCKED` lets the second pass it by,
and on any database the guard lets only one of them take the step.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.log import SYSTEM, EventKind, append_event, timestamp
from storage.models import Recipient, Report, Status


async def next_due(session: AsyncSession, *, now: datetime, skip: Collection[int] = ()) -> Report | None:
    """The unacknowledged open report longest past its next escalation time, locked for this transaction."""
    query = (
        select(Report)
        .where(Report.next_escalation_at <= now, Report.acknowledged_at.is_(None),
               Report.status == Status.OPEN.value)
        .order_by(Report.next_escalation_at, Report.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    if skip:
        query = query.where(Report.id.not_in(skip))
    return (await session.scalars(query)).one_or_none()


async def take_step(session: AsyncSession, *, report: Report, step: int, next_at: datetime) -> bool:
    """Move the report's escalation from `step - 1` to `step`, due again at `next_at`; False if another got there first."""
    won = await session.execute(
        update(Report)
        .where(Report.id == report.id, Report.escalation_step == step - 1, Report.acknowledged_at.is_(None),
               Report.status == Status.OPEN.value)
        .values(escalation_step=step, next_escalation_at=next_at)
        .returning(Report.id),
        execution_options={"synchronize_session": False},
    )
    return won.scalar_one_or_none() is not None


async def mark_reached(session: AsyncSession, *, now: datetime, rung: Collection[Recipient]) -> None:
    """From now on the people of this rung may see and act on the report (bot.cases.access)."""
    await session.execute(
        update(Recipient).where(Recipient.id.in_([r.id for r in rung]), Recipient.escalated_at.is_(None))
        .values(escalated_at=now),
        execution_options={"synchronize_session": False},
    )


async def next_lado_due(session: AsyncSession, *, now: datetime, skip: Collection[int] = ()) -> Report | None:
    """An open allegation whose LADO consultation is overdue and not yet reminded, locked for this transaction."""
    query = (
        select(Report)
        .where(Report.lado_due_at <= now, Report.lado_consulted_at.is_(None), Report.lado_reminded_at.is_(None),
               Report.status != Status.CLOSED.value)
        .order_by(Report.lado_due_at, Report.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    if skip:
        query = query.where(Report.id.not_in(skip))
    return (await session.scalars(query)).one_or_none()


async def take_lado_reminder(session: AsyncSession, *, now: datetime, report: Report) -> bool:
    """Mark the LADO reminder sent and log `lado_due`, once; False if another scheduler got there first."""
    won = await session.execute(
        update(Report)
        .where(Report.id == report.id, Report.lado_reminded_at.is_(None), Report.lado_consulted_at.is_(None))
        .values(lado_reminded_at=now)
        .returning(Report.id),
        execution_options={"synchronize_session": False},
    )
    if won.scalar_one_or_none() is None:
        return False
    assert report.lado_due_at is not None
    await append_event(session, now=now, actor=SYSTEM, kind=EventKind.LADO_DUE, report_ref=report.reference,
                       data={"due": timestamp(report.lado_due_at), "consulted": False})
    return True


async def record_lado_consulted(session: AsyncSession, *, now: datetime, report: Report, person_id: str) -> bool:
    """Record that the LADO was consulted (and log when, and whether within the working day), once."""
    won = await session.execute(
        update(Report)
        .where(Report.id == report.id, Report.lado_consulted_at.is_(None))
        .values(lado_consulted_at=now, lado_consulted_by=person_id)
        .returning(Report.id),
        execution_options={"synchronize_session": False},
    )
    if won.scalar_one_or_none() is None:
        return False
    due = report.lado_due_at
    await append_event(session, now=now, actor=person_id, kind=EventKind.LADO_CONSULTED, report_ref=report.reference,
                       data={"due": timestamp(due) if due else None, "in_time": due is None or now <= due})
    return True
