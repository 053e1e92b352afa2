"""Deadlines count school hours unless a child is at immediate risk; past the last rung the DSL hears again.

Time is a clock moved by hand; each round is what the server's scheduler runs. Every test
runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import CONSOLE, App
from bot.cases.escalation import escalate_due
from routing.school import Cover
from routing.vocabulary import Category, Flag, Subject
from storage.reports import get_report
from tests.builders import Clock
from tests.integration.console import SCHOOL
from tests.integration.test_escalation import DEPUTY, DSL, HEAD, deliveries, logged, reported

# Friday 20 November 2026, 19:00 in London (on UTC in November): after school.
FRIDAY_EVENING = datetime(2026, 11, 20, 19, 0, tzinfo=UTC)


async def test_a_friend_request_on_friday_evening_waits_for_mondays_school_hours(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    clock = Clock(FRIDAY_EVENING)
    app = App(SCHOOL, sessions, channels=(CONSOLE,), clock=clock)
    reference = await reported(app, Category.FRIEND_REQUEST, Subject.PARENT)  # the headteacher's, 4 hours
    async with sessions() as session:
        report = await get_report(session, reference)
        # Four school hours: Monday 08:00 to 12:00.
        assert report is not None and report.ack_deadline == datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    for day, hour, minute in ((20, 23, 0), (21, 14, 0), (22, 14, 0), (23, 11, 59)):  # to Monday morning
        clock.at = datetime(2026, 11, day, hour, minute, tzinfo=UTC)
        assert await escalate_due(app) == [], f"nothing escalates at {clock.at}"
    clock.at = datetime(2026, 11, 23, 12, 1, tzinfo=UTC)
    [step] = await escalate_due(app)
    assert (step.role, step.alerted) == ("dsl", (DSL,))
    async with sessions() as session:
        report = await get_report(session, reference)
        # The DSL's rung gets four school hours too: Monday 12:01 to 16:01.
        assert report is not None and report.next_escalation_at == datetime(2026, 11, 23, 16, 1, tzinfo=UTC)


async def test_a_child_at_immediate_risk_escalates_on_a_friday_night(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    clock = Clock(FRIDAY_EVENING)
    app = App(SCHOOL, sessions, channels=(CONSOLE,), clock=clock)
    reference = await reported(app, Category.FRIEND_REQUEST, Subject.PUPIL, flags=(Flag.IMMEDIATE_RISK,))
    clock.advance(minutes=16)
    [step] = await escalate_due(app)
    assert (step.reference, step.role) == (reference, "dsl")


async def test_past_the_last_rung_the_dsl_is_reminded_even_when_only_told(
    sessions: async_sessionmaker[AsyncSession], clock: Clock,
) -> None:
    # A school whose own ladder for friend requests leaves the DSL off it: the DSL is only told.
    school = replace(SCHOOL, cover=(Cover(frozenset({Category.FRIEND_REQUEST}), escalation=("deputy_dsl",)),))
    app = App(school, sessions, channels=(CONSOLE,), clock=clock)
    reference = await reported(app, Category.FRIEND_REQUEST, Subject.PUPIL)
    assert await deliveries(app, reference) == [(HEAD, "alert", 0), (DSL, "alert", 0)]
    clock.advance(hours=4, minutes=1)
    [step] = await escalate_due(app)
    assert (step.role, step.alerted, step.reminded) == ("deputy_dsl", (DEPUTY,), (HEAD,))
    clock.advance(hours=4, minutes=1)
    [step] = await escalate_due(app)
    assert step.role is None
    assert set(step.reminded) == {HEAD, DEPUTY, DSL}, "past the last rung the DSL hears of it again"
    [(_, data)] = await logged(app, reference, "reminded")
    assert data["dsl_realerted"] == [DSL]
