"""Export on Slack: a closed report's PDF uploaded only into the DM of the person who pressed it, if they may export it."""

from __future__ import annotations

import io

from pypdf import PdfReader

from bot.cases import lifecycle
from routing.vocabulary import Category
from storage.log import events_for, verify
from tests.e2e.reports import CHILD_WORDS, submit
from tests.e2e.slack_rig import Phone, Rig, find_button

NOTE = "Spoke to the child's father (made-up); he will keep the messages."
REASON = "Made-up reason: children's social care took the referral."
ELSEWHERE = "A made-up post by Quentin Marlowe-Tarrant about the school gates."


def pdf_words(data: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())


async def press_export(rig: Rig, phone: Phone, alert: dict[str, object], reference: str) -> str:
    """Press Export on an alert (as `phone`'s person); the words of the answer only they see."""
    block, button = find_button(alert, "Export")  # type: ignore[arg-type]
    assert (await rig.interact(phone.action_payload(alert, block, button))).status == 200  # type: ignore[arg-type]
    answer = (await rig.fake.wait_for("response_url", 1, user=phone.user))[-1]
    # What a locked phone shows of it: the reference and "export", nothing more.
    assert answer.args.get("text") in (f"Safeguard: the export you asked for ({reference})",
                                       "Safeguard: you can't act on that report")
    return answer.words()


async def test_export_sends_the_pdf_only_into_the_dsls_own_dm(rig: Rig) -> None:
    dsl, head = rig.phone("smorgan"), rig.phone("jellis")
    reference = await submit(rig.app)  # a disclosure: the DSL's alone
    other = await submit(rig.app, category=Category.MISUSE, details={"What happened": ELSEWHERE})  # the headteacher's
    await rig.slack.outbox.deliver()
    alert_call = await dsl.wait_for_post(1)
    assert "Export" not in str(dsl.message_of(alert_call)), "open, it is not yet handed on"
    assert (await lifecycle.acknowledge(rig.app, "smorgan", reference)).changed
    assert (await lifecycle.add_note(rig.app, "smorgan", reference, NOTE)).changed
    assert (await lifecycle.close(rig.app, "smorgan", reference, "social_care", REASON)).changed
    await rig.slack.outbox.refresh(reference)  # as the Close button does: every alert of it updated in place
    alert = dsl.message_of(alert_call)

    said = await press_export(rig, dsl, alert, reference)
    assert f"{reference} exported as {reference}.pdf, for you only" in said
    uploads = rig.fake.files_in(dsl.dm)
    assert [(u.filename, u.title) for u in uploads] == [(f"{reference}.pdf", f"{reference} export")]
    assert uploads[0].data is not None
    words = pdf_words(uploads[0].data)
    for expected in (reference, "Oakfield Lower School", "OFFICIAL-SENSITIVE", CHILD_WORDS, NOTE,
                     "Referred to children's social care", REASON, "Page 1 of"):
        assert expected in words, expected
    assert "Marlowe-Tarrant" not in words and other not in words, "nothing of a report she was not sent"

    # A press forged by the headteacher (not sent it) is refused in one line; nothing is uploaded to him.
    refused = await press_export(rig, head, alert, reference)
    assert refused == f"⚠️ You can't export {reference}: it was not sent to you. If you think it should have been, " \
                      "speak to your Designated Safeguarding Lead."
    assert rig.fake.files_in(head.dm) == []
    assert {u.channel_id for u in rig.fake.uploads.values()} == {dsl.dm}, "never a channel, never anyone else"

    async with rig.app.sessions() as session:
        events = await events_for(session, reference)
        assert (await verify(session)).ok
    exported = [e for e in events if e.kind == "exported"]
    assert [(e.actor, e.data["scope"], e.data["format"]) for e in exported] == [("smorgan", reference, "pdf")]
    assert f"event {exported[0].data['through']}" in words or f"through event {exported[0].data['through']}" in words
    assert [(e.actor, e.data) for e in events if e.kind == "refused"] == [("jellis", {"action": "export"})]
