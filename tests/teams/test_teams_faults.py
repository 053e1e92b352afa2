"""The Bot Connector failing on command (rate limit, time-out, refusal), and Teams sending an activity twice."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from bot.digest.weekly import IsoWeek, weekly_figures
from dialogs import ReportDraft
from routing.vocabulary import Category, Subject
from storage.log import events_for, verify
from storage.models import AlertDelivery, Event, Report
from tests.builders import submitted
from tests.teams.fake_connector import Sent
from tests.teams.rig import Rig

DRAFT = ReportDraft(Category.PUPIL_DISCLOSURE, Subject.PUPIL, details={"The child's words": "Made-up words for a test"})


async def alert_row(rig: Rig, person: str = "smorgan") -> AlertDelivery:
    async with rig.app.sessions() as session:
        query = select(AlertDelivery).where(AlertDelivery.person_id == person, AlertDelivery.kind == "alert")
        return (await session.scalars(query.execution_options(populate_existing=True))).one()


def alerts(rig: Rig, conversation: str) -> list[Sent]:
    return [s for s in rig.fake.to(conversation, "send") if "New report" in s.text()]


async def test_a_429_from_the_connector_waits_its_retry_after(rig: Rig) -> None:
    dsl = rig.user("smorgan")
    await dsl.installs()
    rig.fake.fail_next(429, "TooManyRequests", retry_after=20)
    await submitted(rig.app, DRAFT, reporter="cfinch", channel="teams")  # no chat with the teacher: only the alert goes
    await rig.teams.outbox.deliver()
    row = await alert_row(rig)
    assert row.status == "failed" and row.next_attempt_at == rig.clock() + timedelta(seconds=20)
    rig.clock.advance(seconds=10)
    await rig.teams.outbox.deliver()
    assert alerts(rig, dsl.conversation["id"]) == [], "not before the connector's Retry-After"
    rig.clock.advance(seconds=10)
    await rig.teams.outbox.deliver()
    assert len(alerts(rig, dsl.conversation["id"])) == 1
    assert (await alert_row(rig)).status == "sent"


async def test_a_send_that_times_out_is_tried_again_after_its_back_off(rig: Rig) -> None:
    dsl = rig.user("smorgan")
    await dsl.installs()
    rig.teams.outbox.send_timeout = 0.5
    rig.fake.stall_next(2.0)
    await submitted(rig.app, DRAFT, reporter="cfinch", channel="teams")
    await rig.teams.outbox.deliver()
    row = await alert_row(rig)
    assert row.status == "failed" and row.attempts == 1 and "TimeoutError" in (row.last_error or "")
    rig.clock.advance(seconds=10)
    await rig.teams.outbox.deliver()
    assert (await alert_row(rig)).status == "sent"


async def test_a_bot_removed_from_the_chat_is_given_up_and_the_dsl_told(rig: Rig) -> None:
    head, dsl = rig.user("jellis"), rig.user("smorgan")
    for user in (head, dsl):
        await user.installs()
    rig.fake.fail_next(403, "BotNotInConversationRoster")
    # A concern about a colleague: the headteacher owns it, and the DSL is told of it too.
    draft = ReportDraft(Category.COLLEAGUE_CONCERN, Subject.STAFF, "tokafor", details={"What happened": "Made up"})
    reference = await submitted(rig.app, draft, reporter="cfinch", channel="teams")
    await rig.teams.outbox.deliver()
    async with rig.app.sessions() as session:
        rows = {(r.person_id, r.kind): r for r in await session.scalars(select(AlertDelivery))}
    failed = [row for row in rows.values() if row.status == "undeliverable"]
    assert len(failed) == 1 and "403" in (failed[0].last_error or "")
    await rig.teams.outbox.deliver()
    told = await rig.fake.wait_in(dsl.conversation["id"], "could not deliver")
    assert f"Safeguard could not deliver the alert for report {reference}" in told.text()
    rig.clock.advance(hours=2)
    await rig.teams.outbox.deliver()
    assert len(rig.fake.refused) == 1, "given up: never tried again"
    async with rig.app.sessions() as session:
        assert [e.kind for e in await events_for(session, reference)].count("delivery_failed") == 1
        assert (await verify(session)).ok
    figures = await weekly_figures(rig.app, IsoWeek.of(rig.clock().astimezone(rig.app.zone).date()))
    assert figures.undelivered == 1


async def test_the_same_send_activity_twice_at_once_makes_one_report(rig: Rig) -> None:
    teacher = rig.user("cfinch")
    card = await teacher.says("Pupil disclosure")
    for answer in ("No", "The child is the victim", "Mia Hart", "Skip", "Made-up words for a test", "No", "With me", "No", "No"):
        card = await teacher.says(answer)
    send = teacher.activity(value=card.action("Send")["data"])
    # Teams resends an activity it heard nothing back about in time: the same id, twice.
    await asyncio.gather(teacher.send(send), teacher.send(send))
    await rig.teams.idle()
    async with rig.app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Report)) == 1
        assert await session.scalar(select(func.count()).where(Event.kind == "created")) == 1
