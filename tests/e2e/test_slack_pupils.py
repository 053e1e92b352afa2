"""Slack: a disclosure names a child picked from the imported roster; the DSL sees the child first, and her history."""

from __future__ import annotations

import logging

import pytest

from tests.builders import import_example_roster
from tests.e2e.fake_slack import words_of
from tests.e2e.slack_rig import Phone, Rig, find_button

CHILD_WORDS = "She said an older boy in a game keeps asking her for photos (made-up words)."
POSTED = "Posted a made-up video mocking a classmate."


async def disclose(teacher: Phone) -> None:
    """A disclosure by Ava Stone, found by typing part of her name, who is with the teacher now."""
    await teacher.type("hi")
    for label in ("Pupil disclosure", "No", "The child is the victim"):
        await teacher.tap(label)
    assert "Which child told you? Type part of their name" in words_of(teacher.latest())
    matches = await teacher.type("ava")
    assert "Ava Stone (Year 5)" in matches.words() and "Ava Stoneley (Year 6)" in matches.words()
    find_button(teacher.message_of(matches), "Not on the list")
    find_button(teacher.message_of(matches), "Search again")
    await teacher.tap("Ava Stone (Year 5)")
    await teacher.type(CHILD_WORDS)
    await teacher.tap("Yes")  # immediate risk: the 999 advice, then where she is
    await teacher.wait_for_said("Where is Ava Stone now?")
    await teacher.tap("With me", teacher.message_of(await teacher.wait_for_said("Where is Ava Stone now?")))
    await teacher.tap("No")  # illegal
    summary = await teacher.tap("No")  # self-generated imagery
    assert "About: Ava Stone (Year 5)" in summary.words()
    assert "Where the child is now: With me" in summary.words()
    await teacher.tap("Send")


async def test_the_dsls_alert_names_the_child_and_where_she_is_first_and_links_a_second_report(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # what the server logs (its libraries log message bodies only at DEBUG)
    await import_example_roster(rig.app)
    teacher, dsl = rig.phone("cfinch"), rig.phone("smorgan")
    await disclose(teacher)
    alert = dsl.message_of(await dsl.wait_for_post(1))
    lines = words_of(alert).split("\n")
    assert "URGENT: New report SG-2026-0001 for you to acknowledge" in lines[0]
    assert lines[1:4] == ["Child: Ava Stone (Year 5)", "Where the child is now: With me",
                          "No earlier reports about this child"]
    assert lines.index("Flagged: a child may be at immediate risk of harm") < lines.index(f"The child's words: {CHILD_WORDS}")
    # A locked phone shows the reference and what is asked: never the child.
    assert "Ava" not in rig.fake.to("chat.postMessage", channel=dsl.dm)[0].args["text"]

    # A second report about the same child: misuse, found by part of her name and her year.
    await teacher.type("hi")
    await teacher.tap("Social media misuse")
    await teacher.tap("A pupil")
    await teacher.type("stone 5")
    await teacher.tap("Ava Stone (Year 5)")
    await teacher.tap("Instagram")
    await teacher.type(POSTED)
    for _ in range(2):
        await teacher.tap("No")
    await teacher.tap("No")
    await teacher.tap("No screenshots")
    await teacher.tap("Send")
    second = dsl.message_of(await dsl.wait_for_said("SG-2026-0002"))
    assert "1 earlier report about this child" in words_of(second).split("\n")

    # Child's history: every report about her, in the DSL's DM.
    before = len(dsl.posts())
    block, button = find_button(second, "Child's history")
    answer = await rig.interact(dsl.action_payload(second, block, button))
    assert answer.status == 200
    history = await dsl.wait_for_post(before + 1)
    listed = history.words()
    assert "Reports about Ava Stone (Year 5): 2" in listed
    assert "SG-2026-0001" in listed and "Pupil disclosure" in listed and "SG-2026-0002" in listed
    assert "Ava" not in history.args["text"]
    await rig.slack.idle()
    assert not [r.getMessage() for r in caplog.records if "Ava" in r.getMessage() or "Stone" in r.getMessage()]


async def test_a_teacher_cannot_see_a_childs_history(rig: Rig) -> None:
    await import_example_roster(rig.app)
    teacher, dsl = rig.phone("cfinch"), rig.phone("smorgan")
    await disclose(teacher)
    alert = dsl.message_of(await dsl.wait_for_post(1))
    block, button = find_button(alert, "Child's history")
    before = len(teacher.posts())
    # The same button, pressed by the teacher (as a forged payload would): refused, revealing nothing.
    answer = await rig.interact(teacher.action_payload(alert, block, button, channel=teacher.dm))
    assert answer.status == 200
    refused = await teacher.wait_for_post(before + 1)
    assert refused.words() == "\u26a0\ufe0f You can't see a child's history: only the DSL and deputy DSLs can."
