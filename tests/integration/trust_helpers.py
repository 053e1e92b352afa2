"""Builders for a trust's records: reports of the example trust's schools (bpa, oak), stored as Safeguard stores them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing.vocabulary import Category, Subject
from storage.log import EventKind, append_event, as_json_value, report_digest, utc
from storage.models import NoteKind, RecipientKind, Report, Status
from storage.reports import NewRecipient, acknowledge, add_note, record_routing
from tests.integration.helpers import DECISION, minutes

# The example trust's people (bot/examples/trust.yaml): who owns and who is told, per school.
OWNERS = {"bpa": ("obrien", "dsl"), "oak": ("smorgan", "dsl"), "hol": ("ebarker", "dsl")}


async def school_report(
    session: AsyncSession, code: str, number: int, *, now: datetime, category: Category = Category.MISUSE,
    reporter: str = "gmarsh", subject: Subject = Subject.PUPIL,
) -> Report:
    """A made-up report of school `code` (SG-BPA-2026-0001), stored with its `created` event as lifecycle stores one.

    Made here, not by create_report, so the reference carries the school code whatever the
    reference counter does; `school` is the code, as a trust stores it.
    """
    at = utc(now)
    report = Report(
        reference=f"SG-{code.upper()}-{at.year}-{number:04d}", school=code, category=category.value,
        subject=subject.value, subject_person=None, target=None, flags=[], allegation=False,
        details=as_json_value({"what": f"A made-up concern at school {code}"}), reporter=reporter,
        status=Status.OPEN.value, created_at=at, channel=None,
    )
    session.add(report)
    await session.flush()
    await append_event(session, now=at, actor=reporter, kind=EventKind.CREATED, report_ref=report.reference,
                       data={"digest": report_digest(report), "category": report.category,
                             "subject": report.subject, "flags": [], "allegation": False})
    return report


async def routed(
    session: AsyncSession, report: Report, code: str, *, now: datetime, ack_minutes: int = 60,
    owner: tuple[str, str] | None = None,
) -> None:
    """Route `report` to its school's DSL (or `owner`: person id and role), with the ladder's deadline `ack_minutes` on."""
    person, role = owner or OWNERS[code]
    decision = {**DECISION, "owner": role, "ack_within_minutes": ack_minutes}
    await record_routing(session, now=now, report=report, decision_json=decision,
                         recipients=(NewRecipient(person, role, RecipientKind.OWNER),))


async def two_schools(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Sequence[str]]:
    """bpa: two reports (one acknowledged, with a note); oak: one report; and a roster import of bpa's.

    Returns each school's references.
    """
    async with sessions.begin() as session:
        first = await school_report(session, "bpa", 1, now=minutes(0))
        await routed(session, first, "bpa", now=minutes(0.01))
        oak = await school_report(session, "oak", 1, now=minutes(1), reporter="cfinch")
        await routed(session, oak, "oak", now=minutes(1.01))
        second = await school_report(session, "bpa", 2, now=minutes(2), category=Category.INAPPROPRIATE_CONTENT)
        await routed(session, second, "bpa", now=minutes(2.01))
    async with sessions.begin() as session:
        await acknowledge(session, now=minutes(5), report_ref=first.reference, person_id="obrien")
        await add_note(session, now=minutes(6), report=first, kind=NoteKind.NOTE, author="obrien",
                       text="Spoke to the made-up class teacher")
        await append_event(session, now=minutes(7), actor="system", kind=EventKind.PUPILS_IMPORTED, report_ref=None,
                           data={"added": 3}, chain="bpa")
    return {"bpa": (first.reference, second.reference), "oak": (oak.reference,)}
