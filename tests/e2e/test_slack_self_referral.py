"""Something about myself, from Slack over real HTTP signed like Slack: a teacher self-refers, the headteacher acknowledges."""

from __future__ import annotations

from tests.e2e.fake_slack import words_of
from tests.e2e.slack_rig import Rig, find_button
from tests.previews import forbidden, leaks

WHAT = "A Year 5 pupil messaged me on Instagram about homework and I replied before thinking (made-up)."
DID = "Replied once, then blocked the account (made-up)."


async def test_a_teacher_self_refers_and_hears_when_the_headteacher_acknowledges(rig: Rig) -> None:
    teacher, head = rig.phone("cfinch"), rig.phone("jellis")
    await teacher.type("hi")
    asked = await teacher.tap("Something about myself")
    assert "never anonymously" in asked.words() and "Was a pupil involved?" in asked.words()
    await teacher.tap("No")
    await teacher.tap("Yesterday")
    await teacher.tap("Instagram")
    await teacher.type(WHAT)
    await teacher.type(DID)
    await teacher.tap("Skip")  # anything else
    summary = await teacher.tap("No")  # immediate risk; nothing asks whether it is illegal, nor for screenshots
    assert "Please check your report" in summary.words() and "About: You (a self-referral" in summary.words()
    assert "anonym" not in summary.words().replace("never anonymously", "")  # no way to send it without a name
    sent = await teacher.tap("Send")
    assert "has been sent to the Headteacher" in sent.words()

    await rig.slack.outbox.deliver()
    alert_call = await head.wait_for_said("for you to acknowledge")
    alert = head.message_of(alert_call)
    assert "Something about myself: a self-referral" in words_of(alert)
    assert "About: Chris Finch (about themself: a self-referral)" in words_of(alert)
    assert f"What happened: {WHAT}" in words_of(alert)  # the headteacher reads it (View log shows the rest)
    # What a locked phone shows: no name, nothing typed, not even what kind of report it is.
    preview = str(alert_call.args["text"])
    assert leaks([preview], [*forbidden(rig.app, WHAT, DID), "myself", "self-referral", "self referral"]) == []
    # Only the headteacher: no governor, and the DSL is only on the ladder.
    await rig.slack.idle()
    for person in ("smorgan", "rpatel", "hbrooks", "dwilde", "tokafor"):
        assert rig.phone(person).posts() == [], person

    block, button = find_button(alert, "Acknowledge")
    assert (await rig.interact(head.action_payload(alert, block, button))).status == 200
    await rig.fake.wait_for("response_url", user=head.user)
    await rig.slack.idle()
    await rig.slack.outbox.deliver()
    news = await teacher.wait_for_said("was acknowledged")
    assert "acknowledged by the Headteacher" in news.words()
    assert "Jordan" not in news.words() and DID not in news.words()  # a role, never who, nor what was said
