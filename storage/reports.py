"""Reports: references, storing what was submitted, its routing, acknowledgement, and queries."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, or_, select, update
from sqlalchemy.sql.dml import ReturningUpdate
from sqlalchemy.ext.asyncio import AsyncSession

from routing.vocabulary import FLAG_ORDER, Category, Flag, Subject, Target
from storage.db import conflict_insert
from storage.digests import text_digest
from storage.log import SYSTEM, EventKind, append_event, as_json_value, report_digest, timestamp, utc
from storage.models import (
    NoteKind,
    Recipient,
    RecipientKind,
    Report,
    ReportCounter,
    ReportNote,
    RoutingDecision,
    Status,
)

REFERENCE_PREFIX = "SG"


class ReportNotFound(LookupError):
    """No report has this reference."""


@dataclass(frozen=True)
class Change:
    """A report after a guarded update, and whether this call made the change (only one caller does)."""

    report: Report
    changed: bool


@dataclass(frozen=True)
class NewRecipient:
    """A person a report is routed to; their order within `kind` is the escalation order."""

    person_id: str
    role: str
    kind: RecipientKind


def format_reference(year: int, number: int, prefix: str = REFERENCE_PREFIX) -> str:
    """The reference staff quote: SG-2026-0042 (a school alone), SG-BPA-2026-0042 (a school of a trust)."""
    return f"{prefix}-{year}-{number:04d}"


async def next_reference(session: AsyncSession, *, year: int, prefix: str = REFERENCE_PREFIX) -> str:
    """Allocate the next reference of `year` under `prefix` in the caller's transaction (rolled back with it)."""
    # One statement creates the year's counter or bumps it; on PostgreSQL the upsert locks
    # the counter row (as FOR UPDATE would) until commit, so concurrent reports queue for it.
    statement = conflict_insert(session, ReportCounter).values(prefix=prefix, year=year, last=1).on_conflict_do_update(
        index_elements=[ReportCounter.prefix, ReportCounter.year], set_={"last": ReportCounter.last + 1}
    ).returning(ReportCounter.last)
    number = (await session.execute(statement)).scalar_one()
    return format_reference(year, number, prefix)


async def create_report(
    session: AsyncSession,
    *,
    now: datetime,
    school: str,
    category: Category,
    subject: Subject,
    reporter: str,
    details: Mapping[str, object],
    flags: Iterable[Flag] = (),
    subject_person: str | None = None,
    allegation: bool = False,
    channel: str | None = None,
    target: Target | None = None,
    reference_prefix: str = REFERENCE_PREFIX,
) -> Report:
    """Store a report and its `created` event in the caller's transaction: both or neither."""
    created_at = utc(now)
    given = set(flags)
    report = Report(
        reference=await next_reference(session, year=created_at.year, prefix=reference_prefix),
        school=school,
        category=category.value,
        subject=subject.value,
        subject_person=subject_person,
        target=None if target is None else target.value,
        flags=[flag.value for flag in FLAG_ORDER if flag in given],
        allegation=allegation,
        details=as_json_value(details),
        reporter=reporter,
        status=Status.OPEN.value,
        created_at=created_at,
        channel=channel,
    )
    session.add(report)
    await session.flush()
    await append_event(
        session, now=created_at, actor=reporter, kind=EventKind.CREATED, report_ref=report.reference,
        data={
            "digest": report_digest(report),
            "category": report.category,
            "subject": report.subject,
            "flags": report.flags,
            "allegation": allegation,
            **({} if target is None else {"target": target.value}),
        },
    )
    return report


async def record_routing(
    session: AsyncSession,
    *,
    now: datetime,
    report: Report,
    decision_json: Mapping[str, Any],
    recipients: Sequence[NewRecipient],
    lado_due_at: datetime | None = None,
    ack_deadline: datetime | None = None,
) -> RoutingDecision:
    """Store the decision and its recipients, set the deadline (and the LADO clock), and log a `routed` event.

    `ack_deadline` is when the clock runs out on the school's calendar (routing.engine.due_at);
    without it, the decision's minutes are counted straight from when the report was made.
    """
    minutes = int(decision_json["ack_within_minutes"])
    decision = RoutingDecision(
        report_id=report.id,
        decided_at=now,
        owner_role=str(decision_json["owner"]),
        informed=list(decision_json.get("informed", [])),
        escalation=list(decision_json.get("escalation", [])),
        ack_within_minutes=minutes,
        citations=list(decision_json.get("citations", [])),
    )
    session.add(decision)
    positions: dict[RecipientKind, int] = {}
    for person in recipients:
        positions[person.kind] = positions.get(person.kind, 0) + 1
        session.add(Recipient(
            report_id=report.id, person_id=person.person_id, role=person.role,
            kind=person.kind.value, position=positions[person.kind],
        ))
    # The clock starts when the member of staff reported, not when routing finished.
    report.ack_deadline = ack_deadline or report.created_at + timedelta(minutes=minutes)
    report.next_escalation_at = report.ack_deadline  # the scheduler acts then, unless acknowledged
    report.lado_due_at = lado_due_at
    await session.flush()
    await append_event(
        session, now=now, actor=SYSTEM, kind=EventKind.ROUTED, report_ref=report.reference,
        data={
            "decision": dict(decision_json),
            "ack_deadline": timestamp(report.ack_deadline),
            **({"lado_due": timestamp(lado_due_at)} if lado_due_at is not None else {}),
            "recipients": [{"person": p.person_id, "role": p.role, "kind": p.kind.value} for p in recipients],
        },
    )
    return decision


async def acknowledge(session: AsyncSession, *, now: datetime, report_ref: str, person_id: str) -> Change:
    """Record the first acknowledgement (and its event); a later one changes nothing."""
    # The conditional update decides the race: on PostgreSQL a second acknowledger waits for
    # the first's row lock, then finds acknowledged_at set and updates nothing.
    won = (
        update(Report)
        .where(Report.reference == report_ref, Report.acknowledged_at.is_(None))
        .values(
            acknowledged_at=now,
            acknowledged_by=person_id,
            next_escalation_at=None,  # acknowledged: the ladder stops here
            status=case((Report.status == Status.OPEN.value, Status.ACKNOWLEDGED.value), else_=Report.status),
        )
        .returning(Report.id)
    )
    return await _first_wins(
        session, won, now=now, report_ref=report_ref, actor=person_id,
        kind=EventKind.ACKNOWLEDGED, data={"by": person_id},
    )


async def close_report(
    session: AsyncSession, *, now: datetime, report_ref: str, person_id: str, decision: str, reason: str
) -> Change:
    """Close a report with the decision taken and why (and log `closed`); closing it again changes nothing."""
    won = (
        update(Report)
        .where(Report.reference == report_ref, Report.status != Status.CLOSED.value)
        .values(status=Status.CLOSED.value, closed_at=now, closed_by=person_id, close_decision=decision,
                close_reason=reason, next_escalation_at=None)
        .returning(Report.id)
    )
    return await _first_wins(
        session, won, now=now, report_ref=report_ref, actor=person_id,
        # The reason is free text (names, perhaps): the log keeps its digest, the report its words.
        kind=EventKind.CLOSED, data={"decision": decision, "reason_digest": text_digest(reason)},
    )


async def add_note(
    session: AsyncSession, *, now: datetime, report: Report, kind: NoteKind, author: str, text: str
) -> ReportNote:
    """Add a note or a recorded action, and log it (`note_added` / `action_recorded`) with its digest."""
    note = ReportNote(report_id=report.id, kind=kind.value, author=author, at=utc(now), text=text)
    session.add(note)
    await session.flush()
    event = EventKind.ACTION_RECORDED if kind is NoteKind.ACTION else EventKind.NOTE_ADDED
    await append_event(
        session, now=now, actor=author, kind=event, report_ref=report.reference,
        data={"note": note.id, "digest": text_digest(text)},
    )
    return note


async def notes_for(session: AsyncSession, report: Report) -> list[ReportNote]:
    """A report's notes and recorded actions, oldest first."""
    query = select(ReportNote).where(ReportNote.report_id == report.id).order_by(ReportNote.at, ReportNote.id)
    return list(await session.scalars(query))


async def _first_wins(
    session: AsyncSession, statement: ReturningUpdate[int], *, now: datetime, report_ref: str, actor: str,
    kind: EventKind, data: dict[str, object],
) -> Change:
    """Run a guarded update; only the call that changed the row logs the event."""
    result = await session.execute(statement, execution_options={"synchronize_session": False})
    changed = result.scalar_one_or_none() is not None
    report = await get_report(session, report_ref)
    if report is None:
        raise ReportNotFound(f"no report {report_ref}")
    if changed:
        await append_event(session, now=now, actor=actor, kind=kind, report_ref=report_ref, data=data)
    return Change(report, changed)


async def get_report(session: AsyncSession, reference: str) -> Report | None:
    """The report with this reference, freshly read."""
    query = select(Report).where(Report.reference == reference).execution_options(populate_existing=True)
    return (await session.scalars(query)).one_or_none()


async def get_routing(session: AsyncSession, report: Report) -> tuple[RoutingDecision | None, list[Recipient]]:
    """The decision taken for a report and its recipients (owners first, in ladder order)."""
    decision = await session.get(RoutingDecision, report.id)
    people = await session.scalars(select(Recipient).where(Recipient.report_id == report.id))
    order = list(RecipientKind)
    return decision, sorted(people, key=lambda p: (order.index(RecipientKind(p.kind)), p.position))


async def open_reports_for(session: AsyncSession, person_id: str) -> list[Report]:
    """Reports not yet closed that reached this person, oldest first.

    They reached them as owner or informed, or as a rung of the escalation ladder once
    escalated to (a rung not yet reached has not been told).
    """
    reached = or_(
        Recipient.kind.in_([RecipientKind.OWNER.value, RecipientKind.INFORMED.value]),
        Recipient.escalated_at.is_not(None),
    )
    routed = select(Recipient.report_id).where(Recipient.person_id == person_id, reached)
    query = (
        select(Report)
        .where(Report.id.in_(routed), Report.status != Status.CLOSED.value)
        .order_by(Report.created_at, Report.id)
    )
    return list(await session.scalars(query))
