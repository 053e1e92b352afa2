"""Escalation and the LADO clock on Slack: the rung gets a marked alert it can act on, the owner a reminder."""

from __future__ import annotations

from bot.app import SLACK
from bot.scheduler import Scheduler
from dialogs import ReportDraft
from routing.vocabulary import Category, Subject
from storage.log import events_for
from tests.builders import submitted
from tests.e2e.reports import submit
from tests.e2e.fake_slack import words_of
from tests.e2e.slack_rig import Rig, find_button


async def test_an_unacknowledged_alert_climbs_the_ladder_and_the_deputy_acknowledges(rig: Rig) -> None:
    reference = await submit(rig.app)  # a pupil disclosure: the DSL, 30 minutes, then the deputy DSL
    await rig.slack.outbox.deliver()
    dsl, deputy, teacher = rig.phone("smorgan"), rig.phone("rpatel"), rig.phone("cfinch")
    assert deputy.posts() == [], "the ladder hears nothing before the deadline"

    rig.clock.advance(minutes=31)
    done = await Scheduler(rig.app).run_once()
    assert [(s.reference, s.role) for s in done.escalated] == [(reference, "deputy_dsl")]
    await rig.slack.outbox.deliver()
    escalated = deputy.latest()
    assert words_of(escalated).startswith(f"*ESCALATED: report {reference} for you to acknowledge*\n"
                                        "Not acknowledged 31 min after it was reported")
    reminder = await dsl.wait_for_said(f"Reminder: {reference} has not been acknowledged.")
    assert "escalated to the Deputy DSL" in reminder.text()

    block, button = find_button(escalated, "Acknowledge")
    assert (await rig.interact(deputy.action_payload(escalated, block, button))).status == 200
    answer = await rig.fake.wait_for("response_url", user=deputy.user)
    assert f"You acknowledged {reference}" in answer[0].words()
    assert f"Report {reference} acknowledged by Riya Patel" in words_of(dsl.message_of(dsl.posts()[0])), "every alert shows who acknowledged"
    await rig.slack.outbox.deliver()
    told = await teacher.wait_for_said(f"Your report {reference} was acknowledged by the Deputy DSL")
    assert "Sam Morgan" not in told.text(), "the reporter is not told who failed to respond"
    rig.clock.advance(minutes=120)
    assert (await Scheduler(rig.app).run_once()).escalated == (), "acknowledged: the ladder stops"


async def test_the_lado_button_records_the_consultation_once(rig: Rig) -> None:
    draft = ReportDraft(Category.COLLEAGUE_CONCERN, Subject.STAFF, "tokafor", allegation=True,
                        details={"What happened": "A made-up concern for a test"})
    reference = await submitted(rig.app, draft, reporter="cfinch", channel=SLACK)
    await rig.slack.outbox.deliver()
    head = rig.phone("jellis")
    alert = head.latest()
    assert "Consult the LADO by" in words_of(alert)
    block, button = find_button(alert, "LADO consulted")
    assert (await rig.interact(head.action_payload(alert, block, button))).status == 200
    answer = await rig.fake.wait_for("response_url", user=head.user)
    assert f"LADO consultation recorded for {reference}" in answer[0].words()
    assert "LADO consulted: recorded by Jordan Ellis" in words_of(head.message_of(head.posts()[0])), \
        "the alert is updated and no longer offers the button"
    assert "LADO consulted" not in str([b for b in head.message_of(head.posts()[0])["blocks"] if b["type"] == "actions"])
    async with rig.app.sessions() as session:
        kinds = [e.kind for e in await events_for(session, reference)]
    assert kinds.count("lado_consulted") == 1
