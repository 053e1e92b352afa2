"""Questions put to a report's reporter, their answers, and what a reporter adds later.

Each is a note of its own kind (storage.models.NoteKind): its words are encrypted at rest like
any note, the log keeps their digest and never the words, and storage.consistency checks each
one against its event. An answer names its question in a unique column, so a question is
answered once even if its answer is sent twice at the same moment.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import conflict_insert
from storage.digests import text_digest
from storage.log import EventKind, append_event, utc
from storage.models import NoteKind, Report, ReportNote


async def ask(session: AsyncSession, *, now: datetime, report: Report, author: str, text: str) -> ReportNote:
    """Store a question for the reporter, and log `reporter_asked` with its digest."""
    return await _note(session, now=now, report=report, kind=NoteKind.QUESTION, author=author, text=text,
                       event=EventKind.REPORTER_ASKED)


async def add(session: AsyncSession, *, now: datetime, report: Report, author: str, text: str) -> ReportNote:
    """Store what the reporter added to their report, and log `reporter_added` with its digest."""
    return await _note(session, now=now, report=report, kind=NoteKind.ADDITION, author=author, text=text,
                       event=EventKind.REPORTER_ADDED)


async def answer(
    session: AsyncSession, *, now: datetime, report: Report, question: ReportNote, author: str, text: str
) -> ReportNote | None:
    """Store the answer to `question` and log `reporter_answered`; None if it was answered already."""
    inserted = await session.execute(
        conflict_insert(session, ReportNote)
        .values(report_id=report.id, kind=NoteKind.ANSWER.value, author=author, at=utc(now), text=text,
                answers=question.id)
        .on_conflict_do_nothing(index_elements=["answers"])
        .returning(ReportNote.id)
    )
    note_id = inserted.scalar_one_or_none()
    if note_id is None:
        return None
    await append_event(session, now=now, actor=author, kind=EventKind.REPORTER_ANSWERED, report_ref=report.reference,
                       data={"note": note_id, "question": question.id, "digest": text_digest(text)})
    return await session.get(ReportNote, note_id)


async def question(session: AsyncSession, report: Report, question_id: int) -> ReportNote | None:
    """The question `question_id` of this report (None if it is not one of its questions)."""
    note = await session.get(ReportNote, question_id)
    if note is None or note.report_id != report.id or note.kind != NoteKind.QUESTION.value:
        return None
    return note


async def unanswered(session: AsyncSession, report: Report) -> list[ReportNote]:
    """The report's questions not yet answered, oldest first."""
    answered = select(ReportNote.answers).where(ReportNote.report_id == report.id, ReportNote.answers.is_not(None))
    query = (select(ReportNote)
             .where(ReportNote.report_id == report.id, ReportNote.kind == NoteKind.QUESTION.value,
                    ReportNote.id.not_in(answered))
             .order_by(ReportNote.id))
    return list(await session.scalars(query))


async def is_answered(session: AsyncSession, question_id: int) -> bool:
    """Whether the question has its answer."""
    return (await session.scalar(select(ReportNote.id).where(ReportNote.answers == question_id))) is not None


async def _note(
    session: AsyncSession, *, now: datetime, report: Report, kind: NoteKind, author: str, text: str, event: EventKind
) -> ReportNote:
    note = ReportNote(report_id=report.id, kind=kind.value, author=author, at=utc(now), text=text)
    session.add(note)
    await session.flush()
    await append_event(session, now=now, actor=author, kind=event, report_ref=report.reference,
                       data={"note": note.id, "digest": text_digest(text)})
    return note
