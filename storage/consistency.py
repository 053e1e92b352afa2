"""Do the reports' changing columns and the notes still say what the log recorded?

The chain proves the log itself is as written. A report's acknowledgement, closing and
status, and the notes' words, live in ordinary rows; someone who edits those (say, to show
a different person acknowledged in time) leaves them disagreeing with the log, and this
names the first such report or note.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.digests import text_digest
from storage.models import Report, ReportNote, Status
from storage.records_check import records_mismatch

ACKNOWLEDGED = "acknowledged"
CLOSED = "closed"
LADO_CONSULTED = "lado_consulted"
REASSIGNED = "reassigned"  # clears the acknowledgement: the new owner must acknowledge it again
REOPENED = "reopened"  # clears the closing
ERASED = "erased"  # words erased under retention: every earlier note's text and the closing reason are then ""
NOTE_KINDS = {"note_added": "note", "action_recorded": "action", "reporter_asked": "question",
              "reporter_answered": "answer", "reporter_added": "addition"}
ANSWERED = "reporter_answered"  # its note must still answer the question the log says it answered
# Events that keep words as notes of their own (a reason, an earlier closing): the data key of
# each note's id, and of the digest its words must still match.
REASON_NOTES = {REASSIGNED: (("note", "reason_digest"),),
                REOPENED: (("note", "reason_digest"), ("closing_note", "closing_digest"))}


class Fact(NamedTuple):
    """An event whose effect shows in a row: an acknowledgement, a closing, a note (a tuple: verify makes many)."""

    seq: int
    label: str
    kind: str
    report: str | None
    actor: str
    at: datetime
    data: Any


@dataclass(frozen=True)
class Mismatch:
    """The first row that disagrees with the log, and the event it is measured against."""

    seq: int | None
    problem: str


class ReportState(NamedTuple):
    """A report's changing columns, as stored: what the log's facts are checked against."""

    reference: str
    status: str
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    closed_at: datetime | None
    closed_by: str | None
    close_decision: str | None
    close_reason: str | None  # decrypted
    lado_consulted_at: datetime | None
    lado_consulted_by: str | None
    erased_at: datetime | None


# The columns a ReportState is read from, in its order (verify reads them with the report's content).
STATE_COLUMNS = (
    Report.reference, Report.status, Report.acknowledged_at, Report.acknowledged_by, Report.closed_at,
    Report.closed_by, Report.close_decision, Report.close_reason, Report.lado_consulted_at, Report.lado_consulted_by,
    Report.erased_at,
)


async def first_mismatch(
    session: AsyncSession, facts: Sequence[Fact], reports: Iterable[ReportState], of_reports: ColumnElement[bool]
) -> Mismatch | None:
    """The first report (in `reports`' order: by reference) or note that no longer says what the log says, if any.

    The notes checked are those of the reports `of_reports` picks (a condition on Report): the
    reports of the chain whose facts these are, so each school's notes are checked with its chain.
    """
    # The facts in the log's order: the acknowledgement and closing that stand are the last ones
    # not undone since (a reassignment asks for a new acknowledgement; reopening undoes a closing).
    acks: dict[str, Fact | None] = {}
    closes: dict[str, Fact | None] = {}
    lado: dict[str, Fact] = {}
    erased: dict[str, Fact] = {}
    notes: dict[int, tuple[Fact, str, object]] = {}
    for fact in facts:
        if fact.report is None:
            continue
        data = fact.data if isinstance(fact.data, dict) else {}
        if fact.kind == ACKNOWLEDGED:
            acks[fact.report] = acks.get(fact.report) or fact
        elif fact.kind == REASSIGNED:
            acks[fact.report] = None
        elif fact.kind == CLOSED:
            closes[fact.report] = closes.get(fact.report) or fact
        elif fact.kind == REOPENED:
            closes[fact.report] = None
        elif fact.kind == LADO_CONSULTED:
            lado.setdefault(fact.report, fact)
        elif fact.kind == ERASED:
            erased[fact.report] = fact
        elif fact.kind in NOTE_KINDS and isinstance(data.get("note"), int):
            notes[data["note"]] = (fact, NOTE_KINDS[fact.kind], data.get("digest"))
        for key, digest in REASON_NOTES.get(fact.kind, ()):
            if isinstance(data.get(key), int):
                notes[data[key]] = (fact, "note", data.get(digest))
    for report in reports:
        erasure = erased.get(report.reference)
        found = _report_mismatch(report, acks.get(report.reference), closes.get(report.reference), erasure)
        found = found or _lado_mismatch(report, lado.get(report.reference)) or _erased_mismatch(report, erasure)
        if found is not None:
            return found
    found_note = await _note_mismatch(session, notes, of_reports, erased)
    if found_note is not None:
        return found_note
    held = await records_mismatch(session, facts, of_reports, erased)
    return None if held is None else Mismatch(*held)


def _report_mismatch(report: ReportState, ack: Fact | None, close: Fact | None, erased: Fact | None) -> Mismatch | None:
    ref = report.reference
    if ack is None and (report.acknowledged_at is not None or report.acknowledged_by is not None):
        return Mismatch(None, f"report {ref} says it was acknowledged, but the log has no acknowledgement of it, "
                              "so the report was edited")
    if ack is not None and (report.acknowledged_by, report.acknowledged_at) != (ack.actor, ack.at):
        return Mismatch(ack.seq, f"report {ref} was edited: who acknowledged it and when no longer match {ack.label}")
    if close is None and (report.closed_at is not None or report.closed_by is not None):
        return Mismatch(None, f"report {ref} says it was closed, but the log has no closing of it, so the report was edited")
    if close is not None:
        data = close.data if isinstance(close.data, dict) else {}
        said = (report.closed_by, report.closed_at, report.close_decision)
        reason = data.get("reason_digest")
        if erased is not None and erased.seq > close.seq:
            reason = text_digest("")  # erased under retention: the reason is gone, exactly
        if said != (close.actor, close.at, data.get("decision")) or (
            reason is not None and text_digest(report.close_reason or "") != reason
        ):
            return Mismatch(close.seq, f"report {ref} was edited: how it was closed no longer matches {close.label}")
    expected = Status.CLOSED if close else Status.ACKNOWLEDGED if ack else Status.OPEN
    if report.status != expected.value:
        evidence = close or ack
        return Mismatch(evidence.seq if evidence else None,
                        f"report {ref} was edited: its status is {report.status!r} but the log makes it {expected.value!r}")
    return None


def _lado_mismatch(report: ReportState, consulted: Fact | None) -> Mismatch | None:
    """The LADO consultation (KCSIE Part four) must say who recorded it and when, as the log does."""
    said = (report.lado_consulted_by, report.lado_consulted_at)
    if consulted is None:
        if said != (None, None):
            return Mismatch(None, f"report {report.reference} says the LADO was consulted, but the log has no "
                                  "record of it, so the report was edited")
        return None
    if said != (consulted.actor, consulted.at):
        return Mismatch(consulted.seq, f"report {report.reference} was edited: who recorded the LADO consultation "
                                       f"and when no longer match {consulted.label}")
    return None


def _erased_mismatch(report: ReportState, erased: Fact | None) -> Mismatch | None:
    """Only the scheduler's erasure, which the log records, sets `erased_at`, and to its own time."""
    if erased is None:
        if report.erased_at is not None:
            return Mismatch(None, f"report {report.reference} says it was erased, but the log has no erasure of it, "
                                  "so the report was edited")
        return None
    if report.erased_at != erased.at:
        return Mismatch(erased.seq, f"report {report.reference} was edited: when it was erased no longer matches "
                                    f"{erased.label}")
    return None


async def _note_mismatch(
    session: AsyncSession, notes: dict[int, tuple[Fact, str, object]], of_reports: ColumnElement[bool],
    erased: dict[str, Fact],
) -> Mismatch | None:
    # Columns, not notes: no note is loaded as an object (or kept in the session) to be read once.
    query = (select(ReportNote.id, ReportNote.author, ReportNote.at, ReportNote.kind, ReportNote.text, ReportNote.answers)
             .join(Report, Report.id == ReportNote.report_id).where(of_reports).order_by(ReportNote.id))
    rows = {row.id: row for row in await session.execute(query)}
    for note_id, (fact, kind, digest) in sorted(notes.items(), key=lambda item: (item[1][0].seq, item[0])):
        row = rows.pop(note_id, None)
        what = kind if fact.kind in NOTE_KINDS else "reason"
        if row is None:
            return Mismatch(fact.seq, f"the {what} of {fact.label} is missing, so it was deleted")
        erasure = erased.get(fact.report) if fact.report is not None else None
        if erasure is not None and erasure.seq > fact.seq:
            digest = text_digest("")  # erased under retention: its words are gone, who wrote it and when kept
        data = fact.data if isinstance(fact.data, dict) else {}
        answers = data.get("question") if fact.kind == ANSWERED else None
        if (row.author, row.at, row.kind, text_digest(row.text), row.answers) != (fact.actor, fact.at, kind, digest, answers):
            return Mismatch(fact.seq, f"the {what} of {fact.label} was edited: it no longer matches its digest")
    if rows:
        first = min(rows)
        return Mismatch(None, f"note {first} has no event in the log, so it was added outside Safeguard")
    return None
