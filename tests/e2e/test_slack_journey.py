"""A teacher reports from their phone, the DSL acknowledges in one tap: all over real HTTP, signed like Slack."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.log import events_for, verify
from storage.models import AlertDelivery, Report
from tests.e2e.fake_slack import dm_channel, words_of
from tests.e2e.slack_rig import SLACK_IDS, Rig, find_button

CHILD_WORDS = "She said an older boy online keeps asking her for photos and she is scared to go home."


async def test_a_report_goes_from_the_teachers_dm_to_the_dsl_and_back(rig: Rig) -> None:
    teacher, dsl = rig.phone("cfinch"), rig.phone("smorgan")

    first = await teacher.type("hi")
    assert "What are you reporting?" in first.text()
    await teacher.tap("Pupil disclosure")
    assert "an adult who works at the school" in teacher.said()
    await teacher.tap("No")
    await teacher.tap("The child is the victim")
    await teacher.type("Mia Hart")  # no roster imported: the name is typed
    await teacher.tap("Skip")  # year group or class
    asked = teacher.latest()
    assert "What did the child say?" in words_of(asked)
    assert any(b["type"] == "context" and "Type your answer" in b["elements"][0]["text"] for b in asked["blocks"])
    await teacher.type(CHILD_WORDS)
    before = len(teacher.posts())
    await teacher.tap("Yes")  # immediate risk
    await teacher.wait_for_post(before + 2)  # the 999 advice, then the next question: two messages
    await teacher.tap("With me")  # where the child is now
    await teacher.tap("No")  # illegal
    summary = await teacher.tap("No")  # self-generated imagery
    assert "Please check your report" in summary.text() and CHILD_WORDS in summary.text()
    sent = await teacher.tap("Send")
    assert "has been sent to the Designated safeguarding lead (DSL)" in sent.text()
    assert "call 999" in sent.text()  # an immediate risk: the emergency procedure, at once (DESIGN rule 3)

    # A tapped question keeps its words and shows the answer, without its buttons.
    answered = teacher.message_of(teacher.posts()[0])
    assert not [b for b in answered["blocks"] if b["type"] == "actions"]
    assert "Pupil disclosure" in answered["blocks"][-1]["elements"][0]["text"]

    # The DSL's alert: in their DM, urgent, with its buttons.
    alert_post = await dsl.wait_for_post(1)
    opened = rig.fake.to("conversations.open", users=SLACK_IDS["smorgan"])
    assert opened, "the alert went to a DM opened with the DSL's Slack id"
    alert = dsl.message_of(alert_post)
    assert "URGENT: New report SG-" in words_of(alert) and "for you to acknowledge" in words_of(alert)
    labels = [e["text"]["text"] for b in alert["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert labels == ["Acknowledge", "Add note", "Ask the reporter", "View log", "Reassign", "Child's history"]
    reference = words_of(alert).split("New report ")[1].split()[0]

    # One tap acknowledges; the alert is updated in place; the teacher is told. (The sender
    # posts the alert, then records it delivered: a person reads it before tapping.)
    await rig.slack.idle()
    updates_before = len(rig.fake.to("chat.update", channel=dsl.dm))
    block, button = find_button(alert, "Acknowledge")
    answer = await rig.interact(dsl.action_payload(alert, block, button))
    assert answer.status == 200
    updated = (await rig.fake.wait_for("chat.update", updates_before + 1, channel=dsl.dm, ts=alert["ts"]))[-1]
    assert f"Report {reference} acknowledged by Sam Morgan at" in updated.words()
    assert "Acknowledge" not in [e["text"]["text"] for b in updated.args["blocks"] if b["type"] == "actions"
                                 for e in b["elements"]]
    ephemeral = await rig.fake.wait_for("response_url", user=SLACK_IDS["smorgan"])
    assert f"You acknowledged {reference}" in ephemeral[0].words()
    news = await teacher.wait_for_said(f"Your report {reference} was acknowledged")
    assert "by the Designated safeguarding lead (DSL)" in news.text()
    assert "Sam Morgan" not in news.text()  # the reporter hears the role, not the name

    await rig.slack.idle()
    async with rig.app.sessions() as session:
        kinds = [entry.kind for entry in await events_for(session, reference)]
        # The DSL may press Acknowledge before the sender has recorded the alert as delivered
        # (it is posted first, then marked), so those two may come in either order.
        assert kinds[:3] == ["created", "routed", "alert_delivered"]
        assert "acknowledged" in kinds
        assert kinds.count("alert_delivered") == 3  # the teacher's receipt, the DSL's alert, the teacher's news
        report = (await session.scalars(select(Report).where(Report.reference == reference))).one()
        assert report.acknowledged_by == "smorgan" and report.channel == "slack"
        assert report.details["The child's words"] == CHILD_WORDS
        ref = (await session.scalars(select(AlertDelivery.external_ref).where(
            AlertDelivery.report_id == report.id, AlertDelivery.person_id == "smorgan"))).one()
        assert ref == f"{dm_channel(SLACK_IDS['smorgan'])}:{alert['ts']}"
        assert await session.scalar(select(func.count()).select_from(Report)) == 1
        result = await verify(session)
        assert result.ok, result.problem
