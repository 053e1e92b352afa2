"""Every way into a report: /report, the shortcut, the App Home; and the colleague menu."""

from __future__ import annotations

import uuid
from typing import Any

from routing.vocabulary import Flag
from tests.e2e.reports import submit
from tests.e2e.slack_rig import APP_ID, NOT_IN_DIRECTORY, SLACK_IDS, Phone, Rig, trigger_id


def shortcut(user: str) -> dict[str, Any]:
    """A global shortcut payload as Slack sends it."""
    return {"type": "shortcut", "token": "unused-legacy-token", "action_ts": "1790000000.000001",
            "team": {"id": "T0OAKFIELD", "domain": "oakfield"},
            "user": {"id": user, "username": "someone", "team_id": "T0OAKFIELD"},
            "is_enterprise_install": False, "enterprise": None, "callback_id": "report_concern",
            "trigger_id": trigger_id()}


def home_opened(user: str) -> dict[str, Any]:
    return {"type": "app_home_opened", "user": user, "channel": "D" + user[1:], "tab": "home",
            "event_ts": "1790000000.000001"}


def pressed_on_home(phone: Phone, home: dict[str, Any], block_id: str, button: dict[str, Any]) -> dict[str, Any]:
    """A block_actions payload for a button on someone's App Home (a view: no channel, no message)."""
    action = {"type": "button", "action_id": button["action_id"], "block_id": block_id, "text": button["text"],
              "value": button["value"], "action_ts": "1790000000.000002"}
    payload = phone.payload({"ts": "0"}, action)
    del payload["channel"], payload["message"], payload["response_url"]  # a view's button has no response_url
    view_id = f"V0HOME{uuid.uuid4().hex[:6].upper()}"
    payload["container"] = {"type": "view", "view_id": view_id}
    payload["view"] = {**home, "id": view_id, "team_id": "T0OAKFIELD", "state": {"values": {}}, "hash": "1790000000.a",
                       "app_id": APP_ID, "bot_id": "B0SAFEBOT1"}
    return payload


async def test_the_report_command_starts_the_dialog_in_the_dm(rig: Rig) -> None:
    teacher = rig.phone("cfinch")
    answer = await rig.command(teacher.user, channel_id="C0STAFFROOM")
    assert answer.status == 200
    assert "Your report is open in your direct messages with Safeguard" in answer.body
    first = await teacher.wait_for_post(1)
    assert "What are you reporting?" in first.words()
    assert rig.fake.to("conversations.open", users=teacher.user)

    # A concern about a colleague: the menu lists the directory, never the reporter.
    await teacher.tap("Concern about a colleague")
    menu = next(e for b in teacher.latest()["blocks"] for e in b.get("elements", []) if e.get("type") == "static_select")
    names = [o["text"]["text"] for o in menu["options"]]
    assert "Jordan Ellis" in names and "Chris Finch" not in names
    asked = await teacher.choose("Tomi Okafor")
    assert "What happened?" in asked.words()


async def test_the_report_command_in_the_dm_just_asks(rig: Rig) -> None:
    teacher = rig.phone("cfinch")
    answer = await rig.command(teacher.user, channel_id=teacher.dm)
    assert answer.status == 200 and "direct messages" not in answer.body
    assert "What are you reporting?" in (await teacher.wait_for_post(1)).words()


async def test_the_shortcut_starts_a_report_and_then_carries_it_on(rig: Rig) -> None:
    teacher = rig.phone("cfinch")
    assert (await rig.interact(shortcut(teacher.user))).status == 200
    assert "What are you reporting?" in (await teacher.wait_for_post(1)).words()
    await teacher.tap("Friend or follow request")
    assert (await rig.interact(shortcut(teacher.user))).status == 200
    resumed = await teacher.wait_for_post(3)
    assert "You have a report you haven't finished" in resumed.words()
    assert "Who tried to friend, follow or contact you?" in resumed.words()


async def test_the_shortcut_from_a_stranger_gets_the_admin_advice(rig: Rig) -> None:
    assert (await rig.interact(shortcut(NOT_IN_DIRECTORY))).status == 200
    told = await rig.fake.wait_for("chat.postMessage", channel="D" + NOT_IN_DIRECTORY[1:])
    assert "Safeguard administrator" in told[0].words()


async def test_the_app_home_has_a_report_button_and_the_dsls_open_reports(rig: Rig) -> None:
    teacher, dsl = rig.phone("cfinch"), rig.phone("smorgan")
    assert (await rig.event(home_opened(teacher.user))).status == 200
    home = (await rig.fake.wait_for("views.publish", user_id=teacher.user))[0].args["view"]
    assert home["type"] == "home"
    start = next(e for b in home["blocks"] for e in b.get("elements", []) if e.get("action_id") == "sg_start")
    assert "Your cases" not in str(home)  # a teacher holds no role

    # The App Home button starts the dialog in the DM.
    assert (await rig.interact(pressed_on_home(teacher, home, "sg_home", start))).status == 200
    assert "What are you reporting?" in (await teacher.wait_for_post(1)).words()

    older = await submit(rig.app, flags=frozenset({Flag.IMMEDIATE_RISK}))
    rig.clock.advance(20)  # past the 15 minutes a child at immediate risk allows (DESIGN rule 3)
    newer = await submit(rig.app, details={"The child's words": "Another made-up disclosure."})
    assert (await rig.event(home_opened(dsl.user))).status == 200
    view = (await rig.fake.wait_for("views.publish", user_id=SLACK_IDS["smorgan"]))[0].args["view"]
    text = str(view)
    assert "Your cases (open): 2" in text
    assert text.index(older) < text.index(newer)  # the oldest deadline first
    assert "OVERDUE" in text.split(older)[1].split(newer)[0] and "OVERDUE" not in text.split(newer)[1]

    # Acknowledged from the Home tab: said in the DM, and the tab shows it.
    row = next(b for b in view["blocks"] if b.get("block_id") == f"sg_home:{older}")
    button = next(e for e in row["elements"] if e["text"]["text"] == "Acknowledge")
    assert (await rig.interact(pressed_on_home(dsl, view, row["block_id"], button))).status == 200
    assert f"You acknowledged {older}" in (await dsl.wait_for_said(f"You acknowledged {older}")).words()
    again = (await rig.fake.wait_for("views.publish", 2, user_id=dsl.user))[1].args["view"]
    assert "Acknowledged by Sam Morgan" in str(again).split(older)[1]


async def test_an_old_questions_button_does_not_answer_the_current_one(rig: Rig) -> None:
    teacher = rig.phone("cfinch")
    first = await teacher.type("hi")
    as_first_sent = {**teacher.message_of(first), "blocks": first.args["blocks"]}  # a phone that missed the update
    await teacher.tap("Friend or follow request")
    stale = await teacher.tap("Pupil disclosure", as_first_sent)
    assert "That button belongs to an earlier question" in stale.words()
    assert "Who tried to friend, follow or contact you?" in stale.words()  # still the current question

    await teacher.tap("Cancel")
    finished = await teacher.tap("Pupil disclosure", as_first_sent)
    assert "That report is finished" in finished.words()
