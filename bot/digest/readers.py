"""Who reads a digest decides what it counts: no figure may single out a report its reader may not view."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cases.access import may_see
from bot.app import App
from routing.school import Person
from routing.vocabulary import Role
from storage import weekly
from storage.models import Recipient

# Who handles a case inside the school. A report owned by anyone else (the chair of governors, a
# trust's Chief Executive) went to them because it is about the headteacher (St Leonard's §8; KCSIE
# Part four), so its owner's line ("Chair of governors: 1"), or a LADO count beside it,
# would tell every governor who reads the digest that there is a concern about the head. Such a
# report is counted only in the digest of someone who may view it (bot.cases.access: it was routed or
# escalated to them) and left out of every figure of anyone else's, totals included, so that no
# figure and no difference between two figures can single it out. Its owner hears of it from its
# alerts; a digest printed at the terminal (no reader) is the one a governor would read.
SCHOOL_CASE_OWNERS = frozenset({Role.HEADTEACHER.value, Role.DSL.value, Role.DEPUTY_DSL.value,
                                Role.ONLINE_SAFETY_OFFICER.value})
# A deputy DSL owns a report in the DSL's place chiefly when it is about the DSL: a line of its
# own would point at her, so the deputy's reports are counted in the DSL's line.
FOLDED_OWNERS = {Role.DEPUTY_DSL.value: Role.DSL.value}


async def hidden_from(
    app: App, session: AsyncSession, reader: str | None, *, start: datetime, end: datetime, now: datetime
) -> list[str]:
    """The references the figures leave out for `reader`: owned beyond the school's case owners, and not theirs to view."""
    person = app.person(reader) if reader is not None else None
    return await hidden_for(session, person, start=start, end=end, now=now, school=app.school.id)


async def hidden_for(
    session: AsyncSession, person: Person | None, *, start: datetime, end: datetime, now: datetime, school: str | None
) -> list[str]:
    """`hidden_from` for a reader known by their record (None: anyone), over one school's reports (a trust's code)."""
    beyond = await weekly.owned_beyond(session, roles=SCHOOL_CASE_OWNERS, start=start, end=end, now=now, school=school)
    if person is None or not beyond:
        return [report.reference for report in beyond]
    rows: dict[int, list[Recipient]] = {}
    for row in await session.scalars(select(Recipient).where(
            Recipient.person_id == person.id, Recipient.report_id.in_([r.id for r in beyond]))):
        rows.setdefault(row.report_id, []).append(row)
    return [report.reference for report in beyond if not may_see(person, report, rows.get(report.id, []))]


def folded(by_owner: dict[str, list[int]]) -> dict[str, list[int]]:
    """Counts per owner role, with each role of FOLDED_OWNERS counted in the line of the role it stands in for."""
    lines: dict[str, list[int]] = {}
    for role, counts in by_owner.items():
        line = FOLDED_OWNERS.get(role, role)
        lines[line] = [a + b for a, b in zip(lines.get(line, [0] * len(counts)), counts, strict=True)]
    return lines
