"""Only Slack gets in (signed, fresh), a retried event is answered once, and nobody acts on a report not theirs."""

from __future__ import annotations

import json
import logging
import time

import pytest

from sqlalchemy import func, select

from storage.log import events_for
from storage.models import Draft, InboundEvent, Report
from tests.e2e.reports import CHILD_WORDS, submit
from tests.e2e.slack_rig import NOT_IN_DIRECTORY, SLACK_IDS, Rig, find_button, sign


def _event_body(text: str = "hi") -> str:
    return json.dumps({
        "type": "event_callback", "team_id": "T0OAKFIELD", "api_app_id": "A0SAFEGUARD", "event_id": "Ev0FORGED01",
        "event_time": int(time.time()),
        "event": {"type": "message", "channel": "D0CFINCH01", "user": SLACK_IDS["cfinch"], "text": text,
                  "ts": "1.0", "channel_type": "im"},
    })


async def test_a_forged_signature_is_refused(rig: Rig) -> None:
    body = _event_body()
    assert (await rig.post(body, content_type="application/json", secret="not-the-signing-secret")).status == 401
    assert (await rig.post(body, content_type="application/json", signature="")).status == 401
    now = int(time.time())
    tampered = await rig.post(body.replace("hi", "ho"), content_type="application/json", timestamp=now,
                              signature=sign(body, now))
    assert tampered.status == 401
    assert rig.fake.calls == []  # nothing reached Slack, not even auth.test


async def test_a_stale_request_is_refused(rig: Rig) -> None:
    six_minutes_ago = int(time.time()) - 6 * 60
    answer = await rig.post(_event_body(), content_type="application/json", timestamp=six_minutes_ago)
    assert answer.status == 401
    assert rig.fake.calls == []


async def test_junk_is_refused_without_a_server_error(rig: Rig) -> None:
    assert (await rig.post("{not json", content_type="application/json", signature="v0=00")).status == 401
    assert (await rig.post("{not json", content_type="application/json")).status == 400
    assert (await rig.post("[1, 2]", content_type="application/json")).status == 400
    assert (await rig.post("payload=%7Bnope", content_type="application/x-www-form-urlencoded")).status == 400


async def test_a_retried_event_is_answered_once(rig: Rig) -> None:
    teacher = rig.phone("cfinch")
    for words in ("pupil_disclosure", "no", "victim", "Mia Hart", "skip", CHILD_WORDS, "no", "with_me", "no", "no"):
        await teacher.type(words)
    before = len(teacher.posts())
    send = teacher.message_event("send")
    assert (await rig.event(send, event_id="Ev0SEND0001")).status == 200
    await teacher.wait_for_said("has been sent")
    for retry in (1, 2):
        assert (await rig.event(send, event_id="Ev0SEND0001", retry=retry)).status == 200
    await teacher.type("hello")  # a later event is answered: the retries were not queued behind it
    assert len(teacher.posts()) == before + 2
    assert len([post for post in teacher.posts() if "has been sent" in post.words()]) == 1
    async with rig.app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Report)) == 1
        assert await session.scalar(select(func.count()).where(InboundEvent.event_id == "Ev0SEND0001")) == 1


async def test_a_retry_of_an_event_never_seen_is_handled(rig: Rig) -> None:
    # Our server was down for the first delivery: the retry is the only one, so it is answered.
    teacher = rig.phone("cfinch")
    assert (await rig.event(teacher.message_event("hi"), event_id="Ev0MISSED01", retry=1)).status == 200
    assert "What are you reporting?" in (await teacher.wait_for_post(1)).text()


async def test_someone_a_report_was_not_sent_to_cannot_acknowledge_it(rig: Rig) -> None:
    reference = await submit(rig.app)
    await rig.slack.outbox.deliver()
    dsl, stranger = rig.phone("smorgan"), rig.phone("tokafor")
    alert = dsl.latest()
    # The online safety officer got hold of the DSL's alert (a forwarded screenshot, a crafted request).
    block, button = find_button(alert, "Acknowledge")
    payload = stranger.action_payload(alert, block, button)
    assert (await rig.interact(payload)).status == 200
    refusal = (await rig.fake.wait_for("response_url", user=stranger.user))[0]
    assert f"You can't acknowledge {reference}: it was not sent to you" in refusal.words()
    assert refusal.args["channel"] == stranger.dm
    await rig.slack.idle()
    assert rig.fake.to("chat.update", channel=dsl.dm) == []  # the DSL's alert still asks for acknowledgement
    async with rig.app.sessions() as session:
        report = (await session.scalars(select(Report).where(Report.reference == reference))).one()
        assert report.acknowledged_at is None and report.status == "open"
        refused = [e for e in await events_for(session, reference) if e.kind == "refused"]
        assert [(e.actor, e.data["action"]) for e in refused] == [("tokafor", "acknowledge")]


async def test_someone_not_in_the_directory_is_told_to_ask_the_admin(rig: Rig) -> None:
    visitor = "D" + NOT_IN_DIRECTORY[1:]
    event = {"type": "message", "channel": visitor, "user": NOT_IN_DIRECTORY, "text": "I need to report something",
             "ts": "1.0", "channel_type": "im"}
    assert (await rig.event(event)).status == 200
    told = (await rig.fake.wait_for("chat.postMessage", channel=visitor))[0]
    assert "ask your school's Safeguard administrator to add you" in told.words()
    assert "call 999" in told.words()
    answer = await rig.command(NOT_IN_DIRECTORY)
    assert answer.status == 200 and "Safeguard administrator" in answer.body
    async with rig.app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Draft)) == 0


async def test_bot_messages_and_edits_are_not_answers(rig: Rig) -> None:
    teacher = rig.phone("cfinch")
    edited = {**teacher.message_event("misuse"), "subtype": "message_changed"}
    from_a_bot = {**teacher.message_event("misuse"), "bot_id": "B0OTHERBOT"}
    for event in (edited, from_a_bot):
        assert (await rig.event(event)).status == 200
    await teacher.type("hi")  # answered after both, and it is the first thing said to the teacher
    assert len(teacher.posts()) == 1


async def test_a_picture_out_of_turn_is_refused_with_advice(rig: Rig) -> None:
    teacher = rig.phone("cfinch")
    shared = {**teacher.message_event(""), "subtype": "file_share", "files": [{"id": "F0SCREEN01"}]}
    assert (await rig.event(shared)).status == 200
    told = await teacher.wait_for_post(1)
    assert "Never copy, save or forward an image that may be an indecent image of a child" in told.words()


async def test_the_app_removed_from_the_one_workspace_is_logged_for_the_it_admin(
        rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.channels.slack.uninstall"):
        assert (await rig.event({"type": "app_uninstalled", "event_ts": f"{time.time():.6f}"})).status == 200
        await rig.slack.idle()
    said = [r.getMessage() for r in caplog.records if r.name == "bot.channels.slack.uninstall"]
    assert len(said) == 1 and "removed the app" in said[0] and "SLACK_BOT_TOKEN" in said[0]
