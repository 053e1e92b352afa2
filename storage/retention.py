"""Erasing a closed report's words under retention, legal holds, and hand-offs: rows and their events.

Erasure keeps a report's skeleton (reference, category, subject kind, flags, dates, status, who
it went to and who acted when, the decision, and the log) and removes every word anyone typed
about it: its details, its notes' and actions' text (reasons for reassigning and reopening are
notes too), the closing reason, where it was handed on to, the reasons of its released holds,
its screenshots, and which pupils it named (a pupil a reporter typed, named by no other report,
goes with it). The `erased` event records the rule and how much went, never what.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Select, delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.digests import text_digest
from storage.log import SYSTEM, EventKind, append_event, report_digest, utc
from storage.models import Pupil, PupilSource, Report, ReportEvidence, ReportHold, ReportNote, ReportPupil, Status
from storage.sealed_reporters import SealedReporter


class Closed(NamedTuple):
    """A closed report not yet erased, as retention reads it: never its words."""

    id: int
    reference: str
    school: str
    category: str
    close_decision: str | None
    closed_at: datetime
    handed_on_at: datetime | None
    held: bool


async def closed_unerased(session: AsyncSession, schools: list[str], *, closed_by: datetime | None = None) -> list[Closed]:
    """The closed reports of these schools whose words are still here (closed no later than `closed_by`), by reference."""
    held = exists().where(ReportHold.report_id == Report.id, ReportHold.released_at.is_(None))
    query = (select(Report.id, Report.reference, Report.school, Report.category, Report.close_decision,
                    Report.closed_at, Report.handed_on_at, held.label("held"))
             .where(Report.school.in_(schools), Report.status == Status.CLOSED.value, Report.erased_at.is_(None),
                    Report.closed_at.is_not(None))
             .order_by(Report.reference))
    if closed_by is not None:
        query = query.where(Report.closed_at <= closed_by)
    return [Closed._make(row) for row in await session.execute(query)]


async def active_hold(session: AsyncSession, report_id: int) -> ReportHold | None:
    """The legal hold standing on a report, if any."""
    query = select(ReportHold).where(ReportHold.report_id == report_id, ReportHold.released_at.is_(None))
    return (await session.scalars(query.order_by(ReportHold.id).limit(1))).one_or_none()


async def lock(session: AsyncSession, report_id: int) -> Report | None:
    """The report, its row locked until the transaction ends: an erasure and a hold never cross."""
    if session.get_bind().dialect.name == "sqlite":
        # SQLite ignores FOR UPDATE: an UPDATE takes its single write lock now, before the row is
        # read, so a second server reads it only after this transaction (as storage.log does).
        await session.execute(update(Report).where(Report.id == report_id).values(id=Report.id),
                              execution_options={"synchronize_session": False})
    return (await session.scalars(select(Report).where(Report.id == report_id).with_for_update())).one_or_none()


@dataclass(frozen=True)
class Erasure:
    """How much of a report's words went (counts only: what the `erased` event records)."""

    reference: str
    rule: str
    details: int
    notes: int
    screenshots: int
    pupils: int
    typed_pupils: int
    close_reason: int
    handed_on_to: int
    hold_reasons: int

    def as_event(self, digest: str) -> dict[str, object]:
        counts = {name: getattr(self, name) for name in ("details", "notes", "screenshots", "pupils", "typed_pupils",
                                                          "close_reason", "handed_on_to", "hold_reasons")}
        return {"rule": self.rule, "digest": digest, **counts}


async def erase(session: AsyncSession, *, now: datetime, report_id: int, rule: str) -> Erasure | None:
    """Erase a closed report's words and log it, in the caller's transaction; None if it is held or already erased.

    The report's row is locked first, so a hold placed at the same moment either comes first
    (and nothing is erased) or finds the report already erased.
    """
    report = await lock(session, report_id)
    if report is None or report.erased_at is not None or report.status != Status.CLOSED.value:
        return None
    if await active_hold(session, report_id) is not None:
        return None
    at = utc(now)
    notes = await _count(session, select(func.count()).select_from(ReportNote)
                         .where(ReportNote.report_id == report_id))
    screenshots = await _count(session, select(func.count()).select_from(ReportEvidence)
                               .where(ReportEvidence.report_id == report_id))
    linked = list(await session.scalars(select(ReportPupil.pupil_id).where(ReportPupil.report_id == report_id)))
    holds = await _count(session, select(func.count()).select_from(ReportHold).where(ReportHold.report_id == report_id))
    erasure = Erasure(report.reference, rule, details=len(report.details or {}), notes=notes, screenshots=screenshots,
                      pupils=len(linked), typed_pupils=0, close_reason=int(bool(report.close_reason)),
                      handed_on_to=int(bool(report.handed_on_to)), hold_reasons=holds)
    await session.execute(update(ReportNote).where(ReportNote.report_id == report_id).values(text=""),
                          execution_options={"synchronize_session": False})
    await session.execute(delete(ReportEvidence).where(ReportEvidence.report_id == report_id))
    await session.execute(update(ReportHold).where(ReportHold.report_id == report_id).values(reason=""),
                          execution_options={"synchronize_session": False})
    await session.execute(delete(ReportPupil).where(ReportPupil.report_id == report_id))
    # A report sent without a name: the sealed link to its reporter goes too, as nothing more is
    # sent about an erased report, and the link is the last thing that could name who wrote it.
    await session.execute(delete(SealedReporter).where(SealedReporter.report_id == report_id))
    typed = 0
    if linked:
        # A pupil known only because a reporter typed their name, and named by no other report, is
        # part of this report's words; a roster pupil is the school's record and stays.
        orphan = (delete(Pupil).where(Pupil.id.in_(linked), Pupil.source == PupilSource.TYPED.value,
                                      ~exists().where(ReportPupil.pupil_id == Pupil.id))
                  .returning(Pupil.id))
        typed = len(list(await session.scalars(orphan)))
    report.details = {}
    report.close_reason = None
    report.handed_on_to = None
    report.erased_at = at
    await session.flush()
    erasure = replace(erasure, typed_pupils=typed)
    await append_event(session, now=at, actor=SYSTEM, kind=EventKind.ERASED, report_ref=report.reference,
                       data=erasure.as_event(report_digest(report)))
    return erasure


async def hold(session: AsyncSession, *, now: datetime, report: Report, by: str, reason: str) -> ReportHold:
    """Place a legal hold (the caller checked there is none and the report is not erased); logged with the reason's digest."""
    row = ReportHold(report_id=report.id, held_at=utc(now), held_by=by, reason=reason)
    session.add(row)
    await session.flush()
    await append_event(session, now=now, actor=by, kind=EventKind.HELD, report_ref=report.reference,
                       data={"hold": row.id, "reason_digest": text_digest(reason)})
    return row


async def release(session: AsyncSession, *, now: datetime, report: Report, row: ReportHold, by: str) -> None:
    """Lift a legal hold; logged. Its reason stays until the report is erased."""
    row.released_at, row.released_by = utc(now), by
    await session.flush()
    await append_event(session, now=now, actor=by, kind=EventKind.RELEASED, report_ref=report.reference,
                       data={"hold": row.id})


async def hand_on(session: AsyncSession, *, now: datetime, report: Report, by: str, to: str) -> None:
    """Record that the report was handed on to a record kept elsewhere; logged with a digest of where."""
    report.handed_on_at, report.handed_on_by, report.handed_on_to = utc(now), by, to
    await session.flush()
    await append_event(session, now=now, actor=by, kind=EventKind.HANDED_ON, report_ref=report.reference,
                       data={"to_digest": text_digest(to)})


async def _count(session: AsyncSession, query: Select[int]) -> int:
    return int(await session.scalar(query) or 0)
