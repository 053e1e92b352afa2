"""The console under bad input, restarts, idle drafts, a locked database and an edited log."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.cli.main import cli
from dialogs.state import StepId
from storage.db import create_engine, database_url as parse_url, sessionmaker
from storage.log import events_for
from storage.models import Event, Report
from tests.builders import TEST_KEY, TEST_KEYS
from tests.integration.console import START, Clock, Terminal, console_app, text
from tests.integration.helpers import unguarded

TOO_LONG = "x" * 1001
# An answer each question must refuse, with the reason it gives.
BAD: dict[StepId, tuple[str, str]] = {
    StepId.CATEGORY: ("banana", "isn't one of the options"),
    StepId.SUBJECT: ("a goat", "isn't one of the options"),
    StepId.ABOUT_STAFF: ("perhaps", "isn't one of the options"),
    StepId.COLLEAGUE: ("Nobody Atall", "in the staff directory"),
    StepId.ACCOUNT: ("  ", "it can't be empty"),
    StepId.PUPIL: ("x" * 101, "Please keep it to 100 or fewer"),
    StepId.PUPIL_PICK: ("Nobody Atall", "isn't one of the options"),
    StepId.PUPIL_YEAR: ("y" * 41, "Please keep it to 40 or fewer"),
    StepId.OTHER_PUPIL: ("x" * 101, "Please keep it to 100 or fewer"),
    StepId.OTHER_PUPIL_PICK: ("Nobody Atall", "isn't one of the options"),
    StepId.OTHER_PUPIL_YEAR: ("y" * 41, "Please keep it to 40 or fewer"),
    StepId.WHERE_NOW: ("on the moon", "isn't one of the options"),
    StepId.DATE: ("21/11/2026", "future"),
    StepId.URLS: ("not a web address", "web address"),
    StepId.NATURE: ("", "it can't be empty"),
    StepId.SCHOOL_DEVICE: ("dunno", "isn't one of the options"),
    StepId.DISCLOSURE_FOR: ("both", "isn't one of the options"),
    StepId.CHILD_WORDS: (TOO_LONG, "Please keep it to 1,000 or fewer"),
    StepId.PLATFORM: ("Myspace", "isn't one of the options"),
    StepId.PLATFORM_OTHER: ("   ", "it can't be empty"),
    StepId.WHAT_HAPPENED: (TOO_LONG, "Please keep it to 1,000 or fewer"),
    StepId.HARM_THRESHOLD: ("maybe so", "isn't one of the options"),
    StepId.IMMEDIATE_RISK: ("possibly", "isn't one of the options"),
    StepId.ILLEGAL: ("who knows", "isn't one of the options"),
    StepId.SELF_GENERATED_IMAGERY: ("unsure", "isn't one of the options"),
    StepId.EVIDENCE: ("later", "isn't one of the options"),
    StepId.SUMMARY: ("ok", "Please choose Send"),
}
# A good answer for every question each category asks; together they ask every question.
JOURNEYS: dict[str, tuple[dict[StepId, str], str]] = {
    "misuse by a member of staff on another platform": ({
        StepId.CATEGORY: "Social media misuse", StepId.SUBJECT: "A member of staff", StepId.COLLEAGUE: "Riya Patel",
        StepId.PLATFORM: "Other", StepId.PLATFORM_OTHER: "A made-up app", StepId.WHAT_HAPPENED: "Made-up posts",
        StepId.IMMEDIATE_RISK: "No", StepId.ILLEGAL: "No", StepId.SELF_GENERATED_IMAGERY: "No",
        StepId.EVIDENCE: "No screenshots",
    }, "Headteacher"),
    "inappropriate content seen by a pupil": ({
        StepId.CATEGORY: "Inappropriate content", StepId.SUBJECT: "A pupil", StepId.PUPIL: "Test Pupil A",
        StepId.PUPIL_YEAR: "Year 5",
        StepId.DATE: "Yesterday", StepId.URLS: "https://example.invalid/made-up", StepId.NATURE: "Made-up violent video",
        StepId.SCHOOL_DEVICE: "Yes", StepId.IMMEDIATE_RISK: "No", StepId.ILLEGAL: "No",
        StepId.SELF_GENERATED_IMAGERY: "No",
    }, "Online safety officer"),
    "a possible allegation against a colleague": ({
        StepId.CATEGORY: "Concern about a colleague", StepId.COLLEAGUE: "Tomi Okafor",
        StepId.WHAT_HAPPENED: "Made-up messages to a pupil", StepId.HARM_THRESHOLD: "Not sure",
        StepId.IMMEDIATE_RISK: "No", StepId.ILLEGAL: "No",
    }, "Headteacher"),
    "a disclosure about another child": ({
        StepId.CATEGORY: "Pupil disclosure", StepId.ABOUT_STAFF: "No", StepId.DISCLOSURE_FOR: "About another child",
        StepId.PUPIL: "Test Pupil B", StepId.PUPIL_YEAR: "Skip", StepId.OTHER_PUPIL: "I don't know",
        StepId.CHILD_WORDS: "Made-up words", StepId.IMMEDIATE_RISK: "No", StepId.WHERE_NOW: "In class",
        StepId.ILLEGAL: "No",
        StepId.SELF_GENERATED_IMAGERY: "No",
    }, "Designated safeguarding lead (DSL)"),
    "a friend request from a parent": ({
        StepId.CATEGORY: "Friend or follow request", StepId.SUBJECT: "A parent or carer",
        StepId.ACCOUNT: "@made.up.account", StepId.PUPIL: "I don't know", StepId.PLATFORM: "Facebook",
        StepId.IMMEDIATE_RISK: "No", StepId.ILLEGAL: "No", StepId.EVIDENCE: "No screenshots",
    }, "Headteacher"),
}


@pytest.mark.parametrize("journey", list(JOURNEYS))
async def test_every_question_refuses_a_bad_answer_says_why_and_asks_again(
    journey: str, sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    answers, owner = JOURNEYS[journey]
    app = console_app(sessions, clock)
    teacher = Terminal(app, "cfinch")
    await teacher.open()
    question = (await teacher.type("/report"))[-1]
    asked = []
    while (step := await teacher.step()) is not None:
        asked.append(step)
        assert len(asked) < 30, asked
        bad, reason = BAD[step]
        printed = await teacher.type(bad)
        assert len(printed) == 2 and printed[0].startswith("! ") and reason in printed[0], (step, printed)
        assert printed[1] == question, f"{step}: the same question is asked again"
        assert await teacher.step() == step
        if step is StepId.SUMMARY:
            printed = await teacher.type("Send")
            break
        printed = await teacher.type(answers[step])
        question = printed[-1]
    assert asked == [*answers, StepId.SUMMARY]
    assert printed[0].startswith(f"Thank you. Your report SG-2026-0001 has been sent to the {owner}.")
    async with sessions() as session:
        report = (await session.scalars(select(Report))).one()
    assert (report.reporter, report.school) == ("cfinch", app.school.name)


async def test_a_half_finished_report_survives_a_restart(database_url: str, engine: AsyncEngine, clock: Clock) -> None:
    before = Terminal(console_app(sessionmaker(engine), clock), "cfinch")
    await before.open()
    for line in ["Friend or follow request", "A pupil", "@made.up.account", "I don't know"]:
        await before.type(line)
    await engine.dispose()  # the process ends mid-conversation

    clock.advance(minutes=5)
    restarted = create_engine(database_url, keys=TEST_KEYS)
    try:
        after = Terminal(console_app(sessionmaker(restarted), clock), "cfinch")
        opened = await after.open()
        assert opened[1] == "You have a report you haven't finished. Here is where you left off."
        assert opened[2].startswith("Which platform was it on?")
        await after.type("Snapchat")
        assert (await after.type("Back"))[-1].startswith("Which platform was it on?\nYour answer: Snapchat")
        for line in ["Keep my answer", "No", "No", "No screenshots"]:
            await after.type(line)
        assert (await after.type("Send"))[0].startswith("Thank you. Your report SG-2026-0001 has been sent")
    finally:
        await restarted.dispose()


async def test_an_idle_report_is_reminded_once_then_discarded_after_a_day(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock)
    teacher = Terminal(app, "cfinch")
    await teacher.open()
    await teacher.type("Social media misuse")

    clock.advance(minutes=31)
    opened = await Terminal(app, "cfinch").open()
    assert opened[1] == "You have a report you haven't finished. Carry on where you left off?\n  1. Carry on\n  2. Cancel"
    again = await Terminal(app, "cfinch").open()
    assert not any("Carry on where you left off?" in line for line in again), "one reminder only"
    carried = await teacher.type("Carry on")
    assert carried[-1].startswith("Whose social media misuse is it?")

    clock.advance(hours=24)
    opened = await Terminal(app, "cfinch").open()
    assert opened[1] == "Your unfinished report was discarded after 24 hours. Nothing was sent."
    assert await teacher.step() is None
    async with sessions() as session:
        assert (await session.execute(select(func.count()).select_from(Report))).scalar_one() == 0


async def test_a_locked_database_at_send_keeps_the_report_unsent_and_says_who_to_tell(
    database_url: str, engine: AsyncEngine, clock: Clock
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("a write lock held by another process is shown with SQLite's file lock")
    # A short wait for the lock, so the test does not sit out SQLite's usual 30 seconds.
    impatient = create_engine(database_url, keys=TEST_KEYS, busy_timeout=0.2)
    try:
        app = console_app(sessionmaker(impatient), clock)
        teacher = Terminal(app, "cfinch")
        await teacher.open()
        for line in ["Friend or follow request", "A parent or carer", "@made.up.account", "I don't know", "Instagram",
                     "No", "No", "No screenshots"]:
            await teacher.type(line)
        path = parse_url(database_url).database
        assert path is not None
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        try:
            printed = await teacher.type("Send")
            assert printed[0].startswith("! Your report could not be saved, so it has NOT been sent. Please tell "
                                         "Sam Morgan (Designated safeguarding lead (DSL)) or Riya Patel")
            assert "call 999" in printed[0] and "choose Send to try again" in printed[0]
            assert printed[0].endswith("  1. Send\n  2. Change something\n  3. Cancel")
            assert (await teacher.type("/alerts")) == ["No open reports for you."]
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        printed = await teacher.type("Send")
        assert printed[0].startswith("Thank you. Your report SG-2026-0001 has been sent to the Headteacher.")
        async with app.sessions() as session:
            assert (await session.execute(select(func.count()).select_from(Report))).scalar_one() == 1
    finally:
        await impatient.dispose()


async def test_an_edited_log_row_is_caught_by_log_verify(
    database_url: str, engine: AsyncEngine, clock: Clock
) -> None:
    app = console_app(sessionmaker(engine), clock)
    teacher = Terminal(app, "cfinch")
    await teacher.open()
    for line in ["Friend or follow request", "A pupil", "@made.up.account", "I don't know", "TikTok", "No", "No",
                 "No screenshots", "Send"]:
        await teacher.type(line)
    head = Terminal(app, "jellis")
    await head.open()
    await head.type("/ack SG-2026-0001")
    runner = CliRunner()

    def verify() -> tuple[int, str]:
        result = runner.invoke(cli, ["log", "verify", "--database-url", database_url],
                               env={"SAFEGUARD_ENCRYPTION_KEY": TEST_KEY})
        return result.exit_code, result.output

    # created, routed, the receipt delivered to the teacher, the alert delivered to the headteacher,
    # acknowledged (the teacher has not looked for the news yet)
    assert await asyncio.to_thread(verify) == (0, "ok: 5 events verified\n")
    async with sessionmaker(engine)() as session:
        acknowledged = next(e for e in await events_for(session, "SG-2026-0001") if e.kind == "acknowledged")
    # Someone with database access makes it look as if the chair acknowledged it.
    await unguarded(engine, update(Event).where(Event.seq == acknowledged.seq).values(actor="hbrooks"))
    assert await asyncio.to_thread(verify) == (
        1, f"event {acknowledged.seq} (acknowledged, SG-2026-0001) was edited: its hash does not match\n")
