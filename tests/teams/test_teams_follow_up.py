"""In Teams: Ask the reporter on the owner's alert, the reporter's Answer in their own chat, and adding to a report.

Reports go in through the lifecycle; taps come to our server as Teams sends them, and the fake
Bot Connector records what went into whose chat.
"""

from __future__ import annotations

from typing import Any

from bot.app import TEAMS
from dialogs import ReportDraft
from routing.vocabulary import Category, Subject
from storage.log import events_for, verify
from tests.builders import submitted
from tests.teams.fake_connector import Sent
from tests.teams.rig import Rig

QUESTION = "Which year group is the child in, and who else knows? (made-up)"
ANSWER = "Year 8; only her form tutor knows (made-up)."
MORE = "She came back to tell me it happened again last night (made-up)."


def send_button(card: Sent, label: str) -> dict[str, Any]:
    """The Send inside the card that `label` opens (a question, answer or addition is typed into the card)."""
    opened = card.action(label)
    assert opened["type"] == "Action.ShowCard", opened
    send: dict[str, Any] = opened["card"]["actions"][0]
    assert send["title"] == "Send"
    return send


def shown_to(rig: Rig, words: str) -> set[str]:
    """Every chat something showing `words` was sent into."""
    return {s.conversation_id for s in rig.fake.sent if words in s.text()}


async def test_the_question_reaches_only_the_reporters_chat_and_the_answer_only_the_owners(rig: Rig) -> None:
    dsl, teacher, head = rig.user("smorgan"), rig.user("cfinch"), rig.user("jellis")
    for user in (dsl, teacher, head):
        await user.installs()
    draft = ReportDraft(Category.PUPIL_DISCLOSURE, Subject.PUPIL, details={"The child's words": "A made-up account"})
    reference = await submitted(rig.app, draft, reporter="cfinch", channel=TEAMS)
    await rig.teams.outbox.deliver()
    alert = await rig.fake.wait_in(dsl.conversation["id"], f"New report {reference}")
    receipt = await rig.fake.wait_in(teacher.conversation["id"], f"Your report {reference} has been sent")
    assert "I have something to add" in [a["title"] for a in receipt.actions()]

    sent = await dsl.taps(send_button(alert, "Ask the reporter"), ask_text=QUESTION)
    assert sent.text().startswith(f"Your question was sent to the person who reported {reference}.")
    await rig.teams.outbox.deliver()
    asked = await rig.fake.wait_in(teacher.conversation["id"], QUESTION)
    assert shown_to(rig, QUESTION) == {teacher.conversation["id"]}
    assert asked.activity["summary"] == f"Safeguard: a question about your report ({reference})"
    assert "The Designated safeguarding lead (DSL) asks:" in asked.text() and "Morgan" not in asked.text()

    # Someone else pressing the reporter's Answer is refused in one line, and logged.
    forged = await head.taps(send_button(asked, "Answer"), answer_text="A forged answer (made-up)")
    assert forged.text().startswith("You can't answer that question")

    thanked = await teacher.taps(send_button(asked, "Answer"), answer_text=ANSWER)
    assert thanked.text() == f"Thank you. Your answer about {reference} was sent to the people handling it."
    await rig.teams.outbox.deliver()
    back = await rig.fake.wait_in(dsl.conversation["id"], ANSWER)
    assert shown_to(rig, ANSWER) == {dsl.conversation["id"]}
    assert back.activity["summary"] == f"Safeguard: the reporter answered a question ({reference})"
    assert "The reporter answers:" in back.text() and "Finch" not in back.text()
    replayed = await teacher.taps(send_button(asked, "Answer"), answer_text="Again (made-up)")
    assert replayed.text().startswith("You can't answer that question")

    added = await teacher.taps(send_button(receipt, "I have something to add"), add_text=MORE)
    assert added.text().startswith(f"Thank you. What you added to {reference} was sent")
    await rig.teams.outbox.deliver()
    told = await rig.fake.wait_in(dsl.conversation["id"], MORE)
    assert told.activity["summary"] == f"Safeguard: the reporter added to a report ({reference})"

    async with rig.app.sessions() as session:
        events = await events_for(session, reference)
        assert [(e.actor, e.data["action"]) for e in events if e.kind == "refused"] == [
            ("jellis", "answer"), ("cfinch", "answer")]
        assert [e.kind for e in events if e.kind.startswith("reporter_")] == [
            "reporter_asked", "reporter_answered", "reporter_added"]
        assert (await verify(session)).ok


