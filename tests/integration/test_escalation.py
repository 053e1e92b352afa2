"""Escalation: a deadline passes unacknowledged, the ladder is walked, acknowledgement stops it.

Time is a clock moved by hand; each round is what the server's scheduler runs. Every test
runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.cases import lifecycle
from bot.outbox import notices
from bot.app import CONSOLE, App
from bot.cases.escalation import escalate_due
from bot.scheduler import Scheduler
from routing.vocabulary import Category, Flag, Subject
from storage.db import create_engine, sessionmaker
from storage.log import events_for, verify
from storage.models import AlertDelivery, Report
from storage.reports import create_report, get_report
from tests.builders import TEST_KEYS
from tests.integration.console import Clock, console_app

# The example school (St Leonard's preset): a pupil disclosure goes to the DSL (smorgan), to be
# acknowledged within 30 minutes, with the ladder deputy DSL (rpatel), then headteacher (jellis).
DSL, DEPUTY, HEAD, TEACHER = "smorgan", "rpatel", "jellis", "cfinch"


async def reported(app: App, category: Category = Category.PUPIL_DISCLOSURE, subject: Subject = Subject.PUPIL, *,
                   flags: tuple[Flag, ...] = (), allegation: bool = False, subject_person: str | None = None) -> str:
    """A report made by the class teacher at the console and routed, as Send does; its reference."""
    async with app.sessions.begin() as session:
        report = await create_report(
            session, now=app.now(), school=app.school.name, category=category, subject=subject, reporter=TEACHER,
            details={"what": "A made-up incident for a test"}, flags=flags, allegation=allegation,
            subject_person=subject_person, channel=CONSOLE,
        )
        reference = report.reference
    await lifecycle.route(app, reference)
    return reference


async def deliveries(app: App, reference: str) -> list[tuple[str, str, int]]:
    """(person, kind, round) of every notice queued about a report, in the order queued (the reporter's receipt aside)."""
    async with app.sessions() as session:
        report = await get_report(session, reference)
        assert report is not None
        rows = await session.scalars(select(AlertDelivery).where(AlertDelivery.report_id == report.id,
                                                                 AlertDelivery.kind != "receipt")
                                     .order_by(AlertDelivery.id))
        return [(row.person_id, row.kind, row.round) for row in rows]


async def logged(app: App, reference: str, *kinds: str) -> list[tuple[str, dict[str, object]]]:
    async with app.sessions() as session:
        return [(e.kind, e.data) for e in await events_for(session, reference) if not kinds or e.kind in kinds]


async def test_the_ladder_is_walked_rung_by_rung_and_then_everyone_asked_is_reminded(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock)
    reference = await reported(app)
    assert await deliveries(app, reference) == [(DSL, "alert", 0)]

    clock.advance(minutes=29, seconds=59)
    assert await escalate_due(app) == [], "not before the deadline"

    clock.advance(seconds=2)
    [step] = await escalate_due(app)
    assert (step.step, step.role, step.alerted, step.reminded) == (1, "deputy_dsl", (DEPUTY,), (DSL,))
    assert await escalate_due(app) == [], "a step is taken once"
    assert await deliveries(app, reference) == [(DSL, "alert", 0), (DSL, "reminder", 1), (DEPUTY, "alert", 0)]

    clock.advance(minutes=30)
    [step] = await escalate_due(app)
    assert (step.step, step.role, step.alerted, step.reminded) == (2, "headteacher", (HEAD,), (DSL, DEPUTY))

    clock.advance(minutes=30)
    [step] = await escalate_due(app)
    assert (step.step, step.role, step.alerted) == (3, None, ())
    assert set(step.reminded) == {DSL, DEPUTY, HEAD}, "the ladder is used up: everyone asked is reminded"

    events = await logged(app, reference, "escalated", "reminded")
    assert [(kind, data["step"], data.get("role")) for kind, data in events] == [
        ("escalated", 1, "deputy_dsl"), ("escalated", 2, "headteacher"), ("reminded", 3, None)]
    assert events[0][1]["waited"] == "30 min" and events[1][1]["waited"] == "1 h"
    told = {person for person, _, _ in await deliveries(app, reference)}
    assert TEACHER not in told, "the reporter is told nothing about who did not respond"
    async with sessions() as session:
        assert (await verify(session)).ok


async def test_the_escalated_alert_says_how_long_it_waited_and_the_owner_is_reminded(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock)
    reference = await reported(app, flags=(Flag.IMMEDIATE_RISK,))
    clock.advance(minutes=16)  # immediate risk: 15 minutes (rule 3)
    [step] = await escalate_due(app)
    assert step.alerted == (DEPUTY,)
    deputy = {n.kind: n for n in await notices.pending(app, CONSOLE, DEPUTY)}
    alert = deputy[notices.NoticeKind.ALERT].alert
    assert alert is not None
    assert alert.text.startswith(f"URGENT: ESCALATED: report {reference} for you to acknowledge\n"
                                 "Not acknowledged 16 min after it was reported, so it has come to you as Deputy DSL.")
    assert "acknowledge" in [b.action for b in alert.buttons]
    owner = [n for n in await notices.pending(app, CONSOLE, DSL) if n.kind is notices.NoticeKind.REMINDER]
    assert owner[0].replies[0].text.startswith(f"URGENT: Reminder: {reference} has not been acknowledged. "
                                          "It was due by 09:30 on Fri 20 Nov.\nIt has been escalated to the Deputy DSL.")


async def test_acknowledging_stops_the_ladder_and_a_rung_may_act_only_once_reached(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock)
    reference = await reported(app)
    refused = await lifecycle.acknowledge(app, DEPUTY, reference)
    assert not refused.changed and "it was not sent to you" in refused.reply.text

    clock.advance(minutes=31)
    await escalate_due(app)
    done = await lifecycle.acknowledge(app, DEPUTY, reference)
    assert done.changed, "the deputy was reached, so may acknowledge"

    for _ in range(5):
        clock.advance(hours=1)
        assert await escalate_due(app) == []
    async with sessions() as session:
        report = await get_report(session, reference)
        assert report is not None and report.next_escalation_at is None and report.escalation_step == 1
    assert [kind for kind, _ in await logged(app, reference, "escalated", "reminded")] == ["escalated"]
    refused = await lifecycle.view(app, HEAD, reference)
    assert not refused.changed, "the headteacher's rung was never reached"


async def test_after_downtime_each_report_due_escalates_once_at_start(
    database_url: str, engine: AsyncEngine, clock: Clock
) -> None:
    before = console_app(sessionmaker(engine), clock)
    first = await reported(before)
    second = await reported(before, Category.MISUSE, Subject.PUPIL)  # the headteacher's, 60 minutes
    acknowledged = await reported(before)
    await lifecycle.acknowledge(before, DSL, acknowledged)

    clock.advance(hours=5)  # the server was down all this while
    restarted_engine = create_engine(database_url, keys=TEST_KEYS)
    try:
        after = console_app(sessionmaker(restarted_engine), clock)
        steps = await Scheduler(after).run_once()
        assert sorted((s.reference, s.step) for s in steps.escalated) == [(first, 1), (second, 1)], \
            "once each, not once per deadline missed while down"
        assert (await Scheduler(after).run_once()).escalated == ()
        clock.advance(minutes=30)
        assert [(s.reference, s.step) for s in (await Scheduler(after).run_once()).escalated] == [(first, 2)], \
            "the next rung's time is counted from the catch-up, not from the missed deadline"
    finally:
        await restarted_engine.dispose()


async def test_two_schedulers_on_one_database_take_each_step_exactly_once(
    database_url: str, engine: AsyncEngine, clock: Clock
) -> None:
    first_app = console_app(sessionmaker(engine), clock)
    references = [await reported(first_app) for _ in range(12)]
    other_engine = create_engine(database_url, keys=TEST_KEYS)
    try:
        second_app = console_app(sessionmaker(other_engine), clock)
        schedulers = [Scheduler(first_app), Scheduler(second_app)]
        for _ in range(3):  # three rounds past three deadlines: deputy, headteacher, then reminders
            clock.advance(minutes=31)
            rounds = await asyncio.gather(*(s.run_once() for s in schedulers))
            taken = [(step.reference, step.step) for r in rounds for step in r.escalated]
            assert len(taken) == len(set(taken)) == len(references), "each step by one scheduler, none missed"
        for reference in references:
            events = await logged(first_app, reference, "escalated", "reminded")
            assert [data["step"] for _, data in events] == [1, 2, 3]
            queued = await deliveries(first_app, reference)
            assert len(queued) == len(set(queued))
            assert sorted(queued) == sorted([(DSL, "alert", 0), (DSL, "reminder", 1), (DEPUTY, "alert", 0),
                                             (DSL, "reminder", 2), (DEPUTY, "reminder", 2), (HEAD, "alert", 0),
                                             (DSL, "reminder", 3), (DEPUTY, "reminder", 3), (HEAD, "reminder", 3)])
        async with first_app.sessions() as session:
            assert (await verify(session)).ok
    finally:
        await other_engine.dispose()


async def test_a_closed_report_stops_escalating(sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
    app = console_app(sessions, clock)
    reference = await reported(app)
    closed = await lifecycle.close(app, DSL, reference, "no_further_action", "A made-up reason for a test")
    assert closed.changed
    clock.advance(hours=3)
    assert await escalate_due(app) == []
    async with sessions() as session:
        report = (await session.scalars(select(Report).where(Report.reference == reference))).one()
        assert report.next_escalation_at is None


async def test_the_deadline_is_the_routing_decisions(sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
    app = console_app(sessions, clock)
    reference = await reported(app, Category.FRIEND_REQUEST, Subject.PARENT)  # the headteacher's, 240 minutes
    clock.advance(minutes=239)
    assert await escalate_due(app) == []
    clock.advance(minutes=2)
    [step] = await escalate_due(app)
    assert (step.reference, step.role) == (reference, "dsl")
    async with sessions() as session:
        report = await get_report(session, reference)
        assert report is not None and report.next_escalation_at == clock.at + timedelta(minutes=240)
