"""What a digest's figures may tell its reader: nothing that singles out a report they may not view.

A concern about the headteacher goes to the chair of governors (St Leonard's §8). A line "Chair of
governors: 1" or "LADO: 1 allegation" in the governor lead's digest would tell every governor that
there is an allegation against the head, so such a report is counted only for someone it reached.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cases import lifecycle
from bot.app import CONSOLE, App
from bot.digest.weekly import IsoWeek, queue_week, render, weekly_figures
from bot.cases.escalation import escalate_due
from routing.vocabulary import Category, Subject
from storage.digest_outbox import digests_for_week
from storage.reports import create_report
from dialogs import ReportDraft
from tests.builders import Clock, submitted
from tests.integration.console import console_app

W47 = IsoWeek(2026, 47)
MONDAY_AFTER = datetime(2026, 11, 23, 8, 1, tzinfo=UTC)


async def made(app: App, clock: Clock, at: datetime, category: Category, subject: Subject,
               about: str | None = None, allegation: bool = False) -> str:
    clock.at = at
    async with app.sessions.begin() as session:
        stored = await create_report(session, now=at, school=app.school.name, category=category, subject=subject,
                                     reporter="cfinch", details={"what": "Made-up words"}, subject_person=about,
                                     allegation=allegation, channel=CONSOLE)
    await lifecycle.route(app, stored.reference)
    return stored.reference


async def test_a_report_about_the_headteacher_is_counted_only_for_whom_it_reached(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock)
    pupil = await made(app, clock, datetime(2026, 11, 17, 10, 0, tzinfo=UTC), Category.MISUSE, Subject.PUPIL)
    about_dsl = await made(app, clock, datetime(2026, 11, 17, 11, 0, tzinfo=UTC), Category.PUPIL_DISCLOSURE,
                           Subject.DSL, about="smorgan")
    about_head = await made(app, clock, datetime(2026, 11, 18, 10, 0, tzinfo=UTC), Category.COLLEAGUE_CONCERN,
                            Subject.HEADTEACHER, about="jellis", allegation=True)
    clock.at = MONDAY_AFTER

    chair = await weekly_figures(app, W47, reader="hbrooks")  # its owner
    assert chair.totals[-1] == 3 and chair.by_owner["chair_of_governors"] == [0, 0, 0, 0, 1]
    assert chair.lado_allegations == 1 and about_head in chair.open_references

    # The governor lead, the headteacher it is about, the DSL it never reached, and the terminal.
    for reader in ("dwilde", "jellis", "smorgan", None):
        theirs = await weekly_figures(app, W47, reader=reader)
        assert theirs.totals == [0, 0, 0, 0, 2], reader
        assert sum(counts[-1] for counts in theirs.by_category.values()) == 2
        assert sum(counts[-1] for counts in theirs.by_owner.values()) == 2
        assert "chair_of_governors" not in theirs.by_owner
        # A deputy's line would point at the DSL, whom a report it owns is usually about.
        assert "deputy_dsl" not in theirs.by_owner
        assert (theirs.lado_allegations, theirs.lado_overdue) == (0, 0)
        assert about_head not in theirs.open_references and pupil in theirs.open_references
        text = render(app, theirs)
        assert "Chair of governors" not in text and "Deputy DSL" not in text
        assert "LADO: 0 allegations this week" in text
    assert about_dsl not in (await weekly_figures(app, W47, reader="smorgan")).open_references

    # What is queued for the governor lead is the same: their digest, text and chart.
    queued = await queue_week(app, W47)
    assert [(q.person_id, q.new) for q in queued] == [("dwilde", True)]
    async with sessions() as session:
        (digest,) = await digests_for_week(session, school=app.school.name, week=W47.label)
    assert "Chair of governors" not in digest.text and "LADO: 0 allegations" in digest.text
    assert "Reports: 2 (previous weeks 0, 0, 0, 0)" in digest.text

    # Once it escalates to the governor lead (the next rung of its ladder), it is theirs to know of.
    clock.at = datetime(2026, 11, 18, 11, 1, tzinfo=UTC)
    assert about_head in [step.reference for step in await escalate_due(app)]
    clock.at = MONDAY_AFTER
    reached = await weekly_figures(app, W47, reader="dwilde")
    assert reached.totals[-1] == 3 and about_head in reached.open_references and reached.lado_allegations == 1
    assert (await weekly_figures(app, W47, reader="jellis")).totals[-1] == 2, "never for the person it is about"


async def test_self_referrals_are_counted_by_category_but_the_headteachers_only_for_whom_it_reached(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    # Something about myself: a teacher's goes to the headteacher; the headteacher's to the chair (§8).
    app = console_app(sessions, clock)
    draft = ReportDraft(Category.SELF_REFERRAL, Subject.STAFF, details={"What happened": "Made-up words"})
    clock.at = datetime(2026, 11, 17, 10, 0, tzinfo=UTC)
    teachers = await submitted(app, draft, reporter="cfinch", channel=CONSOLE)
    clock.at = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
    heads = await submitted(app, draft, reporter="jellis", channel=CONSOLE)
    clock.at = MONDAY_AFTER

    chair = await weekly_figures(app, W47, reader="hbrooks")  # the owner of the headteacher's
    assert chair.by_category["self_referral"][-1] == 2 and heads in chair.open_references
    # The governor lead, the headteacher (it is about him), the DSL and the terminal: only the teacher's.
    for reader in ("dwilde", "jellis", "smorgan", None):
        theirs = await weekly_figures(app, W47, reader=reader)
        assert theirs.totals[-1] == 1 and theirs.by_category == {"self_referral": [0, 0, 0, 0, 1]}, reader
        assert heads not in theirs.open_references and teachers in theirs.open_references
        text = render(app, theirs)
        assert "- Something about myself: a self-referral by a member of staff: 1" in text
        assert "Chair of governors" not in text
