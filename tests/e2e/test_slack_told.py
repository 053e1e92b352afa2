"""In Slack: each copy of an alert says what is asked of its reader, and shows only the buttons bot.cases.access allows.

Reports go in through the lifecycle; the alerts go out through our server's outbox to FakeSlack,
and taps come back signed as Slack signs them.
"""

from __future__ import annotations

from typing import Any

from bot.cases import lifecycle
from routing.vocabulary import Category, Flag
from storage.reports import get_report
from tests.e2e.reports import submit
from tests.e2e.slack_rig import Rig, eventually, find_button


def buttons(message: dict[str, Any]) -> list[str]:
    return [e["text"]["text"] for b in message.get("blocks", []) for e in b.get("elements", []) if e.get("type") == "button"]


def shown(message: dict[str, Any]) -> str:
    return "\n".join(b["text"]["text"] for b in message.get("blocks", []) if b.get("type") == "section")


async def test_the_headteacher_told_of_a_disclosure_sees_its_owner_and_no_acknowledge_button(rig: Rig) -> None:
    # St Leonard's §8: possibly illegal, so the headteacher is told (to contact the police); the DSL owns it.
    reference = await submit(rig.app, flags=frozenset({Flag.ILLEGAL}))
    await rig.slack.outbox.deliver()
    head, dsl = rig.phone("jellis"), rig.phone("smorgan")
    told, owned = head.latest(), dsl.latest()
    assert f"New report {reference} for your information" in shown(told)
    assert "Owned by the Designated safeguarding lead (DSL), who is asked to acknowledge it by" in shown(told)
    assert "You are told of it: you can view it and add a note." in shown(told)
    assert "Acknowledge by" not in shown(told)
    assert buttons(told) == ["Add note", "View log"]
    assert f"New report {reference} for you to acknowledge" in shown(owned) and "Owned by" not in shown(owned)
    assert buttons(owned) == ["Acknowledge", "Add note", "Ask the reporter", "View log", "Reassign"]

    # A forged tap on the owner's Acknowledge, sent from his DM, is refused: the DSL's clock runs on.
    block, button = find_button(owned, "Acknowledge")
    assert (await rig.interact(head.action_payload(owned, block, button))).status == 200
    refusal = f"You can't acknowledge {reference}: it was not sent to you"

    async def answered() -> bool:  # by a message or an ephemeral one: only that he was answered matters here
        return any(refusal in call.text() and (call.args.get("user") == head.user or call.args.get("channel") == head.dm)
                   for call in rig.fake.calls)

    await eventually(answered, "the headteacher to be told he may not acknowledge it")
    async with rig.app.sessions() as session:
        report = await get_report(session, reference)
        assert report is not None and report.acknowledged_at is None and report.next_escalation_at is not None


async def test_a_content_report_offers_record_action_to_its_officer_and_acknowledge_to_the_dsl_told(rig: Rig) -> None:
    details = {"Date": "14 March 2026", "Full URL(s)": "https://video.example/watch?v=1",
               "Nature of inappropriate content": "A violent clip (made-up)."}
    reference = await submit(rig.app, category=Category.INAPPROPRIATE_CONTENT, details=details)
    await rig.slack.outbox.deliver()
    officer, dsl = rig.phone("tokafor").latest(), rig.phone("smorgan").latest()
    # Appendix B: the action taken is the online safety officer's to record, as the report's owner.
    assert buttons(officer) == ["Acknowledge", "Add note", "Ask the reporter", "Record action", "View log", "Reassign"]
    # §8 tells the DSL of a pupil's case; as the DSL she may acknowledge it, but records no action.
    assert f"New report {reference} for your information" in shown(dsl)
    assert "Owned by the Online safety officer" in shown(dsl)
    assert "You are told of it as the DSL: you can view it, add a note, acknowledge it and close it." in shown(dsl)
    assert buttons(dsl) == ["Acknowledge", "Add note", "Ask the reporter", "View log", "Reassign"]


async def test_the_reporter_hears_in_slack_that_their_report_was_closed_but_not_why(rig: Rig) -> None:
    reference = await submit(rig.app)
    assert (await lifecycle.close(rig.app, "smorgan", reference, "social_care", "Made-up reason: threshold met")).changed
    await rig.slack.outbox.deliver()
    news = await rig.phone("cfinch").wait_for_said(f"Your report {reference} was closed at ")
    assert "social care" not in news.text().lower() and "made-up" not in news.text().lower()
    # Its progress, asked for as the channels ask: the state, not the decision or the reason.
    progress = await lifecycle.view(rig.app, "cfinch", reference)
    assert progress.reply.text.startswith(f"Your report {reference}: closed\nSent to the Designated safeguarding lead")
    assert "social care" not in progress.reply.text.lower() and "made-up" not in progress.reply.text.lower()
