"""At the console: the owner asks the reporter a question, the reporter answers, and adds to the report later.

Reports are made as a teacher makes them, line by line; the headteacher works them with the
commands /help lists. Nothing of ours is replaced.
"""

from __future__ import annotations

from sqlalchemy import select, text as sql, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.digests import text_digest
from storage.log import events_for, verify
from storage.models import NoteKind, ReportNote
from tests.integration.console import Clock, Terminal, console_app, text

PARENT_POST = "A parent called a named teacher a liar on a community Facebook page (made-up)."
# A teacher bullied by a parent: the headteacher's alone (St Leonard's §8).
BULLIED_TEACHER = ["Cyberbullying", "A member of staff", "A parent or carer", "I don't know", "Facebook", PARENT_POST,
                   "No", "No", "No screenshots", "Send"]
QUESTION = "Which community page was it, and did anyone else see it? (made-up)"
ANSWER = "The village noticeboard group; Mr Hale saw it too (made-up)."
MORE = "The post was deleted this morning, but I kept a note of the time (made-up)."


async def reported(teacher: Terminal) -> str:
    for line in BULLIED_TEACHER:
        await teacher.type(line)
    return "SG-2026-0001"


async def test_the_owner_asks_the_reporter_answers_and_the_answer_shows_in_the_history(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock)
    teacher, head, deputy = Terminal(app, "cfinch"), Terminal(app, "jellis"), Terminal(app, "smorgan")
    await teacher.open()
    reference = await reported(teacher)
    assert f"/add {reference} TEXT" in text(teacher.printed), "the receipt offers to add to the report later"
    alert = text(await head.open())
    assert f"/ask {reference} QUESTION" in alert, "the owner's alert offers to ask the reporter"

    clock.advance(minutes=3)
    said = text(await head.type(f"/ask {reference} {QUESTION}"))
    assert said == (f"Your question was sent to the person who reported {reference}. Their answer will come to you "
                    "here, and shows in the report's history.")
    # The DSL was not sent this report (it is the headteacher's alone): she may not ask, and it is logged.
    await deputy.open()
    assert text(await deputy.type(f"/ask {reference} Anything?")).startswith(
        f"! You can't ask the reporter of {reference}: it was not sent to you.")

    asked = text(await teacher.type("/help"))
    assert f"A question about your report {reference}\nThe Headteacher asks: {QUESTION}" in asked
    assert "Jordan Ellis" not in asked and "jellis" not in asked, "the reporter is told the asker's role, never a name"
    assert f"/answer {reference} TEXT" in asked

    clock.advance(minutes=5)
    assert text(await teacher.type(f"/answer {reference} {ANSWER}")) == (
        f"Thank you. Your answer about {reference} was sent to the people handling it.")
    # Only one question was asked: a second answer finds none waiting.
    assert text(await teacher.type(f"/answer {reference} again")) == (
        f"No question about {reference} is waiting for your answer.")

    answered = text(await head.type("/help"))
    assert f"Answer from the reporter of {reference}" in answered
    assert f": {QUESTION}\nThe reporter answers: {ANSWER}" in answered
    assert "Chris Finch" not in answered.split("Answer from the reporter")[1], "the answer itself is nameless"

    history = text(await head.type(f"/view {reference}"))
    assert f"Question to the reporter by Jordan Ellis at 09:18 on Fri 20 Nov: {QUESTION}" in history
    assert f"The reporter answered at 09:23 on Fri 20 Nov: {ANSWER}" in history
    assert "reporter asked" in history and "reporter answered" in history

    async with sessions() as session:
        events = await events_for(session, reference)
        asked_event = next(e for e in events if e.kind == "reporter_asked")
        answer_event = next(e for e in events if e.kind == "reporter_answered")
        assert asked_event.data["digest"] == text_digest(QUESTION) and QUESTION not in str(asked_event.data)
        assert answer_event.data["question"] == asked_event.data["note"] and ANSWER not in str(answer_event.data)
        assert [e.data for e in events if e.kind == "refused"] == [{"action": "ask"}]
        assert (await verify(session)).ok


async def test_the_reporter_adds_to_a_closed_report_and_its_owner_is_told_without_it_reopening(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock)
    teacher, head, other = Terminal(app, "cfinch"), Terminal(app, "jellis"), Terminal(app, "smorgan")
    await teacher.open()
    reference = await reported(teacher)
    await head.open()
    await head.type(f"/close {reference} handled_in_school Made-up reason: spoken to the parent")
    assert text(await head.type(f"/ask {reference} One more thing?")).startswith(f"! {reference} is closed")

    await teacher.type("/help")
    assert text(await teacher.type(f"/add {reference} {MORE}")) == (
        f"Thank you. What you added to {reference} was sent to the people handling it. The report is closed; what "
        "you added is kept with it.")
    told = text(await head.type("/help"))
    assert f"The reporter of {reference} added to it\nThe reporter adds: {MORE}" in told
    assert "The report is closed: this does not reopen it." in told
    assert f"Report {reference}: closed" in text(await head.type(f"/view {reference}"))

    # Someone else cannot add to it, or answer for its reporter: one line each, logged.
    await other.open()
    assert text(await other.type(f"/add {reference} Made-up")) == (
        f"! You can't add to {reference}: only the person who reported it can.")
    assert text(await other.type(f"/answer {reference} Made-up")).startswith("! You can't answer that question")
    async with sessions() as session:
        refused = [e.data for e in await events_for(session, reference) if e.kind == "refused"]
        assert refused == [{"action": "add"}, {"action": "answer"}]


async def test_an_answer_edited_in_the_database_is_caught_by_verify(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock)
    teacher, head = Terminal(app, "cfinch"), Terminal(app, "jellis")
    await teacher.open()
    reference = await reported(teacher)
    await head.open()
    await head.type(f"/ask {reference} {QUESTION}")
    await teacher.type("/help")
    await teacher.type(f"/answer {reference} {ANSWER}")
    async with sessions.begin() as session:
        assert (await verify(session)).ok
        stored = [str(row[0]) for row in await session.execute(sql("SELECT text FROM report_notes"))]
        assert len(stored) == 2 and not any(QUESTION in s or ANSWER in s for s in stored), "encrypted at rest"
        answer_id = await session.scalar(select(ReportNote.id).where(ReportNote.kind == NoteKind.ANSWER.value))
        await session.execute(update(ReportNote).where(ReportNote.id == answer_id).values(text="Nobody else saw it."))
    async with sessions() as session:
        result = await verify(session)
    assert not result.ok
    assert "the answer of event" in (result.problem or "") and "no longer matches its digest" in (result.problem or "")
