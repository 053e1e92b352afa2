"""Who may do what from Teams, duplicates, and bad requests: refused plainly, logged, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from storage.log import events_for
from storage.models import ConversationRef, Draft, InboundEvent, Report
from storage.reports import get_report
from tests.teams.rig import Rig, User

CHILD_WORDS = "She said an older pupil shared a made-up picture of her in a group chat"


async def reported(rig: Rig) -> dict[str, Any]:
    """The teacher reports a disclosure by typing alone; the DSL's alert card, once sent."""
    teacher, dsl = rig.user("cfinch"), rig.user("smorgan")
    await dsl.installs()
    for answer in ("Pupil disclosure", "No", "The child is the victim", "Mia Hart", "Skip", CHILD_WORDS, "No", "With me", "No", "No"):
        await teacher.says(answer)
    await teacher.send(teacher.activity(text="Send"))  # answered by the receipt, from the outbox
    alert = await rig.fake.wait_in(dsl.conversation["id"], "SG-2026-0001")
    return alert.action("Acknowledge")


async def count(rig: Rig, model: type[Any]) -> int:
    async with rig.app.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_someone_not_in_the_directory_is_told_to_ask_their_admin_and_nothing_is_stored(rig: Rig) -> None:
    stranger = rig.user("vgrey", known=False)
    reply = await stranger.says("I want to report something")
    assert "Safeguard doesn't know your Teams account yet" in reply.text()
    assert "ask your school's Safeguard administrator to add you" in reply.text()
    tapped = await stranger.taps({"type": "Action.Submit", "data": {"safeguard": "answer", "choice": "misuse"}})
    assert "Safeguard doesn't know your Teams account yet" in tapped.text()
    for model in (Draft, Report, ConversationRef, InboundEvent):
        assert await count(rig, model) == 0, model.__name__


async def test_a_card_action_by_someone_it_was_not_sent_to_is_refused_and_logged(rig: Rig) -> None:
    acknowledge = await reported(rig)
    head = rig.user("jellis")  # the headteacher: not among this disclosure's recipients
    refused = await head.taps(acknowledge)
    assert refused.text() == ("You can't acknowledge SG-2026-0001: it was not sent to you. If you think it should "
                              "have been, speak to your Designated Safeguarding Lead.")
    viewed = await head.taps({"type": "Action.Submit",
                              "data": {"safeguard": "report", "action": "view", "reference": "SG-2026-0001"}})
    assert CHILD_WORDS not in viewed.text() and viewed.text().startswith("You can't see SG-2026-0001")
    async with rig.app.sessions() as session:
        report = await get_report(session, "SG-2026-0001")
        assert report is not None and (report.status, report.acknowledged_by) == ("open", None)
        refusals = [(e.actor, e.data) for e in await events_for(session, "SG-2026-0001") if e.kind == "refused"]
        assert refusals == [("jellis", {"action": "acknowledge"}), ("jellis", {"action": "view"})]
    assert rig.fake.to(head.conversation["id"], "update") == []


async def test_the_same_activity_twice_is_handled_once(rig: Rig) -> None:
    teacher = rig.user("cfinch")
    activity = teacher.activity(text="Pupil disclosure")
    first = await teacher.send(activity)
    again = await teacher.send(activity)  # Teams resends when it heard nothing back in time
    assert len(first) == 1 and again == []
    reply = await teacher.says("No")
    assert reply.text().startswith("Is the child the victim"), "the first message answered one question only"


async def test_a_message_in_a_group_chat_is_not_taken(rig: Rig) -> None:
    teacher = rig.user("cfinch")
    teacher.conversation = {"id": "19:made-up-group@thread.v2", "conversationType": "groupChat", "isGroup": True}
    reply = await teacher.says("A pupil told me something")
    assert reply.text().startswith("Safeguard takes reports in a one-to-one chat only")
    assert await count(rig, Draft) == 0


async def test_a_file_is_refused_with_a_reason(rig: Rig) -> None:
    teacher = rig.user("cfinch")
    reply = await teacher.send(teacher.activity(text="", attachments=[
        {"contentType": "image/png", "contentUrl": "https://example.org/made-up.png"}]))
    assert "Safeguard can't take that file here" in reply[0].text()


async def test_an_unknown_button_is_answered(rig: Rig) -> None:
    reply = await rig.user("cfinch").taps({"type": "Action.Submit", "data": {"safeguard": "made-up"}})
    assert reply.text().startswith("That button is not one Safeguard knows")


def raw(user: User, **changes: Any) -> dict[str, Any]:
    activity = user.activity(text="hello")
    activity.update(changes)
    return {k: v for k, v in activity.items() if v is not None}


SIGNED = "a good activity, signed"


@pytest.mark.parametrize(("body", "headers", "status"), [
    ("not json", {"Content-Type": "application/json"}, 400),
    ("[1, 2]", {"Content-Type": "application/json"}, 400),
    ("{}", {"Content-Type": "text/plain"}, 415),
    ('{"type": 7}', {"Content-Type": "application/json"}, 400),
    ('{"type": "message", "from": "nobody"}', {"Content-Type": "application/json"}, 400),
    # Anonymous mode cannot check a signature: say so, rather than try (botbuilder would answer 500).
    (SIGNED, {"Content-Type": "application/json", "Authorization": "Bearer made-up"}, 401),
])
async def test_bad_requests_get_a_4xx(rig: Rig, body: str, headers: dict[str, str], status: int) -> None:
    data = json.dumps(raw(rig.user("cfinch"))) if body == SIGNED else body
    async with rig.http.post(f"{rig.url}/api/messages", data=data, headers=headers) as response:
        assert response.status == status, await response.text()
    assert rig.fake.sent == [] and await count(rig, Draft) == 0


@pytest.mark.parametrize("missing", ["serviceUrl", "conversation", "from", "type"])
async def test_an_activity_without_what_a_reply_needs_gets_a_400(rig: Rig, missing: str) -> None:
    status, body = await rig.user("cfinch").post(raw(rig.user("cfinch"), **{missing: None}))
    assert status == 400, body
    assert await count(rig, Draft) == 0
