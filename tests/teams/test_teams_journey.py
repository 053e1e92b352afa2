"""The whole journey in Teams: a teacher reports, the DSL is alerted and acknowledges, the teacher hears, all logged.

Each test runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL. Nothing of ours is replaced:
activities go to our server over HTTP, and what it sends is read back from the fake Bot Connector.
"""

from __future__ import annotations

from sqlalchemy import select

from storage.log import events_for, verify
from storage.models import AlertDelivery, ConversationRef
from storage.reports import get_report, notes_for
from tests.teams.rig import Rig

CHILD_WORDS = "He said a man he met in a game keeps asking him for photos (made-up words)"


async def test_a_report_goes_from_the_teacher_to_the_dsls_acknowledgement_in_teams(rig: Rig) -> None:
    teacher, dsl = rig.user("cfinch"), rig.user("smorgan")
    welcome = await dsl.installs()
    assert "Hello Sam Morgan" in welcome[0].text() and "My cases" in [a["title"] for a in welcome[0].actions()]

    # The teacher never installed the app: their first message is where their chat is learnt.
    card = await teacher.says("hello")
    assert card.kind == "reply" and card.activity_id is not None
    assert card.text().startswith("What are you reporting?")
    card = await teacher.taps(card.action("Pupil disclosure"))
    assert card.text().startswith("✓ Pupil disclosure\nIs the child telling you about an adult who works at the")
    card = await teacher.says("no")  # typing works as well as tapping
    card = await teacher.taps(card.action("The child is the victim"))
    card = await teacher.taps(card.action("Next"), answer="Mia Hart")  # no roster imported: typed
    card = await teacher.taps(card.action("Skip"))
    assert "Tip: Do not promise the child confidentiality" in card.text()
    assert [i["id"] for i in card.inputs()] == ["answer"] and card.inputs()[0]["maxLength"] == 1000
    card = await teacher.taps(card.action("Next"), answer=CHILD_WORDS)
    assert card.text().startswith(f"✓ {CHILD_WORDS}\nCould a child be at immediate risk of harm?")
    advice, card = await teacher.answers(card.action("Yes"))
    # The 999 advice stands as a message of its own, before the next question (not its top line).
    assert advice.text() == ("✓ Yes\nIf a child is in immediate danger, call 999 now, then follow your school's "
                             "emergency procedure.") and not advice.actions()
    assert card.text().startswith("Where is Mia Hart now?")
    card = await teacher.says("With me")
    card = await teacher.says("No")
    card = await teacher.taps(card.action("No"))
    assert "Please check your report:" in card.text() and f"The child's words: {CHILD_WORDS}" in card.text()
    rig.clock.advance(seconds=20)
    card = await teacher.taps(card.action("Send"))
    assert card.text() == "✓ Send"
    # The receipt comes from the outbox, queued with the report: it reaches the teacher even if
    # the server stopped before it could answer the tap.
    receipt = await rig.fake.wait_in(teacher.conversation["id"], "Thank you.")
    assert receipt.text().split("\n") == [
        "Thank you. Your report SG-2026-0001 has been sent to the Designated safeguarding lead (DSL). They are "
        "asked to acknowledge it by 09:30 on Fri 20 Nov; you will hear when they do.",
        "If a child is in immediate danger, call 999 now and follow the school's emergency procedure.",
    ]

    # The alert goes to the DSL's chat unprompted, after the teacher's turn.
    alert = await rig.fake.wait_in(dsl.conversation["id"], "SG-2026-0001")
    assert alert.text().startswith("URGENT: New report SG-2026-0001 for you to acknowledge\n")
    assert "Reported by Chris Finch at 09:15 on Fri 20 Nov\nAcknowledge by 09:30 on Fri 20 Nov" in alert.text()
    assert [a["title"] for a in alert.actions()] == ["Acknowledge", "Add note", "Save", "Ask the reporter", "Send",
                                                     "View log", "Reassign", "Child's history"]

    rig.clock.advance(minutes=5)
    await rig.teams.idle()  # the sender records the alert delivered after sending it; a person reads before tapping
    told = await dsl.taps(alert.action("Acknowledge"), reply_to=alert.id)
    assert told.text() == ("You acknowledged SG-2026-0001 at 09:20 on Fri 20 Nov. "
                           "The person who reported it has been told.")
    updated = await rig.fake.wait_for(lambda s: s.kind == "update" and s.activity_id == alert.id)
    assert updated.conversation_id == dsl.conversation["id"]
    assert updated.text().startswith("Report SG-2026-0001 acknowledged by Sam Morgan at 09:20 on Fri 20 Nov\n")
    assert "Acknowledge" not in [a["title"] for a in updated.actions()]
    news = await rig.fake.wait_in(teacher.conversation["id"], "Your report SG-2026-0001 was", kind="send")
    assert news.text() == ("Your report SG-2026-0001 was acknowledged by the Designated safeguarding lead (DSL) "
                           "at 09:20 on Fri 20 Nov.")

    saved = await dsl.taps(alert.action("Save"), note_text="Spoke to the child's parents (made-up)")
    assert saved.text() == "Note added to SG-2026-0001."
    viewed = await dsl.taps(alert.action("View log"))
    assert "Note by Sam Morgan at 09:20 on Fri 20 Nov: Spoke to the child's parents (made-up)" in viewed.text()

    await rig.teams.idle()
    async with rig.app.sessions() as session:
        report = await get_report(session, "SG-2026-0001")
        assert report is not None
        assert (report.category, report.flags, report.reporter, report.channel) == (
            "pupil_disclosure", ["immediate_risk"], "cfinch", "teams")
        assert (report.status, report.acknowledged_by) == ("acknowledged", "smorgan")
        assert [n.text for n in await notes_for(session, report)] == ["Spoke to the child's parents (made-up)"]
        events = await events_for(session, "SG-2026-0001")
        assert [(e.kind, e.actor) for e in events] == [
            ("created", "cfinch"), ("routed", "system"), ("alert_delivered", "system"), ("alert_delivered", "system"),
            ("acknowledged", "smorgan"), ("alert_delivered", "system"), ("note_added", "smorgan"),
            ("viewed", "smorgan"),
        ]
        delivered = [(e.data["person"], e.data["notice"], e.data["channel"]) for e in events if e.kind == "alert_delivered"]
        assert sorted(delivered[:2]) == [("cfinch", "receipt", "teams"), ("smorgan", "alert", "teams")]
        assert delivered[2:] == [("cfinch", "acknowledged", "teams")]
        assert (await verify(session)).ok
        refs = {r.person_id: r.reference for r in await session.scalars(select(ConversationRef))}
        assert refs["cfinch"]["conversation"]["id"] == teacher.conversation["id"]
        assert refs["smorgan"]["serviceUrl"] == rig.fake_url + "/"
        sent = {d.person_id: d.external_ref for d in await session.scalars(select(AlertDelivery))}
        assert sent["smorgan"] == f"{alert.id} {dsl.conversation['id']}"


async def test_the_colleague_is_chosen_from_the_directory_or_typed(rig: Rig) -> None:
    teacher = rig.user("cfinch")
    card = await teacher.says("Concern about a colleague")
    picker = card.inputs()[0]
    assert (picker["type"], picker["style"]) == ("Input.ChoiceSet", "filtered")
    names = [c["title"] for c in picker["choices"]]
    assert "Jordan Ellis" in names and "Chris Finch" not in names, "the reporter is not offered"
    card = await teacher.taps(card.action("Next"), answer="jellis")
    assert card.text().startswith("✓ Jordan Ellis\nWhat happened?")
    card = await teacher.taps(card.action("Back"))
    card = await teacher.says("sam morgan")
    assert card.text().startswith("What happened?")


async def test_an_old_cards_button_does_not_answer_the_question_asked_now(rig: Rig) -> None:
    teacher = rig.user("cfinch")
    first = await teacher.says("hello")
    await teacher.taps(first.action("Pupil disclosure"))
    again = await teacher.taps(first.action("Social media misuse"))
    assert again.text().startswith("That button belongs to an earlier question.")
    assert "Is the child telling you about an adult who works at the school?" in again.text()


async def test_alerts_wait_for_a_chat_and_go_once_the_app_is_added(rig: Rig) -> None:
    teacher, dsl = rig.user("cfinch"), rig.user("smorgan")
    card = await teacher.says("Pupil disclosure")
    for answer in ("No", "The child is the victim", "Mia Hart", "Skip", CHILD_WORDS, "No", "With me", "No", "No"):
        card = await teacher.says(answer)
    await teacher.taps(card.action("Send"))
    await rig.teams.idle()
    async with rig.app.sessions() as session:
        waiting = (await session.scalars(select(AlertDelivery).where(AlertDelivery.person_id == "smorgan"))).one()
        assert waiting.status == "failed" and "open Safeguard in Teams" in (waiting.last_error or "")
    await dsl.installs()
    alert = await rig.fake.wait_in(dsl.conversation["id"], "SG-2026-0001")
    assert alert.kind == "send"
