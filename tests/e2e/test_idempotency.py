"""A double tap, on Send or on Acknowledge, from a phone on a slow network: one report, one acknowledgement, one event.

Both taps are posted at once (a phone that sent the second before the first was answered),
so the server meets them concurrently, as it would in a school with a poor signal.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from storage.log import events_for, verify
from storage.models import Event, Report
from tests.e2e.reports import CHILD_WORDS, submit
from tests.e2e.slack_rig import Rig, find_button


async def test_a_double_tap_on_send_makes_one_report_and_one_receipt(rig: Rig) -> None:
    teacher = rig.phone("cfinch")
    for words in ("pupil_disclosure", "no", "victim", "Mia Hart", "skip", CHILD_WORDS, "no", "with_me", "no", "no"):
        await teacher.type(words)
    summary = teacher.latest()
    block, button = find_button(summary, "Send")
    first, second = (teacher.action_payload(summary, block, button) for _ in range(2))
    answers = await asyncio.gather(rig.interact(first), rig.interact(second))
    assert [a.status for a in answers] == [200, 200]
    await teacher.wait_for_said("has been sent")
    await teacher.wait_for_said("That report is finished")  # the second tap finds it sent
    await rig.slack.idle()
    await rig.slack.outbox.deliver()
    assert len([p for p in teacher.posts() if "has been sent" in p.words()]) == 1
    async with rig.app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Report)) == 1
        assert await session.scalar(select(func.count()).where(Event.kind == "created")) == 1
        assert (await verify(session)).ok


async def test_a_double_tap_on_acknowledge_acknowledges_once(rig: Rig) -> None:
    reference = await submit(rig.app)
    await rig.slack.outbox.deliver()
    dsl, teacher = rig.phone("smorgan"), rig.phone("cfinch")
    alert = dsl.latest()
    block, button = find_button(alert, "Acknowledge")
    taps = [dsl.action_payload(alert, block, button) for _ in range(2)]
    answers = await asyncio.gather(*(rig.interact(tap) for tap in taps))
    assert [a.status for a in answers] == [200, 200]
    told = await rig.fake.wait_for("response_url", 2, user=dsl.user)
    assert sorted(t.words().split(" at ")[0] for t in told) == [
        f"{reference} was already acknowledged by Sam Morgan", f"You acknowledged {reference}"]
    await rig.slack.idle()
    await rig.slack.outbox.deliver()
    assert len([p for p in teacher.posts() if "was acknowledged" in p.words()]) == 1
    async with rig.app.sessions() as session:
        kinds = [e.kind for e in await events_for(session, reference)]
        assert kinds.count("acknowledged") == 1
        report = (await session.scalars(select(Report).where(Report.reference == reference))).one()
        assert (report.status, report.acknowledged_by) == ("acknowledged", "smorgan")
