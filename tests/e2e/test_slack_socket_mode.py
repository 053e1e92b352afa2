"""Behind a school firewall: Safeguard connects out to Slack over Socket Mode, with no public address.

The same journeys as over HTTP, with each of Slack's requests sent as an envelope on the
socket Safeguard opened (FakeSlack hands out the socket's URL from apps.connections.open).
"""

from __future__ import annotations

import json
import uuid

from sqlalchemy import func, select

from storage.log import events_for, verify
from storage.models import Report
from tests.e2e.fake_slack import words_of
from tests.e2e.fake_socket_mode import APP_TOKEN
from tests.e2e.reports import CHILD_WORDS
from tests.e2e.slack_rig import Rig, find_button


async def answer_up_to_send(rig: Rig) -> None:
    """A teacher answers a pupil disclosure in the DM, up to the summary with its Send button."""
    teacher = rig.phone("cfinch")
    for words in ("pupil_disclosure", "no", "victim", "Mia Hart", "skip", CHILD_WORDS, "no", "with_me", "no", "no"):
        await teacher.type(words)
    assert "Please check your report" in teacher.said()


async def test_a_report_reaches_the_dsl_and_is_acknowledged_over_the_socket(socket_rig: Rig) -> None:
    rig = socket_rig
    teacher, dsl = rig.phone("cfinch"), rig.phone("smorgan")
    socket = rig.fake.socket_mode
    await socket.wait_for_connection()
    opened = rig.fake.to("apps.connections.open")
    assert len(opened) == 1 and opened[0].token == APP_TOKEN  # asked of SLACK_API_URL, with the app-level token

    first = await teacher.type("hi")
    assert "What are you reporting?" in first.text()
    await teacher.tap("Pupil disclosure")
    await teacher.tap("No")
    await teacher.tap("The child is the victim")
    await teacher.type("Mia Hart")
    await teacher.tap("Skip")
    await teacher.type(CHILD_WORDS)
    await teacher.tap("No")  # immediate risk
    await teacher.tap("With me")
    await teacher.tap("No")
    summary = await teacher.tap("No")
    assert "Please check your report" in summary.text()
    sent = await teacher.tap("Send")
    assert "has been sent to the Designated safeguarding lead (DSL)" in sent.text()

    alert = dsl.message_of(await dsl.wait_for_post(1))
    assert "New report SG-" in words_of(alert)
    reference = words_of(alert).split("New report ")[1].split()[0]
    await rig.slack.idle()
    block, button = find_button(alert, "Acknowledge")
    assert (await rig.interact(dsl.action_payload(alert, block, button))).status == 200
    await teacher.wait_for_said(f"Your report {reference} was acknowledged")

    # Every envelope was acknowledged by its id; Slack's requests never came over HTTP.
    assert {e["envelope_id"] for e in socket.sent} <= set(socket.acks)
    async with rig.http.post(f"{rig.url}/slack/events", data=b"{}",
                             headers={"Content-Type": "application/json"}) as response:
        assert response.status in (404, 405)
    async with rig.http.get(f"{rig.url}/healthz") as response:
        health = await response.json()
        assert health["slack"] is True and health["slack_socket_connected"] is True
    await rig.slack.idle()
    async with rig.app.sessions() as session:
        report = (await session.scalars(select(Report).where(Report.reference == reference))).one()
        assert (report.status, report.acknowledged_by, report.channel) == ("acknowledged", "smorgan", "slack")
        assert (await verify(session)).ok


async def test_a_report_carries_on_after_slack_refreshes_and_drops_the_connection(socket_rig: Rig) -> None:
    rig = socket_rig
    teacher = rig.phone("cfinch")
    socket = rig.fake.socket_mode
    for words in ("pupil_disclosure", "no", "victim", "Mia Hart"):
        await teacher.type(words)
    await socket.refresh()  # Slack asks for a new connection (it does every few hours)
    for words in ("skip", CHILD_WORDS, "no"):
        await teacher.type(words)
    await socket.drop()  # the connection is lost in the middle of the report
    for words in ("with_me", "no", "no"):
        await teacher.type(words)
    sent = await teacher.tap("Send")
    assert "has been sent" in sent.text()
    assert len(rig.fake.to("apps.connections.open")) == 3, "a new URL for each new connection"
    assert all(c.closed.is_set() for c in socket.connections[:-1])
    await rig.phone("smorgan").wait_for_post(1)
    await rig.slack.idle()
    async with rig.app.sessions() as session:
        report = (await session.scalars(select(Report))).one()
        assert report.details["The child's words"] == CHILD_WORDS


async def test_a_button_press_delivered_twice_is_handled_once(socket_rig: Rig) -> None:
    rig = socket_rig
    teacher, dsl = rig.phone("cfinch"), rig.phone("smorgan")
    socket = rig.fake.socket_mode
    await answer_up_to_send(rig)
    summary = teacher.latest()
    block, button = find_button(summary, "Send")
    tap = teacher.action_payload(summary, block, button)
    envelope_id = str(uuid.uuid4())
    before = len(teacher.posts())
    await socket.envelope("interactive", tap, envelope_id=envelope_id)
    await teacher.wait_for_said("has been sent")
    await socket.envelope("interactive", tap, envelope_id=envelope_id)  # Slack sends the same envelope again
    await dsl.wait_for_post(1)
    await rig.slack.idle()
    await rig.slack.outbox.deliver()
    # One answer to the one tap: not even "That report is finished" for the copy.
    assert len(teacher.posts()) == before + 1, [p.words() for p in teacher.posts()[before:]]
    assert len(dsl.posts()) == 1
    async with rig.app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Report)) == 1
        reference = (await session.scalars(select(Report.reference))).one()
        assert [e.kind for e in await events_for(session, reference)].count("created") == 1


async def test_a_message_event_slack_retries_is_answered_once(socket_rig: Rig) -> None:
    """Slack resends an event it saw no ack for in a new envelope, with the same event id."""
    rig = socket_rig
    teacher = rig.phone("cfinch")
    socket = rig.fake.socket_mode
    event = teacher.message_event("hello")
    event_envelope = {"type": "event_callback", "team_id": "T0OAKFIELD", "api_app_id": "A0SAFEGUARD",
                      "event": event, "event_id": "Ev0SOCKET0001", "event_time": 1790000000}
    before = len(teacher.posts())
    await socket.envelope("events_api", event_envelope)
    await teacher.wait_for_post(before + 1)
    await socket.envelope("events_api", json.loads(json.dumps(event_envelope)), retry_attempt=1)
    await rig.slack.idle()
    assert len(teacher.posts()) == before + 1



async def test_a_slash_command_delivered_twice_starts_one_dialog(socket_rig: Rig) -> None:
    rig = socket_rig
    dsl = rig.phone("smorgan")
    socket = rig.fake.socket_mode
    form = {"team_id": "T0OAKFIELD", "channel_id": "C0STAFFROOM", "user_id": dsl.user, "command": "/report",
            "text": "", "api_app_id": "A0SAFEGUARD", "response_url": f"{rig.fake_url}/response/1",
            "trigger_id": "1.1790000000.abc"}
    envelope_id = str(uuid.uuid4())
    first = await socket.envelope("slash_commands", form, envelope_id=envelope_id)
    assert "direct messages" in json.dumps(first)
    await socket.envelope("slash_commands", form, envelope_id=envelope_id)
    await rig.slack.idle()
    assert len([p for p in dsl.posts() if "What are you reporting?" in p.words()]) == 1


async def test_an_envelope_not_as_slack_sends_it_is_acknowledged_and_not_run(socket_rig: Rig) -> None:
    """The checks a request gets over HTTP hold on the socket: acked (so not sent again), never run."""
    rig = socket_rig
    teacher = rig.phone("cfinch")
    await teacher.type("hi")
    shown = teacher.latest()
    block, button = find_button(shown, "Pupil disclosure")
    tap = teacher.action_payload(shown, block, button)
    tap["actions"] = [{"action_id": ["not", "an", "id"]}]
    ack = await rig.fake.socket_mode.envelope("interactive", tap, timeout=5)
    assert "payload" not in ack
    before = len(teacher.posts())
    await rig.slack.idle()
    assert len(teacher.posts()) == before
    answer = await teacher.tap("Pupil disclosure")  # the connection carries on
    assert "an adult who works at the school" in answer.text()
