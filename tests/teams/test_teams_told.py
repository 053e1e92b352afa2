"""In Teams: an informed reader's alert card names the owner and offers only what bot.cases.access allows."""

from __future__ import annotations

from bot.app import TEAMS
from dialogs import ReportDraft
from routing.vocabulary import Category, Flag, Subject
from storage.reports import get_report
from tests.builders import submitted
from tests.teams.rig import Rig


async def test_the_headteacher_told_of_a_disclosure_gets_no_acknowledge_button_in_teams(rig: Rig) -> None:
    head, dsl = rig.user("jellis"), rig.user("smorgan")
    await head.installs()
    await dsl.installs()
    draft = ReportDraft(Category.PUPIL_DISCLOSURE, Subject.PUPIL, flags=frozenset({Flag.ILLEGAL}),
                        details={"The child's words": "A made-up account"})
    reference = await submitted(rig.app, draft, reporter="cfinch", channel=TEAMS)
    await rig.teams.outbox.deliver()
    told = await rig.fake.wait_in(head.conversation["id"], reference)
    owned = await rig.fake.wait_in(dsl.conversation["id"], reference)
    assert told.text().startswith(f"New report {reference} for your information\n")
    assert "Owned by the Designated safeguarding lead (DSL), who is asked to acknowledge it by" in told.text()
    assert "Acknowledge by" not in told.text()
    assert [a["title"] for a in told.actions()] == ["Add note", "Save", "View log"]
    assert [a["title"] for a in owned.actions()] == ["Acknowledge", "Add note", "Save", "Ask the reporter", "Send", "View log",
                                                    "Reassign"]

    # The owner's Acknowledge, pressed by the headteacher, is refused and changes nothing.
    refused = await head.taps(owned.action("Acknowledge"))
    assert refused.text().startswith(f"You can't acknowledge {reference}: it was not sent to you")
    async with rig.app.sessions() as session:
        report = await get_report(session, reference)
        assert report is not None and report.acknowledged_at is None
