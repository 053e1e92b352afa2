"""Teams: a disclosure names a child picked from the imported roster; the DSL's alert shows her first, and her history."""

from __future__ import annotations

from tests.builders import import_example_roster
from tests.teams.rig import Rig, User

CHILD_WORDS = "She said an older boy in a game keeps asking her for photos (made-up words)."


async def disclose(rig: Rig, teacher: User, reference: str) -> None:
    card = await teacher.says("hello")
    card = await teacher.taps(card.action("Pupil disclosure"))
    card = await teacher.taps(card.action("No"))
    card = await teacher.taps(card.action("The child is the victim"))
    assert "Which child told you? Type part of their name to find them." in card.text()
    card = await teacher.taps(card.action("Next"), answer="ava")
    assert [a["title"] for a in card.actions()][:4] == ["Ava Stone (Year 5)", "Ava Stoneley (Year 6)",
                                                        "Not on the list", "Search again"]
    card = await teacher.taps(card.action("Ava Stone (Year 5)"))
    card = await teacher.taps(card.action("Next"), answer=CHILD_WORDS)
    for label in ("No", "In class", "No", "No"):  # immediate risk, where she is, illegal, imagery
        card = await teacher.taps(card.action(label))
    assert "About: Ava Stone (Year 5)" in card.text() and "Where the child is now: In class" in card.text()
    await teacher.taps(card.action("Send"))
    await rig.fake.wait_in(teacher.conversation["id"], f"Your report {reference} has been sent")  # the receipt
    await rig.teams.idle()


async def test_the_dsl_sees_the_child_first_and_a_second_report_links_to_her_history(rig: Rig) -> None:
    await import_example_roster(rig.app)
    teacher, dsl = rig.user("cfinch"), rig.user("smorgan")
    await dsl.installs()
    await disclose(rig, teacher, "SG-2026-0001")
    alert = await rig.fake.wait_in(dsl.conversation["id"], "SG-2026-0001")
    lines = alert.text().split("\n")
    assert lines[0] == "New report SG-2026-0001 for you to acknowledge"
    assert lines[1:4] == ["Child: Ava Stone (Year 5)", "Where the child is now: In class",
                          "No earlier reports about this child"]
    assert "Ava" not in str(alert.activity.get("summary"))

    await disclose(rig, teacher, "SG-2026-0002")
    second = await rig.fake.wait_in(dsl.conversation["id"], "SG-2026-0002")
    assert "1 earlier report about this child" in second.text().split("\n")
    history = await dsl.taps(second.action("Child's history"))
    assert "Reports about Ava Stone (Year 5): 2" in history.text()
    assert "SG-2026-0001" in history.text() and "SG-2026-0002" in history.text()
    assert "Ava" not in str(history.activity.get("summary"))


async def test_a_teacher_asking_for_a_childs_history_is_refused(rig: Rig) -> None:
    await import_example_roster(rig.app)
    teacher, dsl = rig.user("cfinch"), rig.user("smorgan")
    await dsl.installs()
    await disclose(rig, teacher, "SG-2026-0001")
    alert = await rig.fake.wait_in(dsl.conversation["id"], "SG-2026-0001")
    refused = await teacher.taps(alert.action("Child's history"))  # the DSL's button, sent by the teacher
    assert refused.text() == "You can't see a child's history: only the DSL and deputy DSLs can."
