"""Do the legal holds and hand-offs still say what the log recorded? (for `storage.consistency`)

A hold keeps a report from erasure, so deleting or releasing one outside Safeguard would let
its words be erased early; a hand-off shortens how long a report is kept. Each row must match
its `held`, `released` or `handed_on` event; once the report is erased, its reasons and where it
went must be exactly empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.digests import text_digest
from storage.models import Report, ReportHold

if TYPE_CHECKING:  # storage.consistency calls this module: its Fact only names the type here
    from storage.consistency import Fact

HELD, RELEASED, HANDED_ON = "held", "released", "handed_on"
KINDS = frozenset({HELD, RELEASED, HANDED_ON})
ERASED_TEXT = text_digest("")


def _data(fact: Fact) -> dict[str, object]:
    return fact.data if isinstance(fact.data, dict) else {}


def _words(fact: Fact, key: str, erased: dict[str, Fact]) -> object:
    """The digest a row's words must match: the event's, or the empty text's once the report was erased since."""
    erasure = erased.get(fact.report or "")
    return ERASED_TEXT if erasure is not None and erasure.seq > fact.seq else _data(fact).get(key)


async def records_mismatch(
    session: AsyncSession, facts: Sequence[Fact], of_reports: ColumnElement[bool], erased: dict[str, Fact]
) -> tuple[int | None, str] | None:
    """The first hold or hand-off that no longer says what the log says: (seq, problem), if any."""
    held: dict[int, Fact] = {}
    released: dict[int, Fact] = {}
    handed: dict[str, Fact] = {}
    for fact in facts:
        hold = _data(fact).get("hold")
        if fact.kind == HELD and isinstance(hold, int):
            held[hold] = fact
        elif fact.kind == RELEASED and isinstance(hold, int):
            released[hold] = fact
        elif fact.kind == HANDED_ON and fact.report is not None:
            handed[fact.report] = fact
    rows = await session.execute(
        select(ReportHold.id, ReportHold.held_by, ReportHold.held_at, ReportHold.reason, ReportHold.released_by,
               ReportHold.released_at, Report.reference)
        .join(Report, Report.id == ReportHold.report_id).where(of_reports).order_by(ReportHold.id))
    for row in rows:
        found = held.pop(row.id, None)
        if found is None:
            return None, f"the legal hold {row.id} on {row.reference} has no event in the log, so it was added outside Safeguard"
        fact = found
        if (row.held_by, row.held_at, text_digest(row.reason)) != (fact.actor, fact.at, _words(fact, "reason_digest", erased)):
            return fact.seq, f"the legal hold of {fact.label} was edited: it no longer matches the log"
        lifted = released.get(row.id)
        if (row.released_by, row.released_at) != ((lifted.actor, lifted.at) if lifted else (None, None)):
            return (lifted or fact).seq, f"the legal hold of {fact.label} was edited: its release no longer matches the log"
    if held:
        first = min(held.values(), key=lambda f: f.seq)
        return first.seq, f"the legal hold of {first.label} is missing, so it was deleted"
    reports = await session.execute(
        select(Report.reference, Report.handed_on_by, Report.handed_on_at, Report.handed_on_to)
        .where(of_reports, or_(Report.handed_on_at.is_not(None), Report.handed_on_by.is_not(None),
                               Report.reference.in_(list(handed))))
        .order_by(Report.reference))
    for report in reports:
        handoff = handed.get(report.reference)
        if handoff is None:
            return None, (f"report {report.reference} says it was handed on, but the log has no hand-off of it, "
                          "so the report was edited")
        said = (report.handed_on_by, report.handed_on_at, text_digest(report.handed_on_to or ""))
        if said != (handoff.actor, handoff.at, _words(handoff, "to_digest", erased)):
            return handoff.seq, f"report {report.reference} was edited: its hand-off no longer matches {handoff.label}"
    return None
