"""Cyberbullying reported in Teams, over HTTP to our server: where each alert lands."""

from __future__ import annotations

from tests.teams.fake_connector import Sent
from tests.teams.rig import Rig, User

GROUP_CHAT = "Three pupils keep posting edited photos of a Year 4 girl in their class group chat (made-up)."
PARENT_POST = "A parent called a named teacher a liar and worse on a community Facebook page (made-up)."
EVERYONE = ("jellis", "smorgan", "rpatel", "tokafor", "hbrooks", "dwilde")


async def everyone_installed(rig: Rig) -> dict[str, User]:
    """Everyone with a role has the app, so a wrongly routed alert would reach them."""
    users = {person: rig.user(person) for person in EVERYONE}
    for user in users.values():
        await user.installs()
    return users


async def report(rig: Rig, target: str, bully: str, platform: str, words: str, noes: int,
                 pupils: tuple[str, ...] = ()) -> Sent:
    """The teacher reports cyberbullying; the card that asks them to check it."""
    teacher = rig.user("cfinch")
    card = await teacher.says("hello")
    card = await teacher.taps(card.action("Cyberbullying"))
    assert "Who is being bullied?" in card.text()
    card = await teacher.taps(card.action(target))
    assert "Tip: Do not reply or retaliate" in card.text() and "Who is doing the bullying?" in card.text()
    if target == "A member of staff":
        assert "Professionals Online Safety Helpline" in card.text()
    card = await teacher.taps(card.action(bully))
    for answer in pupils:  # which pupils: typed, or "I don't know" and "Skip" said as words
        card = await teacher.says(answer)
    card = await teacher.taps(card.action(platform))
    card = await teacher.taps(card.action("Next"), answer=words)
    for _ in range(noes):
        card = await teacher.taps(card.action("No"))
    assert "Send any screenshots now" in card.text()
    card = await teacher.taps(card.action("No screenshots"))
    assert "Please check your report:" in card.text()
    return card


def reached(rig: Rig, users: dict[str, User], reference: str) -> set[str]:
    """Who has been sent anything about `reference`."""
    return {person for person, user in users.items()
            if any(reference in sent.text() for sent in rig.fake.to(user.conversation["id"]))}


async def test_a_pupil_bullied_by_pupils_reaches_the_dsl_and_the_headteacher_only(rig: Rig) -> None:
    users = await everyone_installed(rig)
    card = await report(rig, "A pupil", "Pupils", "WhatsApp", GROUP_CHAT, noes=3,
                        pupils=("Ava Stone", "Skip", "I don't know"))
    assert "By: Pupils\nWho is being bullied: A pupil" in card.text()
    await rig.user("cfinch").taps(card.action("Send"))
    receipt = await rig.fake.wait_in(rig.user("cfinch").conversation["id"], "Thank you.")
    assert "has been sent to the Designated safeguarding lead (DSL)" in receipt.text()

    alert = await rig.fake.wait_in(users["smorgan"].conversation["id"], "SG-2026-0001")
    assert alert.text().startswith("New report SG-2026-0001 for you to acknowledge\n")
    assert "Cyberbullying of a pupil, a member of staff or the school" in alert.text()
    assert "Acknowledge" in [a["title"] for a in alert.actions()]
    await rig.fake.wait_in(users["jellis"].conversation["id"], "SG-2026-0001")
    await rig.teams.idle()
    assert reached(rig, users, "SG-2026-0001") == {"smorgan", "jellis"}


async def test_a_teacher_bullied_by_a_parent_reaches_the_headteacher(rig: Rig) -> None:
    users = await everyone_installed(rig)
    card = await report(rig, "A member of staff", "A parent or carer", "Facebook", PARENT_POST, noes=2,
                        pupils=("I don't know",))
    await rig.user("cfinch").taps(card.action("Send"))
    receipt = await rig.fake.wait_in(rig.user("cfinch").conversation["id"], "Thank you.")
    assert "has been sent to the Headteacher" in receipt.text()

    alert = await rig.fake.wait_in(users["jellis"].conversation["id"], "SG-2026-0001")
    assert alert.text().startswith("New report SG-2026-0001 for you to acknowledge\n")
    assert "Who is being bullied: A member of staff\nBy: A parent or carer" in alert.text()
    await rig.teams.idle()
    assert reached(rig, users, "SG-2026-0001") == {"jellis"}
