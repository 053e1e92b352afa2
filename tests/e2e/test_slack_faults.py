"""Slack failing on command: rate limits, time-outs and refusals, and what reaches each person in the end.

The rig's outbox loop runs hourly, so each round here is run by hand, with the clock moved by hand.
"""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from bot.digest.weekly import IsoWeek, weekly_figures
from storage.log import events_for, verify
from storage.models import AlertDelivery, Report
from tests.e2e.conftest import RigFactory
from tests.e2e.fake_slack import words_of
from tests.e2e.reports import CHILD_WORDS, submit
from tests.e2e.slack_rig import Rig, eventually


async def deliveries(rig: Rig) -> dict[tuple[str, str], AlertDelivery]:
    """Every notice in the outbox, by (person, kind)."""
    async with rig.app.sessions() as session:
        rows = await session.scalars(select(AlertDelivery).execution_options(populate_existing=True))
        return {(row.person_id, row.kind): row for row in rows}


async def test_a_rate_limit_holds_the_round_until_slacks_retry_after(rig: Rig) -> None:
    teacher, dsl = rig.phone("cfinch"), rig.phone("smorgan")
    rig.fake.rate_limit_next("chat.postMessage", retry_after=30, channel=dsl.dm)
    first, second = await submit(rig.app), await submit(rig.app)  # two alerts for the DSL, in order
    await rig.slack.outbox.deliver()
    [limited] = rig.fake.to("chat.postMessage", channel=dsl.dm)
    assert limited.result == {"ok": False, "error": "ratelimited"} and first in limited.args["text"]
    async with rig.app.sessions() as session:
        rows = dict((await session.execute(
            select(Report.reference, AlertDelivery).join(Report, Report.id == AlertDelivery.report_id)
            .where(AlertDelivery.person_id == "smorgan")
        )).all())
    assert (rows[first].status, rows[first].attempts, rows[second].status, rows[second].attempts) \
        == ("failed", 1, "queued", 0), "the alert behind it was handed back untried: Slack asked for quiet"
    for row in rows.values():
        assert row.next_attempt_at is not None and row.claimed_until is None
        assert timedelta(seconds=25) < row.next_attempt_at - rig.clock() <= timedelta(seconds=30)

    rig.clock.advance(0.25)  # 15 s: Slack's 30 have not passed
    await rig.slack.outbox.deliver()
    assert rig.fake.shown_in(dsl.dm) == []
    rig.clock.advance(0.5)
    await rig.slack.outbox.deliver()
    assert [words_of(m).split("New report ")[1].split()[0] for m in rig.fake.shown_in(dsl.dm)] == [first, second]
    assert [words_of(m).split(".")[0] for m in rig.fake.shown_in(teacher.dm)] == ["Thank you", "Thank you"]


async def test_a_message_that_timed_out_but_arrived_is_not_shown_twice(make_rig: RigFactory) -> None:
    rig = await make_rig(send_timeout=1)
    dsl = rig.phone("smorgan")
    rig.fake.stall_next("chat.postMessage", 2.5, channel=dsl.dm)  # Slack posts it, but answers too late
    reference = await submit(rig.app)
    await rig.slack.outbox.deliver()
    alert = (await deliveries(rig))[("smorgan", "alert")]
    assert alert.status == "failed" and "Timeout" in (alert.last_error or "")

    async def arrived() -> bool:
        return len(rig.fake.shown_in(dsl.dm)) == 1

    await eventually(arrived, "Slack to post the alert it answered late")
    rig.clock.advance(1)  # past the back-off
    await rig.slack.outbox.deliver()
    assert rig.fake.to("conversations.history", channel=dsl.dm), "in doubt: it looked before sending again"
    assert len(rig.fake.to("chat.postMessage", channel=dsl.dm)) == 1 and len(rig.fake.shown_in(dsl.dm)) == 1
    alert = (await deliveries(rig))[("smorgan", "alert")]
    assert (alert.status, alert.external_ref) == ("sent", f"{dsl.dm}:{rig.fake.shown_in(dsl.dm)[0]['ts']}")
    async with rig.app.sessions() as session:
        assert [e.data["person"] for e in await events_for(session, reference) if e.kind == "alert_delivered"] \
            == ["cfinch", "smorgan"]


async def test_a_person_slack_says_is_gone_is_given_up_and_the_deputy_is_told(rig: Rig) -> None:
    dsl, deputy = rig.phone("smorgan"), rig.phone("rpatel")
    rig.fake.fail_next("chat.postMessage", "account_inactive", channel=dsl.dm)
    reference = await submit(rig.app)
    await rig.slack.outbox.deliver()
    alert = (await deliveries(rig))[("smorgan", "alert")]
    assert (alert.status, alert.next_attempt_at) == ("undeliverable", None)
    # The DSL's own Slack is what failed, so the deputy hears; they are not (yet) entitled to
    # the report, so they read the role, not the name, and nothing of what was reported.
    await rig.slack.outbox.deliver()
    [told] = rig.fake.shown_in(deputy.dm)
    assert (f"Safeguard could not deliver the alert for report {reference} to the Designated safeguarding lead "
            "(DSL) on Slack: Slack said account_inactive. It will not try again.") in words_of(told)
    assert "Sam Morgan" not in json.dumps(told) and CHILD_WORDS not in json.dumps(told)

    rig.clock.advance(60)
    await rig.slack.outbox.deliver()
    assert len(rig.fake.to("chat.postMessage", channel=dsl.dm)) == 1, "given up: never tried again"
    async with rig.app.sessions() as session:
        failed = [e for e in await events_for(session, reference) if e.kind == "delivery_failed"]
        assert [(e.data["person"], e.data["notice"], e.data["error"]) for e in failed] == [
            ("smorgan", "alert", "Slack said account_inactive")]
        assert (await verify(session)).ok
    figures = await weekly_figures(rig.app, IsoWeek.of(rig.clock().astimezone(rig.app.zone).date()))
    assert figures.undelivered == 1
