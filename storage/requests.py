"""Approval requests' rows: made with a reference, read, and moved on a step at a time, once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ApprovalRequest, Event, RequestStatus
from storage.reports import next_reference

PREFIX = "AR"


async def create(
    session: AsyncSession, *, now: datetime, school: str, school_code: str | None, kind: str, requester: str,
    answers: dict[str, Any], channel: str | None, approver: str, approver_role: str, due_at: datetime,
    prefix: str = PREFIX,
) -> ApprovalRequest:
    """Store a new request at its first step, with the next reference of the year under its kind's prefix.

    AR-2026-0001 (AR-BPA-2026-0001 in a trust) for a blocked site, SM- for a social media site: each
    prefix counts on its own, and each reference names its school's chain of the log (storage.chains).
    """
    prefix = f"{prefix}-{school_code.upper()}" if school_code else prefix
    request = ApprovalRequest(
        reference=await next_reference(session, year=now.year, prefix=prefix), school=school, kind=kind,
        requester=requester, answers=answers, status=RequestStatus.OPEN.value, channel=channel, created_at=now,
        step=0, approver=approver, approver_role=approver_role, approvers=[approver], due_at=due_at, reminders=0,
    )
    session.add(request)
    await session.flush()
    return request


async def get(session: AsyncSession, reference: str, *, lock: bool = False) -> ApprovalRequest | None:
    """The request with this reference (locked until the transaction ends, if asked)."""
    query = select(ApprovalRequest).where(ApprovalRequest.reference == reference.strip().upper())
    if lock:
        query = query.with_for_update()
    return (await session.scalars(query.execution_options(populate_existing=True))).one_or_none()


async def move(session: AsyncSession, request: ApprovalRequest, *, expected_step: int, expected_status: str,
               **values: Any) -> bool:
    """Change the request only if it is still at `expected_step` and `expected_status`: whether this call did.

    Two people pressing at once, or two servers reminding at once: the first wins, the other changes nothing.
    """
    result = await session.execute(
        update(ApprovalRequest)
        .where(ApprovalRequest.id == request.id, ApprovalRequest.step == expected_step,
               ApprovalRequest.status == expected_status, ApprovalRequest.reminders == request.reminders)
        .values(**values).execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        return False
    await session.refresh(request)
    return True


async def waiting_for(session: AsyncSession, person_id: str) -> list[ApprovalRequest]:
    """The requests waiting on this person (a step to act on, or an approved one to carry out), oldest first."""
    query = select(ApprovalRequest).where(
        ApprovalRequest.approver == person_id,
        ApprovalRequest.status.in_((RequestStatus.OPEN.value, RequestStatus.APPROVED.value)),
        ApprovalRequest.done_at.is_(None),
    ).order_by(ApprovalRequest.created_at)
    return list(await session.scalars(query))


async def due(session: AsyncSession, now: datetime) -> list[ApprovalRequest]:
    """Open requests whose step has waited past its time."""
    query = select(ApprovalRequest).where(
        ApprovalRequest.status == RequestStatus.OPEN.value, ApprovalRequest.due_at <= now,
    ).order_by(ApprovalRequest.due_at)
    return list(await session.scalars(query))


async def week_counts(session: AsyncSession, *, chain: str, start: datetime, end: datetime,
                      prefix: str = PREFIX) -> dict[str, int]:
    """How many requests of one kind (by its reference prefix) were made, approved and refused in [start, end).

    Read from the school's chain of the log: counts only.
    """
    named = {"request_made": "made", "request_approved": "approved", "request_refused": "refused"}
    query = select(Event.kind, func.count()).where(
        Event.chain == chain, Event.kind.in_(list(named)), Event.at >= start, Event.at < end,
        Event.report_ref.like(f"{prefix}-%"),
    ).group_by(Event.kind)
    counts = {word: 0 for word in named.values()}
    for kind, count in (await session.execute(query)).all():
        counts[named[kind]] = int(count)
    return counts
