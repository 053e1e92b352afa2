"""Escalation and the LADO clock in Teams: the rung's card says it was escalated and can be acknowledged."""

from __future__ import annotations

from bot.app import TEAMS
from bot.scheduler import Scheduler
from dialogs import ReportDraft
from routing.vocabulary import Category, Subject
from storage.log import events_for
from tests.builders import submitted
from tests.teams.rig import Rig


async def sent(rig: Rig, draft: ReportDraft) -> str:
    return await submitted(rig.app, draft, reporter="cfinch", channel=TEAMS)


async def test_the_deputy_gets_an_escalated_card_and_acknowledges_it(rig: Rig) -> None:
    dsl, deputy = rig.user("smorgan"), rig.user("rpatel")
    for user in (dsl, deputy, rig.user("cfinch")):
        await user.installs()
    reference = await sent(rig, ReportDraft(Category.PUPIL_DISCLOSURE, Subject.PUPIL,
                                            details={"The child's words": "Made-up words for a test"}))
    await rig.teams.outbox.deliver()
    rig.clock.advance(minutes=31)
    assert [s.role for s in (await Scheduler(rig.app).run_once()).escalated] == ["deputy_dsl"]
    await rig.teams.outbox.deliver()
    card = await rig.fake.wait_in(deputy.conversation["id"], f"ESCALATED: report {reference}")
    assert "Not acknowledged 31 min after it was reported" in card.text()
    reminder = await rig.fake.wait_in(dsl.conversation["id"], f"Reminder: {reference} has not been acknowledged")
    assert "Acknowledge" in [a["title"] for a in reminder.actions()]
    await rig.teams.idle()
    told = await deputy.taps(card.action("Acknowledge"), reply_to=card.id)
    assert told.text().startswith(f"You acknowledged {reference}")


async def test_the_lado_button_records_the_consultation(rig: Rig) -> None:
    head = rig.user("jellis")
    await head.installs()
    reference = await sent(rig, ReportDraft(Category.COLLEAGUE_CONCERN, Subject.STAFF, "tokafor", allegation=True,
                                            details={"What happened": "A made-up concern for a test"}))
    await rig.teams.outbox.deliver()
    card = await rig.fake.wait_in(head.conversation["id"], f"New report {reference}")
    assert "Consult the LADO by" in card.text()
    await rig.teams.idle()
    told = await head.taps(card.action("LADO consulted"), reply_to=card.id)
    assert f"LADO consultation recorded for {reference}" in told.text()
    async with rig.app.sessions() as session:
        assert [e.kind for e in await events_for(session, reference)].count("lado_consulted") == 1
