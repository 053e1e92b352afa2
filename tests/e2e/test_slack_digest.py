"""The weekly digest on Slack: the text in the governor's DM, then the chart uploaded into the same DM.

The chart goes the way slack_sdk's files_upload_v2 sends it (files.getUploadURLExternal, the bytes
posted to the upload URL, files.completeUploadExternal); FakeSlack records each step. Each test
runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import SLACK
from bot.outbox.delivery import FIRST_RETRY
from storage.log import verify
from storage.models import DigestDelivery, Event
from tests.builders import DIGEST_WEEK, chart_png, queue_governor_digest, the_digest
from tests.e2e.conftest import RigFactory
from tests.e2e.slack_rig import Rig, eventually

WEEK = DIGEST_WEEK
TEXT = ("Safeguard weekly digest, week 2026-W47\n"
        "Reports: 3 (2 pupil disclosure, 1 social media misuse)\n"
        "Acknowledged within the deadline: 3 of 3, the slowest in < 15 minutes\n"
        "Overdue: none")
FILE_CALLS = ("files.getUploadURLExternal", "files.completeUploadExternal")
CHART = chart_png()


async def queue(rig: Rig, chart: bytes | None = CHART) -> None:
    await queue_governor_digest(rig.app, SLACK, TEXT, chart)


async def digest_row(rig: Rig) -> DigestDelivery:
    return await the_digest(rig.app)


async def delivered_events(rig: Rig) -> list[Event]:
    async with rig.app.sessions() as session:
        return list(await session.scalars(select(Event).where(Event.kind == "digest_delivered")))


async def test_the_text_then_the_chart_reach_the_governors_dm_once(rig: Rig) -> None:
    governor = rig.phone("dwilde")
    await queue(rig)
    await rig.slack.outbox.deliver()  # waits for a round already under way, so the digest has gone

    [post] = governor.posts()
    assert post.result["ok"] is True
    assert "Reports: 3 (2 pupil disclosure" in post.words() and "< 15 minutes" in post.words()
    assert post.args["text"] == "Safeguard: your weekly digest"  # the lock screen shows no figure or category
    [chart] = rig.fake.files_in(governor.dm)
    assert chart.data == CHART and chart.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert chart.filename == f"safeguard-digest-{WEEK}.png" and WEEK in (chart.title or "")
    assert chart.alt_txt and "figures are in the message above" in chart.alt_txt
    # The text first, so it stands alone whatever becomes of the chart.
    assert [c.method for c in rig.fake.calls if c.method in ("chat.postMessage", *FILE_CALLS)] == [
        "chat.postMessage", *FILE_CALLS]
    row = await digest_row(rig)
    assert (row.status, row.attempts, row.external_ref) == ("sent", 1, f"{governor.dm}:{post.result['ts']}")

    calls = len(rig.fake.calls)
    await rig.slack.outbox.deliver()
    assert len(rig.fake.calls) == calls, "a sent digest is not sent again"
    assert len(await delivered_events(rig)) == 1
    async with rig.app.sessions() as session:
        assert (await verify(session)).ok


async def test_a_digest_without_a_chart_is_its_text_alone(rig: Rig) -> None:
    governor = rig.phone("dwilde")
    await queue(rig, chart=None)
    await rig.slack.outbox.deliver()
    assert "Overdue: none" in governor.said()
    assert not [c for c in rig.fake.calls if c.method in FILE_CALLS] and not rig.fake.uploads
    assert (await digest_row(rig)).status == "sent"


@pytest.mark.parametrize("step", ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"])
async def test_a_chart_that_fails_leaves_the_digest_sent_once(
    rig: Rig, step: str, caplog: pytest.LogCaptureFixture
) -> None:
    governor = rig.phone("dwilde")
    if step == "upload":
        rig.fake.fail_next_upload(500)
    else:
        rig.fake.fail_next(step, "internal_error")
    await queue(rig)
    await rig.slack.outbox.deliver()

    assert len(governor.posts()) == 1
    assert rig.fake.files_in(governor.dm) == []
    assert not rig.fake.upload_failures and not rig.fake.failures.get(step), "the failure was met"
    assert f"the chart of the {WEEK} digest to dwilde was not uploaded" in caplog.text
    row = await digest_row(rig)
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)
    await rig.slack.outbox.deliver()
    assert len(governor.posts()) == 1, "the text is not sent again for want of its chart"
    assert len(await delivered_events(rig)) == 1


async def test_a_digest_slack_refused_goes_on_the_next_round(make_rig: RigFactory) -> None:
    rig = await make_rig(outbox_seconds=0.05)
    governor = rig.phone("dwilde")
    rig.fake.fail_next("chat.postMessage", "internal_error")
    await queue(rig)  # the outbox loop sends it
    await rig.fake.wait_for("chat.postMessage", 1, channel=governor.dm)

    async def backing_off() -> bool:
        row = await digest_row(rig)
        return row.status == "failed" and row.next_attempt_at is not None and row.next_attempt_at > rig.clock() + FIRST_RETRY / 2

    await eventually(backing_off, "the failed digest to wait out its back-off")
    rig.clock.advance(1)
    tries = await rig.fake.wait_for("chat.postMessage", 2, channel=governor.dm)
    assert tries[0].result["ok"] is False and tries[1].result["ok"] is True

    async def marked_sent() -> bool:
        row = await digest_row(rig)
        # Two attempts: the refusal was recorded (and the claim released), then the send.
        return row.status == "sent" and row.attempts == 2

    await eventually(marked_sent, "the digest to be marked sent after its second attempt")
    await rig.fake.wait_for("files.completeUploadExternal", channel_id=governor.dm)  # the chart goes after
    assert [u.data for u in rig.fake.files_in(governor.dm)] == [CHART], "the chart goes with the text that went"
    assert (await digest_row(rig)).last_error is None
    assert len(await delivered_events(rig)) == 1
    await rig.slack.outbox.deliver()
    assert len(rig.fake.to("chat.postMessage", channel=governor.dm)) == 2
