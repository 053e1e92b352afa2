"""A report changing hands or coming back: reassigned to a new owner, or reopened after it was closed.

Each change is a guarded update of the report row, its reason kept as an encrypted note, and
one event carrying the reason's digest (never its words), all in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.digests import text_digest
from storage.log import EventKind, append_event, timestamp, utc
from storage.models import NoteKind, Recipient, RecipientKind, Report, ReportNote, Status


async def reassign(
    session: AsyncSession, *, now: datetime, report: Report, by: str, to: str, role: str, reason: str,
    ack_deadline: datetime,
) -> int | None:
    """Make `to` (holding `role`) the report's only owner; the event's seq, or None if it was closed meanwhile.

    The new owner must acknowledge it, so the acknowledgement is cleared and the clock and
    the ladder start again from `ack_deadline`. Whoever owned it until now stays told of it
    (informed). Any other place the new owner had (told, or a rung of the ladder) goes: the
    ladder never escalates a report to its own owner.
    """
    won = await session.execute(
        update(Report)
        .where(Report.id == report.id, Report.status != Status.CLOSED.value)
        .values(status=Status.OPEN.value, acknowledged_at=None, acknowledged_by=None, ack_deadline=ack_deadline,
                next_escalation_at=ack_deadline, escalation_step=0)
        .returning(Report.id),
        execution_options={"synchronize_session": False},
    )
    if won.scalar_one_or_none() is None:
        return None
    rows = list(await session.scalars(select(Recipient).where(Recipient.report_id == report.id)))
    owners = [row for row in rows if row.kind == RecipientKind.OWNER.value]
    told = max((row.position for row in rows if row.kind == RecipientKind.INFORMED.value), default=0)
    for row in rows:
        if row.person_id == to and row.kind != RecipientKind.OWNER.value:
            await session.delete(row)
    for row in owners:
        told += 1
        row.kind, row.position = RecipientKind.INFORMED.value, told
    await session.flush()
    session.add(Recipient(report_id=report.id, person_id=to, role=role, kind=RecipientKind.OWNER.value, position=1))
    note = await _reason(session, report=report, author=by, at=now, text=reason)
    event = await append_event(
        session, now=now, actor=by, kind=EventKind.REASSIGNED, report_ref=report.reference,
        data={"from": [row.person_id for row in owners], "to": to, "role": role, "note": note.id,
              "reason_digest": text_digest(reason), "ack_deadline": timestamp(ack_deadline)},
    )
    return event.seq


async def reopen(
    session: AsyncSession, *, now: datetime, report: Report, by: str, reason: str, closing: str,
    ack_deadline: datetime | None,
) -> int | None:
    """Open a closed report again (acknowledged if it had been); the event's seq, or None if it was not closed.

    `closing` is how it had been closed, in words, kept as a note: the report's closing columns
    are cleared for the next closing, and what was decided the first time must not be lost.
    Unacknowledged, it needs an owner's acknowledgement again: the clock and ladder restart
    from `ack_deadline`.
    """
    status = Status.ACKNOWLEDGED if report.acknowledged_at is not None else Status.OPEN
    restart = ack_deadline if status is Status.OPEN else None
    clock: dict[str, object] = {} if restart is None else {
        "ack_deadline": restart, "next_escalation_at": restart, "escalation_step": 0}
    won = await session.execute(
        update(Report)
        .where(Report.id == report.id, Report.status == Status.CLOSED.value)
        .values(status=status.value, closed_at=None, closed_by=None, close_decision=None, close_reason=None, **clock)
        .returning(Report.id),
        execution_options={"synchronize_session": False},
    )
    if won.scalar_one_or_none() is None:
        return None
    kept = await _reason(session, report=report, author=by, at=now, text=closing)
    note = await _reason(session, report=report, author=by, at=now, text=reason)
    event = await append_event(
        session, now=now, actor=by, kind=EventKind.REOPENED, report_ref=report.reference,
        data={"status": status.value, "note": note.id, "reason_digest": text_digest(reason),
              "closing_note": kept.id, "closing_digest": text_digest(closing),
              **({"ack_deadline": timestamp(restart)} if restart is not None else {})},
    )
    return event.seq


async def _reason(session: AsyncSession, *, report: Report, author: str, at: datetime, text: str) -> ReportNote:
    """Words kept with the report (encrypted at rest like every note); the event that refers to it holds the digest."""
    note = ReportNote(report_id=report.id, kind=NoteKind.NOTE.value, author=author, at=utc(at), text=text)
    session.add(note)
    await session.flush()
    return note
