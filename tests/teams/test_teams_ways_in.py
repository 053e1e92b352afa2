"""The ways into Safeguard in Teams besides a message: the welcome's buttons, and the reminder of a draft."""

from __future__ import annotations

from tests.teams.rig import Rig


async def test_the_welcome_starts_a_report_and_lists_a_role_holders_cases(rig: Rig) -> None:
    teacher, dsl = rig.user("cfinch"), rig.user("smorgan")
    [welcome] = await teacher.installs()
    assert [a["title"] for a in welcome.actions()] == [
        "Report a concern", "Ask to unblock a site", "Ask to set up a social media site"], "no roles, no list of reports"
    card = await teacher.taps(welcome.action("Report a concern"))
    assert card.text().startswith("What are you reporting?")

    [dsl_welcome] = await dsl.installs()
    listed = await dsl.taps(dsl_welcome.action("My cases"))
    assert listed.text() == "No cases for you (open)."
    for answer in ("Pupil disclosure", "No", "The child is the victim", "Mia Hart", "Skip", "A made-up account", "No",
                   "With me", "No", "No"):
        await teacher.says(answer)
    await teacher.send(teacher.activity(text="Send"))  # answered by the receipt, from the outbox
    await rig.fake.wait_in(dsl.conversation["id"], "New report SG-2026-0001")
    listed = await dsl.taps(dsl_welcome.action("My cases"))
    assert listed.text().startswith("Your cases (open): 1\nSG-2026-0001  Pupil disclosure")
    assert "Not yet acknowledged, due by 09:45 on Fri 20 Nov" in listed.text(), "no immediate risk: 30 minutes"
    viewed = await dsl.taps(listed.action("View log"))
    assert viewed.text().startswith("Report SG-2026-0001: open")


async def test_a_draft_left_alone_is_reminded_in_its_chat_and_carries_on(rig: Rig) -> None:
    teacher = rig.user("cfinch")
    await teacher.says("Pupil disclosure")
    rig.clock.advance(minutes=31)
    await rig.teams.outbox.nudge()
    reminder = await rig.fake.wait_in(teacher.conversation["id"], "You have a report you haven't finished", kind="send")
    card = await teacher.taps(reminder.action("Carry on"))
    assert "Is the child telling you about an adult who works at the school?" in card.text()
    await rig.teams.outbox.nudge()
    assert len(rig.fake.to(teacher.conversation["id"], "send")) == 1, "reminded once"
