"""What a locked phone shows on Slack: every notification text the bot sent says what is asked, never who or what.

The notification text (`text` beside the blocks) is what a phone's lock screen and notification
show to whoever holds it. Every kind of message is driven here through the real server; every
`text` Slack received is then checked for a name from the school config, a phrase the reporter
typed, and any word of what a report is about.
"""

from __future__ import annotations

from bot.scheduler import Scheduler
from routing.vocabulary import Flag
from tests.e2e.fake_slack import Call
from tests.e2e.reports import submit
from tests.e2e.slack_rig import Rig, find_button
from tests.previews import check

PLANTED = "Marmalade-lighthouse 4471 kept messaging after the trip"
SENT = ("chat.postMessage", "chat.update", "chat.postEphemeral", "response_url")


def notifications(rig: Rig) -> list[Call]:
    return [c for c in rig.fake.calls if c.method in SENT]


async def test_no_notification_text_names_anyone_repeats_what_was_typed_or_says_what_a_report_is_about(
    rig: Rig,
) -> None:
    teacher, head, dsl, deputy = rig.phone("cfinch"), rig.phone("jellis"), rig.phone("smorgan"), rig.phone("rpatel")

    # The dialog: questions, an error, the 999 advice, the summary; a colleague concern naming Tomi Okafor.
    await teacher.type("hi")
    await teacher.type("colleague_concern")
    await teacher.type("Tomi Okafor")
    error = await teacher.type("x" * 1001)
    assert "1,000" in error.words()
    asked = await teacher.type(PLANTED)
    while "Please check your report" not in asked.words():
        question = asked.words()
        asked = await teacher.type("yes" if "immediate risk" in question or "harm threshold" in question else "no")
    assert PLANTED in asked.words() and "Tomi Okafor" in asked.words()
    assert any("call 999" in c.words() for c in teacher.posts()), "the 999 advice was given"
    await teacher.tap("Send", teacher.message_of(asked))

    # The receipt and the alert; someone it was not sent to taps it; the headteacher acknowledges; the news.
    await rig.slack.outbox.deliver()
    alert = head.message_of(await head.wait_for_said("for you to acknowledge"))
    block, button = find_button(alert, "Acknowledge")
    assert (await rig.interact(deputy.action_payload(alert, block, button, channel=head.dm))).status == 200
    await rig.fake.wait_for("response_url", user=deputy.user)
    assert (await rig.interact(head.action_payload(alert, block, button))).status == 200
    await rig.fake.wait_for("response_url", user=head.user)
    await rig.slack.idle()
    await rig.slack.outbox.deliver()
    await teacher.wait_for_said("was acknowledged")

    # A second report nobody acknowledges: escalation and the reminder; then the first one's LADO clock.
    await submit(rig.app, details={"The child's words": PLANTED}, flags=frozenset({Flag.IMMEDIATE_RISK}))
    await rig.slack.outbox.deliver()
    rig.clock.advance(minutes=31)
    await Scheduler(rig.app).run_once()
    await rig.slack.outbox.deliver()
    await deputy.wait_for_said("ESCALATED")
    rig.clock.advance(minutes=4 * 24 * 60)
    await Scheduler(rig.app).run_once()
    await rig.slack.outbox.deliver()
    await head.wait_for_said("LADO:")

    # A message Slack will never deliver (the DSL's account is gone): the deputy is told.
    for _ in range(2):  # a DM remembered from before is asked for afresh once, then given up
        rig.fake.fail_next("chat.postMessage", "account_inactive", channel=dsl.dm)
    await submit(rig.app, details={"The child's words": PLANTED})
    await rig.slack.outbox.deliver()
    rig.clock.advance(minutes=10)
    await rig.slack.outbox.deliver()
    await rig.slack.outbox.deliver()
    await deputy.wait_for_said("could not deliver")

    # The governor's digest (the scheduler's round four days on, past a Monday morning, queued it),
    # and a draft left alone.
    await rig.slack.outbox.deliver()
    await rig.phone("dwilde").wait_for_said("weekly digest")
    await teacher.type("hi")
    rig.clock.advance(minutes=31)
    await rig.slack.outbox.nudge()
    await teacher.wait_for_said("haven't finished")
    await rig.slack.idle()

    previews = [str(c.args.get("text") or "") for c in notifications(rig) if c.result.get("ok", True)]
    check(previews, rig.app, (PLANTED, "x" * 30))
