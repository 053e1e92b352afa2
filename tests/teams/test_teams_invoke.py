"""Action.Execute (`adaptiveCard/action` invokes): answered with a body and a 200, never botbuilder's 500.

botbuilder 4.17.1's CloudAdapter.process serializes an invoke's body twice and answers 500
(PLATFORM-NOTES.md); Safeguard writes the answer itself. Each test here posts a real invoke over
HTTP and reads the body, so going back to botbuilder's path fails them.
"""

from __future__ import annotations

from typing import Any

from storage.log import events_for
from storage.reports import get_report
from tests.teams.fake_connector import nodes
from tests.teams.rig import Rig, User

CARD = "application/vnd.microsoft.card.adaptive"


def execute(user: User, verb: str, **data: Any) -> dict[str, Any]:
    """An Action.Execute press, as Teams sends it."""
    return user.activity("invoke", name="adaptiveCard/action", value={
        "action": {"type": "Action.Execute", "verb": verb, "data": data}, "trigger": "manual"})


async def routed(rig: Rig) -> None:
    teacher = rig.user("cfinch")
    await rig.user("smorgan").installs()
    for answer in ("Pupil disclosure", "No", "About another child", "Leo Marsh", "Skip", "I don't know",
                   "A made-up account of a made-up chat", "No", "In class", "No", "No"):
        await teacher.says(answer)
    await teacher.send(teacher.activity(text="Send"))  # answered by the receipt, from the outbox
    await rig.fake.wait_for(lambda s: "New report SG-2026-0001" in s.text())


def texts(card: dict[str, Any]) -> str:
    return "\n".join(run["text"] for run in nodes(card, ("TextRun",)))


async def test_acknowledge_by_action_execute_answers_200_with_the_updated_card(rig: Rig) -> None:
    await routed(rig)
    dsl = rig.user("smorgan")
    status, body = await dsl.post(execute(dsl, "acknowledge", reference="SG-2026-0001"))
    assert status == 200, body
    assert (body["statusCode"], body["type"]) == (200, CARD)
    assert "Report SG-2026-0001 acknowledged by Sam Morgan at 09:15 on Fri 20 Nov" in texts(body["value"])
    assert "Acknowledge" not in str([a.get("title") for a in body["value"]["body"][-1]["actions"]])
    told = await rig.fake.wait_in(dsl.conversation["id"], "You acknowledged")
    assert told.kind == "reply"
    teacher = rig.user("cfinch")
    await rig.fake.wait_in(teacher.conversation["id"], "was acknowledged by the Designated safeguarding lead")
    async with rig.app.sessions() as session:
        report = await get_report(session, "SG-2026-0001")
        assert report is not None and report.acknowledged_by == "smorgan"


async def test_a_refresh_shows_the_alert_only_to_whom_it_was_sent(rig: Rig) -> None:
    await routed(rig)
    dsl, head = rig.user("smorgan"), rig.user("jellis")
    status, body = await dsl.post(execute(dsl, "refresh", reference="SG-2026-0001"))
    assert status == 200 and body["type"] == CARD
    assert texts(body["value"]).startswith("New report SG-2026-0001 for you to acknowledge")
    status, body = await head.post(execute(head, "refresh", reference="SG-2026-0001"))
    assert status == 200 and body["type"] == "application/vnd.microsoft.activity.message"
    assert body["value"].startswith("You can't see SG-2026-0001: it was not sent to you.")
    assert "made-up" not in str(body)
    async with rig.app.sessions() as session:
        refused = [(e.actor, e.data) for e in await events_for(session, "SG-2026-0001") if e.kind == "refused"]
    assert refused == [("jellis", {"action": "view"})], "a refusal to refresh is logged like any other"


async def test_an_action_by_someone_it_was_not_sent_to_is_refused_in_the_answer(rig: Rig) -> None:
    await routed(rig)
    head = rig.user("jellis")
    status, body = await head.post(execute(head, "acknowledge", reference="SG-2026-0001"))
    assert status == 200
    assert body["value"].startswith("You can't acknowledge SG-2026-0001: it was not sent to you.")
    async with rig.app.sessions() as session:
        assert [e.actor for e in await events_for(session, "SG-2026-0001") if e.kind == "refused"] == ["jellis"]


async def test_malformed_and_unknown_invokes_get_a_400_with_a_reason(rig: Rig) -> None:
    user = rig.user("smorgan")
    status, body = await user.post(execute(user, "acknowledge"))  # no reference
    assert status == 400 and body["type"] == "application/vnd.microsoft.error"
    assert body["value"]["code"] == "BadRequest"
    status, body = await user.post(user.activity("invoke", name="adaptiveCard/action", value="junk"))
    assert status == 400 and body["statusCode"] == 400
    status, body = await user.post(user.activity("invoke", name="task/fetch", value={}))
    assert status == 400 and body["value"]["code"] == "NotSupported"


async def test_a_stranger_pressing_execute_is_told_to_ask_their_admin(rig: Rig) -> None:
    stranger = rig.user("vgrey", known=False)
    status, body = await stranger.post(execute(stranger, "view", reference="SG-2026-0001"))
    assert status == 200 and "ask your school's Safeguard administrator" in body["value"]
