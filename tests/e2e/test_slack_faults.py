"""Slack failing on command: rate limits, time-outs and refusals, and what reaches each person in the end.

The rig's outbox loop runs hourly, so each round here is run by hand, with the clock moved by hand.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta

from sqlalchemy import select

from bot.cases import lifecycle
from bot.digest.weekly import IsoWeek, weekly_figures
from storage.log import events_for, verify
from storage.models import AlertDelivery, Report
from tests.e2e.conftest import RigFactory
from tests.e2e.fake_slack import words_of
from tests.e2e.reports import CHILD_WORDS, submit
from tests.e2e.slack_rig import Rig, eventually


REFERENCE = re.compile(r"SG-\d{4}-\d{4,}")


async def deliveries(rig: Rig) -> dict[tuple[str, str], AlertDelivery]:
    """Every notice in the outbox, by (person, kind)."""
    async with rig.app.sessions() as session:
        rows = await session.scalars(select(AlertDelivery).execution_options(populate_existing=True))
        return {(row.person_id, row.kind): row for row in rows}


async def test_a_rate_limit_holds_the_round_until_slacks_retry_after(rig: Rig) -> None:
    # A round sends side by side (bot/outbox/delivery.py): the DSL's two alerts go at once, and
    # the teacher's receipt and news of the first report go in order, one after the other. Slack
    # limits the first alert while the receipt's answer is still on its way: what was in flight
    # is recorded as Slack answered it; what was not yet started (the news behind the receipt)
    # is handed back untried until Slack's Retry-After.
    teacher, dsl = rig.phone("cfinch"), rig.phone("smorgan")
    first, second = await submit(rig.app), await submit(rig.app)
    assert (await lifecycle.acknowledge(rig.app, "smorgan", first)).changed  # news for the teacher, behind the receipt
    rig.fake.rate_limit_next("chat.postMessage", retry_after=30, channel=dsl.dm)
    receipt_answered = rig.fake.hold_next("chat.postMessage", channel=teacher.dm)
    round_ = asyncio.create_task(rig.slack.outbox.deliver())

    async def limited() -> bool:
        return (await deliveries_of(rig, first))[("smorgan", "alert")].status == "failed"

    await eventually(limited, "the limited alert recorded")
    receipt_answered.set()
    await round_
    [limited_call] = [c for c in rig.fake.to("chat.postMessage", channel=dsl.dm) if not c.result.get("ok", True)]
    assert limited_call.result == {"ok": False, "error": "ratelimited"} and first in limited_call.args["text"]
    rows, seconds = await deliveries_of(rig, first), await deliveries_of(rig, second)
    alert, receipt, news = rows[("smorgan", "alert")], rows[("cfinch", "receipt")], rows[("cfinch", "acknowledged")]
    assert (alert.status, alert.attempts) == ("failed", 1)
    assert (receipt.status, news.status, news.attempts) == ("sent", "queued", 0), \
        "the news behind the receipt was handed back untried: Slack asked for quiet"
    assert seconds[("smorgan", "alert")].status == "sent", "started beside the limited one, before Slack asked"
    for row in (alert, news):
        assert row.next_attempt_at is not None and row.claimed_until is None
        assert timedelta(seconds=25) < row.next_attempt_at - rig.clock() <= timedelta(seconds=30)

    rig.clock.advance(0.25)  # 15 s: Slack's 30 have not passed
    await rig.slack.outbox.deliver()
    assert [REFERENCE.findall(words_of(m)) for m in rig.fake.shown_in(dsl.dm)] == [[second]]
    rig.clock.advance(0.5)
    await rig.slack.outbox.deliver()
    assert sorted(REFERENCE.findall(words_of(m))[0] for m in rig.fake.shown_in(dsl.dm)) == [first, second]
    shown = [words_of(m) for m in rig.fake.shown_in(teacher.dm)]
    assert sorted(text.split(".")[0] for text in shown if "Thank you" in text) == ["Thank you", "Thank you"]
    told = [i for i, text in enumerate(shown) if f"Your report {first}" in text]
    assert len(told) == 2 and "was acknowledged" in shown[told[1]], "the first's receipt, then its news, each once"


async def deliveries_of(rig: Rig, reference: str) -> dict[tuple[str, str], AlertDelivery]:
    """The outbox rows of one report, by (person, kind)."""
    async with rig.app.sessions() as session:
        rows = await session.scalars(
            select(AlertDelivery).join(Report, Report.id == AlertDelivery.report_id)
            .where(Report.reference == reference).execution_options(populate_existing=True))
        return {(row.person_id, row.kind): row for row in rows}


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
