"""Something about myself in Teams, over HTTP to our server: a teacher self-refers, the headteacher acknowledges."""

from __future__ import annotations

from tests.previews import forbidden, leaks
from tests.teams.rig import Rig

WHAT = "A Year 5 pupil messaged me on Instagram about homework and I replied before thinking (made-up)."
DID = "Replied once, then blocked the account (made-up)."
EVERYONE = ("jellis", "smorgan", "rpatel", "tokafor", "hbrooks", "dwilde")


async def test_a_teacher_self_refers_and_hears_when_the_headteacher_acknowledges(rig: Rig) -> None:
    users = {person: rig.user(person) for person in EVERYONE}
    for user in users.values():
        await user.installs()  # everyone with a role has the app, so a wrongly routed alert would reach them
    teacher, head = rig.user("cfinch"), users["jellis"]
    card = await teacher.says("hello")
    card = await teacher.taps(card.action("Something about myself"))
    assert "Tip: Thank you for telling the school" in card.text() and "never anonymously" in card.text()
    assert "Was a pupil involved?" in card.text()
    card = await teacher.taps(card.action("No"))
    card = await teacher.taps(card.action("Yesterday"))
    card = await teacher.taps(card.action("Instagram"))
    card = await teacher.taps(card.action("Next"), answer=WHAT)
    card = await teacher.taps(card.action("Next"), answer=DID)
    card = await teacher.taps(card.action("Skip"))  # anything else
    card = await teacher.taps(card.action("No"))  # immediate risk: the last question
    assert "Please check your report:" in card.text() and "About: You (a self-referral" in card.text()
    assert [a["title"] for a in card.actions()] == ["Send", "Change something", "Cancel"]
    await teacher.taps(card.action("Send"))
    receipt = await rig.fake.wait_in(teacher.conversation["id"], "Thank you.")
    assert "has been sent to the Headteacher" in receipt.text()

    alert = await rig.fake.wait_in(head.conversation["id"], "SG-2026-0001")
    assert alert.text().startswith("New report SG-2026-0001 for you to acknowledge\n")
    assert "About: Chris Finch (about themself: a self-referral)" in alert.text()
    # What the chat list and a locked phone show: no name, nothing typed, not what kind of report it is.
    summary = str(alert.activity.get("summary") or "")
    assert summary.startswith("Safeguard: ")
    assert leaks([summary], [*forbidden(rig.app, WHAT, DID), "myself", "self-referral", "self referral"]) == []
    await rig.teams.idle()
    # Only the headteacher: nobody else with a role has heard of it.
    for person, user in users.items():
        if person != "jellis":
            assert not any("SG-2026-0001" in sent.text() for sent in rig.fake.to(user.conversation["id"])), person

    told = await head.taps(alert.action("Acknowledge"), reply_to=alert.id)
    assert told.text().startswith("You acknowledged SG-2026-0001")
    news = await rig.fake.wait_in(teacher.conversation["id"], "Your report SG-2026-0001 was", kind="send")
    assert news.text().startswith("Your report SG-2026-0001 was acknowledged by the Headteacher at ")
    assert WHAT not in news.text()
