"""What a locked phone and the chat list show in Teams: every activity's summary says what is asked, never who or what.

Teams shows an activity's `summary` in the chat list and the notification. Every kind of message
is driven here through the real server; every summary the Bot Connector received is then checked
for a name from the school config, a phrase the reporter typed, and any word of what a report is about.
"""

from __future__ import annotations

from bot.app import TEAMS
from bot.scheduler import Scheduler
from dialogs import ReportDraft
from routing.vocabulary import Category, Flag, Subject
from tests.builders import submitted
from tests.previews import EVERY_KIND, check
from tests.teams.rig import Rig

PLANTED = "Marmalade-lighthouse 4471 kept messaging after the trip"


async def test_no_summary_names_anyone_repeats_what_was_typed_or_says_what_a_report_is_about(rig: Rig) -> None:
    teacher, head, dsl, deputy = rig.user("cfinch"), rig.user("jellis"), rig.user("smorgan"), rig.user("rpatel")
    for person in (head, dsl, deputy, rig.user("dwilde")):
        await person.installs()  # the welcome

    # The dialog: questions, the answer shown back, an error, the 999 advice, the summary.
    await teacher.says("hello")
    await teacher.says("Concern about a colleague")
    await teacher.says("Tomi Okafor")
    await teacher.says("x" * 1001)
    card = (await teacher.send(teacher.activity(text=PLANTED)))[-1]
    while "Please check your report" not in card.text():
        question = card.text()
        answer = "yes" if "immediate risk" in question or "harm threshold" in question else "no"
        card = (await teacher.answers(card.action("Yes" if answer == "yes" else "No")))[-1]
    assert PLANTED in card.text()
    await teacher.send(teacher.activity(text="Send"))

    # The receipt and the alert; someone it was not sent to presses it; the headteacher acknowledges it.
    alert = await rig.fake.wait_in(head.conversation["id"], "for you to acknowledge")
    await deputy.taps(alert.action("Acknowledge"))  # refused: it was not sent to them
    await head.taps(alert.action("Acknowledge"), reply_to=alert.id)
    await rig.fake.wait_for(lambda s: s.kind == "update" and s.activity_id == alert.id)
    await rig.fake.wait_in(teacher.conversation["id"], "was acknowledged", kind="send")
    await head.taps(alert.action("View log"))
    await head.send(head.activity(value={"safeguard": "open_reports"}))

    # A second report nobody acknowledges: escalation and the reminder; then the first one's LADO clock.
    draft = ReportDraft(Category.PUPIL_DISCLOSURE, Subject.PUPIL, None, frozenset({Flag.IMMEDIATE_RISK}), False,
                        {"The child's words": PLANTED})
    await submitted(rig.app, draft, reporter="cfinch", channel=TEAMS)
    await rig.teams.outbox.deliver()
    rig.clock.advance(minutes=31)
    await Scheduler(rig.app).run_once()
    await rig.teams.outbox.deliver()
    await rig.fake.wait_in(deputy.conversation["id"], "ESCALATED")
    rig.clock.advance(days=4)
    await Scheduler(rig.app).run_once()
    await rig.teams.outbox.deliver()
    await rig.fake.wait_in(head.conversation["id"], "LADO:")

    # A message Teams will never deliver: the DSL (or the deputy) is told.
    rig.fake.fail_next(403, "BotNotInConversationRoster")
    await submitted(rig.app, draft, reporter="cfinch", channel=TEAMS)
    await rig.teams.outbox.deliver()
    await rig.teams.outbox.deliver()
    await rig.fake.wait_for(lambda s: "could not deliver" in s.text())

    # The governor's digest (the scheduler queued this week's on its Monday round), and a draft left alone.
    await rig.teams.outbox.deliver()
    digest = await rig.fake.wait_for(lambda s: s.plain.startswith("Safeguard weekly digest"))
    assert "Reports:" in digest.plain  # the message has the figures; its summary does not
    await teacher.says("hello")
    rig.clock.advance(minutes=31)
    await rig.teams.outbox.nudge()
    await rig.fake.wait_in(teacher.conversation["id"], "haven't finished")
    await rig.teams.idle()

    shown = [s for s in rig.fake.sent if s.kind in ("send", "reply", "update")]
    previews = [str(s.activity.get("summary") or "") for s in shown]
    assert all(previews), [s.text()[:80] for s in shown if not s.activity.get("summary")]
    teams_only = ("welcome", "the report you asked to see", "your open reports")
    check(previews, rig.app, (PLANTED, "x" * 30), (*EVERY_KIND, *teams_only))
