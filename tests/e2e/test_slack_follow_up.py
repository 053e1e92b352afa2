"""In Slack: Ask the reporter, the reporter's Answer, and "I have something to add" (and /add), end to end.

Reports go in through the lifecycle; every tap, modal and command comes back to our server
signed as Slack signs it, and FakeSlack records what went to whose DM.
"""

from __future__ import annotations

from typing import Any

from storage.log import events_for, verify
from tests.e2e.fake_slack import Call
from tests.e2e.reports import submit
from tests.e2e.slack_rig import Phone, Rig, find_button

QUESTION = "Did she say which game it was, and when this started? (made-up)"
ANSWER = "A building game, since half term (made-up)."
MORE = "She also said he asked for her school's name (made-up)."


def posted_with(rig: Rig, words: str) -> list[Call]:
    """Every message the bot posted that carries `words`."""
    return [c for c in rig.fake.to("chat.postMessage") if words in c.text()]


async def modal_from(rig: Rig, phone: Phone, message: dict[str, Any], label: str) -> dict[str, Any]:
    """Press `label` on `message` as `phone`'s owner; the modal it opened."""
    before = len(rig.fake.to("views.open"))
    block, button = find_button(message, label)
    assert (await rig.interact(phone.action_payload(message, block, button))).status == 200
    opened = (await rig.fake.wait_for("views.open", before + 1))[before]
    return {**opened.args["view"], "id": opened.result["view"]["id"]}


async def submit_modal(rig: Rig, phone: Phone, modal: dict[str, Any], words: str) -> None:
    """Type `words` in the modal and press Send as `phone`'s owner."""
    block = next(b for b in modal["blocks"] if b["type"] == "input")
    values = {block["block_id"]: {block["element"]["action_id"]: {"type": "plain_text_input", "value": words}}}
    answer = await rig.interact(phone.view_submission(modal, values))
    assert answer.status == 200 and answer.body == ""


async def send(rig: Rig, phone: Phone, modal: dict[str, Any], words: str, count: int = 1) -> str:
    """Send the modal with `words`; what they were told where they pressed its button (their `count`th answer)."""
    await submit_modal(rig, phone, modal, words)
    return (await rig.fake.wait_for("response_url", count, user=phone.user))[count - 1].words()


async def test_the_owner_asks_the_reporter_in_their_dm_and_the_answer_comes_back_only_to_the_owner(rig: Rig) -> None:
    reference = await submit(rig.app)  # a pupil's disclosure: the DSL's
    await rig.slack.outbox.deliver()
    dsl, teacher, head = rig.phone("smorgan"), rig.phone("cfinch"), rig.phone("jellis")

    modal = await modal_from(rig, dsl, dsl.latest(), "Ask the reporter")
    assert modal["title"]["text"] == "Ask the reporter"
    said = await send(rig, dsl, modal, QUESTION)
    assert said == f"Your question was sent to the person who reported {reference}. Their answer will come to you here, and shows in the report's history."

    asked = await teacher.wait_for_said(QUESTION)
    assert [c.args["channel"] for c in posted_with(rig, QUESTION)] == [teacher.dm], "the question reached only the reporter"
    # A locked phone shows the reference and what is asked, never the words or who asks.
    assert asked.args["text"] == f"Safeguard: a question about your report ({reference})"
    assert "The Designated safeguarding lead (DSL) asks:" in asked.text() and "Morgan" not in asked.text()
    question = teacher.message_of(asked)

    # The headteacher (on the ladder, not reached) presses the reporter's Answer: refused in one line, and logged.
    forged = await modal_from(rig, head, question, "Answer")
    assert "You can't answer that question" in await send(rig, head, forged, "A forged answer (made-up)")

    answer = await modal_from(rig, teacher, question, "Answer")
    assert await send(rig, teacher, answer, ANSWER) == f"Thank you. Your answer about {reference} was sent to the people handling it."
    back = await dsl.wait_for_said(ANSWER)
    assert [c.args["channel"] for c in posted_with(rig, ANSWER)] == [dsl.dm], "the answer reached only the owner"
    assert back.args["text"] == f"Safeguard: the reporter answered a question ({reference})"
    assert "The reporter answers:" in back.text() and "Finch" not in back.text()
    # The same answer sent again (a replay) is refused: a question is answered once.
    assert "You can't answer that question" in await send(rig, teacher, answer, "Again (made-up)", 2)

    async with rig.app.sessions() as session:
        events = await events_for(session, reference)
        kinds = [(e.kind, e.actor) for e in events]
        assert ("reporter_asked", "smorgan") in kinds and ("reporter_answered", "cfinch") in kinds
        refused = [(e.actor, e.data["action"]) for e in events if e.kind == "refused"]
        assert refused == [("jellis", "answer"), ("cfinch", "answer")]
        assert all(QUESTION not in str(e.data) and ANSWER not in str(e.data) for e in events)
        assert (await verify(session)).ok


async def test_the_reporter_adds_from_the_receipt_and_with_slash_add(rig: Rig) -> None:
    reference = await submit(rig.app)
    await rig.slack.outbox.deliver()
    dsl, teacher = rig.phone("smorgan"), rig.phone("cfinch")
    receipt = teacher.message_of(await teacher.wait_for_said("has been sent to"))

    modal = await modal_from(rig, teacher, receipt, "I have something to add")
    assert modal["title"]["text"] == "Add to your report"
    assert await send(rig, teacher, modal, MORE) == f"Thank you. What you added to {reference} was sent to the people handling it."
    told = await dsl.wait_for_said(MORE)
    assert told.args["text"] == f"Safeguard: the reporter added to a report ({reference})" and MORE not in told.args["text"]

    before = len(rig.fake.to("views.open"))
    assert (await rig.command(teacher.user, text=reference.lower(), name="/add")).status == 200
    opened = (await rig.fake.wait_for("views.open", before + 1))[before]
    later = {**opened.args["view"], "id": opened.result["view"]["id"]}
    await submit_modal(rig, teacher, later, "And one more thing (made-up).")
    await dsl.wait_for_said("And one more thing (made-up).")
    await teacher.wait_for_said(f"Thank you. What you added to {reference} was sent")
    # Someone else's /add on it is refused when sent, and logged.
    head = rig.phone("jellis")
    assert (await rig.command(head.user, text=reference, name="/add")).status == 200
    opened = (await rig.fake.wait_for("views.open", before + 2))[before + 1]
    forged = {**opened.args["view"], "id": opened.result["view"]["id"]}
    await submit_modal(rig, head, forged, "Made-up")
    await head.wait_for_said(f"You can't add to {reference}: only the person who reported it can.")
    async with rig.app.sessions() as session:
        events = await events_for(session, reference)
        assert [e.actor for e in events if e.kind == "reporter_added"] == ["cfinch", "cfinch"]
        assert [(e.actor, e.data) for e in events if e.kind == "refused"] == [("jellis", {"action": "add"})]
        assert (await verify(session)).ok
