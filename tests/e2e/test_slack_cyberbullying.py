"""Cyberbullying reported from Slack, over real HTTP signed like Slack: where each alert lands."""

from __future__ import annotations

from tests.e2e.fake_slack import words_of
from tests.e2e.slack_rig import Rig, find_button

GROUP_CHAT = "Three pupils keep posting edited photos of a Year 4 girl in their class group chat (made-up)."
PARENT_POST = "A parent called a named teacher a liar and worse on a community Facebook page (made-up)."


async def pick_who_is_bullied(rig: Rig, label: str) -> str:
    """Start a cyberbullying report as the teacher and say who is bullied; the advice given at once."""
    teacher = rig.phone("cfinch")
    await teacher.type("hi")
    await teacher.tap("Cyberbullying")
    assert "Who is being bullied?" in words_of(teacher.latest())
    asked = await teacher.tap(label)  # the advice comes with the next question, in one message
    assert "Who is doing the bullying?" in asked.text()
    return asked.text()


async def test_a_pupil_bullied_by_pupils_reaches_the_dsl_and_the_headteacher_only(rig: Rig) -> None:
    teacher, dsl, head = rig.phone("cfinch"), rig.phone("smorgan"), rig.phone("jellis")
    tip = await pick_who_is_bullied(rig, "A pupil")
    assert "Do not reply or retaliate" in tip and "do not screenshot, copy or forward it" in tip
    await teacher.tap("Pupils")
    await teacher.type("Ava Stone")  # who is bullied (no roster: typed)
    await teacher.tap("Skip")
    await teacher.tap("I don't know")  # which pupil is doing it
    await teacher.tap("WhatsApp")
    await teacher.type(GROUP_CHAT)
    for _ in range(3):
        await teacher.tap("No")  # immediate risk, illegal, self-generated imagery
    summary = await teacher.tap("No screenshots")
    assert "By: Pupils" in summary.text() and "Who is being bullied: A pupil" in summary.text()
    sent = await teacher.tap("Send")
    assert "has been sent to the Designated safeguarding lead (DSL)" in sent.text()

    alert = dsl.message_of(await dsl.wait_for_post(1))
    assert "New report SG-" in words_of(alert) and "Cyberbullying of a pupil" in words_of(alert)
    find_button(alert, "Acknowledge")
    told = await head.wait_for_post(1)
    assert "Cyberbullying of a pupil" in told.text()
    await rig.slack.idle()
    # A child's case never reaches a governor; the deputy DSL is only on the ladder.
    for person in ("hbrooks", "dwilde", "rpatel", "tokafor"):
        assert rig.phone(person).posts() == [], person


async def test_a_teacher_bullied_by_a_parent_reaches_the_headteacher(rig: Rig) -> None:
    teacher, head = rig.phone("cfinch"), rig.phone("jellis")
    tip = await pick_who_is_bullied(rig, "A member of staff")
    assert "Professionals Online Safety Helpline" in tip
    await teacher.tap("A parent or carer")
    await teacher.tap("I don't know")  # which pupil's parent
    await teacher.tap("Facebook")
    await teacher.type(PARENT_POST)
    await teacher.tap("No")  # immediate risk
    asked = await teacher.tap("No")  # illegal; no imagery question, no pupil is involved
    assert "Send any screenshots now" in asked.words()
    summary = await teacher.tap("No screenshots")
    assert "Please check your report" in summary.text() and "By: A parent or carer" in summary.text()
    sent = await teacher.tap("Send")
    assert "has been sent to the Headteacher" in sent.text()

    alert = head.message_of(await head.wait_for_post(1))
    assert "New report SG-" in words_of(alert) and "Who is being bullied: A member of staff\nBy: A parent or carer" in words_of(alert)
    find_button(alert, "Acknowledge")
    await rig.slack.idle()
    for person in ("smorgan", "rpatel", "hbrooks", "dwilde", "tokafor"):
        assert rig.phone(person).posts() == [], person
