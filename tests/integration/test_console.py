"""The whole journey through the console channel: report, route, alert, acknowledge, log.

Each test runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL, with the example school
and a clock moved by hand. Nothing of ours is replaced: the console is driven line by line.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import CONSOLE
from bot.cases.lifecycle import route_unrouted
from routing.vocabulary import Category, Subject
from storage.log import events_for, verify
from storage.models import AlertDelivery, Recipient, Report
from storage.reports import create_report, get_report
from tests.integration.console import START, Clock, Terminal, console_app, text

WORDS = "He said a man he met in a game keeps asking him for photos (made-up words)"
DISCLOSURE = ["Pupil disclosure", "No", "The child is the victim", "Leo Marsh", "Skip", WORDS]


async def report_disclosure(teacher: Terminal, *, immediate_risk: str = "Yes") -> list[str]:
    """The teacher reports a disclosure; what they were told after Send."""
    for line in [*DISCLOSURE, immediate_risk, "With me", "No", "No"]:
        await teacher.type(line)
    assert await teacher.step() == "summary"
    return await teacher.type("Send")


async def test_a_report_goes_from_the_teacher_to_the_dsls_acknowledgement(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock)
    teacher = Terminal(app, "cfinch")
    assert "You are Chris Finch." in text(await teacher.open())

    printed = await teacher.type("Pupil disclosure")
    assert printed[-1].startswith("Is the child telling you about an adult who works at the school?\n  1. Yes")
    await teacher.type("2")  # numbers work as well as words
    await teacher.type("The child is the victim")
    await teacher.type("Leo Marsh")
    printed = await teacher.type("Skip")
    assert printed[0].startswith("Tip: Do not promise the child confidentiality")
    await teacher.type(WORDS)
    printed = await teacher.type("Yes")
    assert printed[0].startswith("!! If a child is in immediate danger, call 999 now")
    await teacher.type("With me")
    await teacher.type("No")
    printed = await teacher.type("No")
    assert printed[-1].startswith("Please check your report:")
    assert "The child's words: He said a man he met in a game" in printed[-1]
    clock.advance(seconds=20)
    printed = await teacher.type("Send")
    assert printed == [
        "Thank you. Your report SG-2026-0001 has been sent to the Designated safeguarding lead (DSL). They are "
        "asked to acknowledge it by 09:30 on Fri 20 Nov; you will hear when they do.",
        "!! If a child is in immediate danger, call 999 now and follow the school's emergency procedure.",
        "/add SG-2026-0001 TEXT",
    ]
    assert await teacher.step() is None, "the draft ends when the report is stored"

    clock.advance(minutes=3)
    dsl = Terminal(app, "smorgan")
    opened = text(await dsl.open())
    assert "URGENT: New report SG-2026-0001 for you to acknowledge" in opened
    assert "Reported by Chris Finch at 09:15 on Fri 20 Nov\nAcknowledge by 09:30 on Fri 20 Nov" in opened
    assert "/ack SG-2026-0001" in opened
    assert ("SG-2026-0001  Pupil disclosure\n    20 Nov 2026 · owner: Designated safeguarding lead (DSL) · "
            "Not yet acknowledged, due by 09:30 on Fri 20 Nov\n    You can acknowledge" in opened)
    assert "URGENT" not in text(await dsl.type("/alerts")), "an alert is shown once"

    clock.advance(minutes=2)
    assert await dsl.type("/ack sg-2026-0001") == [
        "You acknowledged SG-2026-0001 at 09:20 on Fri 20 Nov. The person who reported it has been told."]
    assert await dsl.type("/ack SG-2026-0001") == [
        "SG-2026-0001 was already acknowledged by Sam Morgan at 09:20 on Fri 20 Nov."]
    assert await teacher.type("/help") != []
    assert ("Your report SG-2026-0001 was acknowledged by the Designated safeguarding lead (DSL) at 09:20 on Fri 20 Nov."
            in teacher.printed)

    async with sessions() as session:
        report = await get_report(session, "SG-2026-0001")
        assert report is not None
        assert (report.category, report.subject, report.flags, report.reporter, report.channel) == (
            "pupil_disclosure", "pupil", ["immediate_risk"], "cfinch", CONSOLE)
        assert (report.status, report.acknowledged_by) == ("acknowledged", "smorgan")
        assert report.ack_deadline is not None
        assert (report.ack_deadline - report.created_at).total_seconds() == 15 * 60, "immediate risk: 15 minutes"
        events = await events_for(session, "SG-2026-0001")
        assert [(e.kind, e.actor) for e in events] == [
            ("created", "cfinch"), ("routed", "system"), ("alert_delivered", "system"), ("alert_delivered", "system"),
            ("acknowledged", "smorgan"), ("alert_delivered", "system"),
        ]
        assert [(e.data["person"], e.data["notice"]) for e in events if e.kind == "alert_delivered"] == [
            ("cfinch", "receipt"), ("smorgan", "alert"), ("cfinch", "acknowledged")]
        assert (await verify(session)).ok


async def test_a_concern_about_the_headteacher_never_reaches_them(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock)
    teacher = Terminal(app, "cfinch")
    await teacher.open()
    for line in ["Concern about a colleague", "Jordan Ellis",
                 "Posted a made-up photo of a class trip with pupils' faces on a personal account", "No", "No", "No"]:
        await teacher.type(line)
    printed = await teacher.type("Send")
    assert printed[0].startswith("Thank you. Your report SG-2026-0001 has been sent to the Chair of governors.")

    head = Terminal(app, "jellis")
    assert "SG-2026-0001" not in text(await head.open())
    assert await head.type("/view SG-2026-0001") == [
        "! You can't see SG-2026-0001: it was not sent to you. If you think it should have been, speak to your "
        "Designated Safeguarding Lead."]
    assert (await head.type("/ack SG-2026-0001"))[0].startswith("! You can't acknowledge SG-2026-0001")
    chair = Terminal(app, "hbrooks")
    assert "New report SG-2026-0001 for you to acknowledge" in text(await chair.open())
    assert "About: Jordan Ellis (member of staff)" in text(chair.printed)
    async with sessions() as session:
        alerted = set(await session.scalars(select(AlertDelivery.person_id)))
        routed = set(await session.scalars(select(Recipient.person_id)))
        events = await events_for(session, "SG-2026-0001")
    assert "jellis" not in alerted | routed
    assert [(e.kind, e.actor, e.data) for e in events if e.kind == "refused"] == [
        ("refused", "jellis", {"action": "view"}), ("refused", "jellis", {"action": "acknowledge"})]


async def test_people_outside_the_routing_cannot_act_and_each_attempt_is_logged(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock)
    teacher = Terminal(app, "cfinch")
    await teacher.open()
    await report_disclosure(teacher)
    async with sessions() as session:
        ladder = {r.person_id: r.kind for r in await session.scalars(select(Recipient))}
    assert ladder["smorgan"] == "owner" and ladder["rpatel"] == "escalation"

    attempts = {
        "dwilde": "/ack SG-2026-0001",  # the governor lead: not routed
        "rpatel": "/ack SG-2026-0001",  # the deputy DSL: a rung of the ladder not yet reached
        "cfinch": "/ack SG-2026-0001",  # the reporter: follows its progress, does not act on it
        "tokafor": "/note SG-2026-0001 made-up note",
        "jellis": "/close SG-2026-0001 no_further_action made-up reason",
    }
    for person, line in attempts.items():
        stranger = Terminal(app, person)
        await stranger.open()
        printed = await stranger.type(line)
        assert len(printed) == 1 and printed[0].startswith("! You can't ") and "not sent to you" in printed[0]
    # A reference that does not exist gets the same answer, so nobody can probe for reports.
    prober = Terminal(app, "dwilde")
    assert (await prober.type("/ack SG-2026-0099"))[0].startswith("! You can't acknowledge SG-2026-0099: it was not sent to you")
    assert (await prober.type("/ack 42"))[0] == "! '42' is not a report reference; they look like SG-2026-0042."

    async with sessions() as session:
        report = await get_report(session, "SG-2026-0001")
        assert report is not None and report.acknowledged_at is None and report.status == "open"
        refused = [(e.actor, e.data["action"]) for e in await events_for(session, "SG-2026-0001") if e.kind == "refused"]
        assert refused == [("dwilde", "acknowledge"), ("rpatel", "acknowledge"), ("cfinch", "acknowledge"),
                           ("tokafor", "note"), ("jellis", "close")]
        # A probe for a report that does not exist is logged under the reference tried, so it shows.
        probe = [(e.kind, e.actor, e.data) for e in await events_for(session, "SG-2026-0099")]
        assert probe == [("refused", "dwilde", {"action": "acknowledge"})]
        assert (await verify(session)).ok


async def test_notes_actions_and_closing_with_a_decision_and_its_reason(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock)
    teacher = Terminal(app, "cfinch")
    await teacher.open()
    await report_disclosure(teacher, immediate_risk="No")
    dsl = Terminal(app, "smorgan")
    await dsl.open()
    clock.advance(minutes=10)
    assert await dsl.type("/note SG-2026-0001") == [
        "! Nothing was added to SG-2026-0001. Please type an answer: it can't be empty."]
    assert await dsl.type("/note SG-2026-0001 Spoke to the child's made-up carer") == ["Note added to SG-2026-0001."]
    assert await dsl.type("/action SG-2026-0001 Referred to the made-up MASH") == ["Action recorded on SG-2026-0001."]
    printed = await dsl.type("/close SG-2026-0001")
    assert printed[0].startswith("! SG-2026-0001 is still open: say which decision was taken, then the reason for it. "
                                 "Decisions: no_further_action (No further action); ")
    assert (await dsl.type("/close SG-2026-0001 social_care"))[0] == (
        "! SG-2026-0001 is still open: give the reason for the decision. Please type an answer: it can't be empty.")
    assert (await dsl.type("/close SG-2026-0001 shrug because"))[0].startswith("! SG-2026-0001 is still open: say which")
    assert await dsl.type("/close SG-2026-0001 social_care Made-up reason: the threshold for a referral is met") == [
        "SG-2026-0001 is closed: Referred to children's social care. The person who reported it has been told."]
    assert await dsl.type("/close SG-2026-0001 no_further_action again") == ["SG-2026-0001 is already closed."]
    assert "No open reports for you." in await dsl.type("/alerts")
    view = text(await dsl.type("/view SG-2026-0001"))
    assert "Note by Sam Morgan at 09:25 on Fri 20 Nov: Spoke to the child's made-up carer" in view
    assert "Action taken by Sam Morgan at 09:25 on Fri 20 Nov: Referred to the made-up MASH" in view
    assert "Closed by Sam Morgan at 09:25 on Fri 20 Nov: Referred to children's social care. Reason: Made-up reason" in view

    async with sessions() as session:
        events = await events_for(session, "SG-2026-0001")
        kinds = [e.kind for e in events]
        assert kinds[-4:] == ["note_added", "action_recorded", "closed", "viewed"]
        assert all("made-up" not in str(e.data).lower() for e in events), "the log holds digests, not words"
        assert (await verify(session)).ok


async def test_a_report_stored_but_not_routed_is_routed_at_the_next_start(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock)
    async with sessions.begin() as session:
        await create_report(session, now=START, school=app.school.name, category=Category.FRIEND_REQUEST,
                            subject=Subject.PARENT, reporter="cfinch", details={"Platform": "Facebook"},
                            channel=CONSOLE)
    assert await route_unrouted(app) == ["SG-2026-0001"]
    assert await route_unrouted(app) == []
    head = Terminal(app, "jellis")
    assert "New report SG-2026-0001 for you to acknowledge" in text(await head.open())
    async with sessions() as session:
        assert (await session.execute(select(func.count()).select_from(Report))).scalar_one() == 1
