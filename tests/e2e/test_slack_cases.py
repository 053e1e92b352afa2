"""In Slack: the App Home lists a person's cases with a filter, and Reassign and Reopen work from buttons and modals.

Reports go in through the lifecycle; everything after goes through our server, signed as Slack
signs it, to FakeSlack, which records what the bot sent.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.app import SLACK
from bot.cases import lifecycle
from dialogs import ReportDraft
from dialogs.report import NamedPupil, PupilRole
from routing.vocabulary import Category, Flag, Subject
from storage.log import events_for, verify
from storage.reports import get_report
from tests.builders import submitted
from tests.e2e.fake_slack import words_of
from tests.e2e.reports import CHILD_WORDS, submit
from tests.e2e.slack_rig import APP_ID, Phone, Rig, eventually, find_button
from tests.e2e.test_slack_ways_in import home_opened, pressed_on_home

PARENT_POST = {"What happened": "A parent posted a made-up rumour about the school on a community page."}


def row_buttons(view: dict[str, Any], reference: str) -> list[str]:
    row = next(b for b in view["blocks"] if b.get("block_id") == f"sg_home:{reference}")
    return [e["text"]["text"] for e in row["elements"]]


async def opened_home(rig: Rig, phone: Phone, count: int = 1) -> dict[str, Any]:
    """The person opens their App Home; the view published for them."""
    assert (await rig.event(home_opened(phone.user))).status == 200
    return (await rig.fake.wait_for("views.publish", count, user_id=phone.user))[count - 1].args["view"]


def chose(phone: Phone, home: dict[str, Any], action_id: str, value: str) -> dict[str, Any]:
    """A block_actions payload for choosing `value` in the App Home's menu `action_id`."""
    block = next(b for b in home["blocks"] if b.get("block_id") == "sg_cases_filter")
    menu = next(e for e in block["elements"] if e["action_id"] == action_id)
    option = next(o for o in menu["options"] if o["value"] == value)
    payload = pressed_on_home(phone, home, block["block_id"], {"action_id": action_id, "text": menu["placeholder"],
                                                               "value": ""})
    payload["actions"] = [{"type": "static_select", "action_id": action_id, "block_id": block["block_id"],
                           "selected_option": option, "action_ts": "1790000000.000003"}]
    return payload


async def test_the_app_home_lists_cases_by_the_readers_rights_with_filter_menus(rig: Rig) -> None:
    # St Leonard's §8: possibly illegal, so the headteacher is told; the DSL owns it.
    disclosure = await submit(rig.app, flags=frozenset({Flag.ILLEGAL}))
    rig.clock.advance(5)
    misuse = await submit(rig.app, category=Category.MISUSE, details=PARENT_POST)  # the headteacher's own
    head = rig.phone("jellis")
    home = await opened_home(rig, head)
    shown = words_of(home)
    assert "Your cases (open): 2" in shown
    assert shown.index(disclosure) < shown.index(misuse), "the oldest deadline first"
    told = shown.split(disclosure)[1].split(misuse)[0]
    assert "owner: Designated safeguarding lead (DSL) · Not yet acknowledged, due by" in told
    assert "You can view, add a note" in told and "acknowledge" not in told.lower().replace("not yet acknowledged", "")
    assert row_buttons(home, disclosure) == ["View log"], "no Acknowledge for someone only told of it"
    assert row_buttons(home, misuse) == ["Acknowledge", "View log", "Reassign"]

    # The category menu: the list again, only that category, the state kept.
    assert (await rig.interact(chose(head, home, "sg_cases_category", "misuse"))).status == 200
    filtered = (await rig.fake.wait_for("views.publish", 2, user_id=head.user))[1].args["view"]
    assert "Your cases (open, social media misuse): 1" in words_of(filtered)
    assert disclosure not in words_of(filtered) and misuse in words_of(filtered)

    # Closed: the DSL closes her case; "Closed" lists it, with Reopen for her and not for him.
    assert (await lifecycle.close(rig.app, "smorgan", disclosure, "police", "Made-up reason")).changed
    assert (await rig.interact(chose(head, filtered, "sg_cases_state", "closed"))).status == 200
    closed = (await rig.fake.wait_for("views.publish", 3, user_id=head.user))[2].args["view"]
    assert "Your cases (closed): 0" not in words_of(closed)
    assert "No cases for you (closed, social media misuse)." in words_of(closed), "both menus still apply"
    assert (await rig.interact(chose(head, closed, "sg_cases_category", "all"))).status == 200
    closed = (await rig.fake.wait_for("views.publish", 4, user_id=head.user))[3].args["view"]
    assert "Your cases (closed): 1" in words_of(closed) and row_buttons(closed, disclosure) == ["View log"]
    dsl = rig.phone("smorgan")
    dsl_home = await opened_home(rig, dsl)
    assert (await rig.interact(chose(dsl, dsl_home, "sg_cases_state", "closed"))).status == 200
    dsl_closed = (await rig.fake.wait_for("views.publish", 2, user_id=dsl.user))[1].args["view"]
    assert row_buttons(dsl_closed, disclosure) == ["View log", "Reopen"]
    assert misuse not in words_of(dsl_home), "the headteacher's own case never reached the DSL"


async def test_the_app_home_stays_within_slacks_hundred_blocks(rig: Rig) -> None:
    for _ in range(43):
        await submit(rig.app)
    home = await opened_home(rig, rig.phone("smorgan"))
    assert len(home["blocks"]) <= 100
    assert "Your cases (open): 43" in words_of(home) and "And 3 more: choose a state or category" in words_of(home)


async def reassign_modal(rig: Rig, phone: Phone, alert: dict[str, Any]) -> dict[str, Any]:
    """Tap Reassign on an alert; the modal once it is filled in."""
    before = len(rig.fake.to("views.update"))
    block, button = find_button(alert, "Reassign")
    assert (await rig.interact(phone.action_payload(alert, block, button))).status == 200
    opened = (await rig.fake.wait_for("views.open", len(rig.fake.to("views.open"))))[-1]
    assert "Loading" in str(opened.args["view"])
    return dict((await rig.fake.wait_for("views.update", before + 1))[-1].args["view"])


def submission(phone: Phone, modal: dict[str, Any], person: str | None, reason: str) -> dict[str, Any]:
    values: dict[str, Any] = {"sg_reason": {"reason": {"type": "plain_text_input", "value": reason}}}
    if person is not None:
        values["sg_reassign_person"] = {"person": {"type": "static_select", "selected_option": {
            "text": {"type": "plain_text", "text": person}, "value": person}}}
    return phone.view_submission({**modal, "id": "V0REASSIGN1", "app_id": APP_ID}, values)


async def test_the_headteacher_reassigns_his_case_from_its_alert_and_the_new_owner_is_alerted(rig: Rig) -> None:
    reference = await submit(rig.app, category=Category.MISUSE, details=PARENT_POST)
    await rig.slack.outbox.deliver()
    head, deputy, teacher = rig.phone("jellis"), rig.phone("rpatel"), rig.phone("cfinch")
    alert = head.latest()
    modal = await reassign_modal(rig, head, alert)
    assert modal["callback_id"] == "sg_reassign"
    menu = next(b for b in modal["blocks"] if b.get("block_id") == "sg_reassign_person")["element"]
    names = [o["text"]["text"] for o in menu["options"]]
    assert names == ["Sam Morgan (Designated safeguarding lead (DSL))", "Riya Patel (Deputy DSL)",
                     "Tomi Okafor (Online safety officer)"], "never the reporter, the owner or a governor"

    # Nobody chosen, or no reason: refused in the modal, nothing done.
    refused = await rig.interact(submission(head, modal, None, "  "))
    assert refused.json()["response_action"] == "errors"
    assert set(refused.json()["errors"]) == {"sg_reassign_person", "sg_reason"}

    rig.clock.advance(10)
    posted = len(deputy.posts())
    done = await rig.interact(submission(head, modal, "rpatel", "Made-up reason: she knows the family"))
    assert done.status == 200 and done.body == ""
    told = await rig.fake.wait_for("response_url", user=head.user)
    assert f"{reference} is now Riya Patel's (Deputy DSL) to acknowledge by" in told[0].words()
    assert "You stay told of it" in told[0].words()

    # The new owner is alerted through the outbox (chat.postMessage in her DM), with Acknowledge.
    new = await deputy.wait_for_said(f"Report {reference} reassigned to you as Deputy DSL to acknowledge")
    assert len(deputy.posts()) == posted + 1
    assert "Acknowledge" in words_of(deputy.message_of(new)) and "knows the family" not in new.words()
    assert new.args["text"] == f"Safeguard: a report reassigned to you to acknowledge ({reference})"
    # The headteacher's own alert now shows him as told: no Acknowledge, no Reassign.
    async def updated() -> bool:
        return "for your information" in words_of(head.message_of(head.posts()[-1]))
    await eventually(updated, "the headteacher's alert to show he is now told of it")
    buttons = [e["text"]["text"] for b in head.latest()["blocks"] for e in b.get("elements", []) if e.get("type") == "button"]
    assert buttons == ["Add note", "View log"]
    # The reporter is not told.
    assert not any("reassign" in c.words().lower() or "Riya" in c.words() for c in teacher.posts())

    async with rig.app.sessions() as session:
        report = await get_report(session, reference)
        assert report is not None and report.acknowledged_at is None and report.escalation_step == 0
        assert report.next_escalation_at == report.ack_deadline and report.ack_deadline is not None
        assert rig.app.local(report.ack_deadline).endswith("on Fri 20 Nov")
        assert [e.kind for e in await events_for(session, reference)].count("reassigned") == 1
        assert (await verify(session)).ok


async def test_reopen_from_the_app_home_puts_it_back_on_the_list_and_the_reporter_is_not_told(rig: Rig) -> None:
    reference = await submit(rig.app)
    assert (await lifecycle.close(rig.app, "smorgan", reference, "no_further_action", "Made-up reason")).changed
    await rig.slack.outbox.deliver()
    dsl = rig.phone("smorgan")
    home = await opened_home(rig, dsl)
    assert (await rig.interact(chose(dsl, home, "sg_cases_state", "closed"))).status == 200
    closed = (await rig.fake.wait_for("views.publish", 2, user_id=dsl.user))[1].args["view"]
    row = next(b for b in closed["blocks"] if b.get("block_id") == f"sg_home:{reference}")
    button = next(e for e in row["elements"] if e["text"]["text"] == "Reopen")
    assert (await rig.interact(pressed_on_home(dsl, closed, row["block_id"], button))).status == 200
    modal = (await rig.fake.wait_for("views.open"))[-1].args["view"]
    assert modal["callback_id"] == "sg_reopen"
    empty = await rig.interact(submission(dsl, modal, None, ""))
    assert empty.json()["errors"] == {"sg_reason": "Please give the reason, or press Cancel."}
    assert (await rig.interact(submission(dsl, modal, None, "Made-up reason: the child said more"))).status == 200
    said = await dsl.wait_for_said(f"{reference} is reopened: open, to be acknowledged by")
    assert "The person who reported it is not told." in said.words()
    again = (await rig.fake.wait_for("views.publish", 3, user_id=dsl.user))[2].args["view"]
    assert "Your cases (open): 1" in words_of(again) and "Acknowledge" in row_buttons(again, reference)
    await rig.slack.outbox.deliver()
    assert not any("reopen" in c.words().lower() for c in rig.phone("cfinch").posts())

    # A teacher's forged tap on Reopen, submitted, is refused and reveals nothing.
    teacher = rig.phone("cfinch")
    await lifecycle.close(rig.app, "smorgan", reference, "no_further_action", "Made-up reason")
    assert (await rig.interact(submission(teacher, modal, None, "Made-up"))).status == 200
    refusal = await teacher.wait_for_said(f"You can't reopen {reference}: it was not sent to you")
    assert "Made-up" not in refusal.words()


async def about(rig: Rig, child: NamedPupil) -> str:
    """A disclosure naming `child` (typed, as a teacher types a name not on a roster); its reference."""
    draft = ReportDraft(Category.PUPIL_DISCLOSURE, Subject.PUPIL, details={"The child's words": CHILD_WORDS},
                        pupils=(child,))
    return await submitted(rig.app, draft, reporter="cfinch", channel=SLACK)


def typed_child(phone: Phone, home: dict[str, Any], name: str) -> dict[str, Any]:
    """A block_actions payload for typing `name` in the App Home's child box and pressing enter."""
    box = next(b for b in home["blocks"] if b.get("block_id", "").startswith("sg_cases_child"))
    assert box["type"] == "input" and box["dispatch_action"] is True
    assert box["element"]["dispatch_action_config"] == {"trigger_actions_on": ["on_enter_pressed"]}
    payload = pressed_on_home(phone, home, box["block_id"], {"action_id": box["element"]["action_id"],
                                                             "text": box["label"], "value": ""})
    payload["actions"] = [{"type": "plain_text_input", "action_id": box["element"]["action_id"],
                           "block_id": box["block_id"], "value": name, "action_ts": "1790000000.000004"}]
    payload["view"]["state"] = {"values": {box["block_id"]: {box["element"]["action_id"]: {
        "type": "plain_text_input", "value": name}}}}
    return payload


async def test_typing_a_childs_name_on_the_app_home_lists_only_her_cases(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    leo = await about(rig, NamedPupil(PupilRole.CHILD, "Leo Marsh", "Year 3"))
    rig.clock.advance(5)
    ava = await about(rig, NamedPupil(PupilRole.CHILD, "Ava Stone", "Year 5"))
    rig.clock.advance(5)
    told = await about(rig, NamedPupil(PupilRole.TOLD_BY, "Ava Stone", "Year 5"))  # she told of another child
    dsl = rig.phone("smorgan")
    home = await opened_home(rig, dsl)
    assert "Your cases (open): 3" in words_of(home)
    assert "initial_value" not in next(b for b in home["blocks"] if b.get("block_id", "").startswith("sg_cases_child"))["element"]

    assert (await rig.interact(typed_child(dsl, home, "Ava"))).status == 200
    hers = (await rig.fake.wait_for("views.publish", 2, user_id=dsl.user))[1].args["view"]
    shown = words_of(hers)
    assert 'Your cases (open, child "ava"): 2' in shown
    assert ava in shown and told in shown and leo not in shown
    box = next(b for b in hers["blocks"] if b.get("block_id", "").startswith("sg_cases_child"))
    assert box["element"]["initial_value"] == "ava", "the box still says what she typed"
    unfiltered_box = next(b for b in home["blocks"] if b.get("block_id", "").startswith("sg_cases_child"))
    # Slack keeps typed text in a box whose block_id is unchanged: a new child, a new block_id.
    assert box["block_id"] != unfiltered_box["block_id"]
    assert len(hers["blocks"]) <= 100

    # A menu chosen afterwards keeps the child.
    assert (await rig.interact(chose(dsl, hers, "sg_cases_state", "all"))).status == 200
    anyway = (await rig.fake.wait_for("views.publish", 3, user_id=dsl.user))[2].args["view"]
    assert 'Your cases (child "ava"): 2' in words_of(anyway) and leo not in words_of(anyway)

    assert (await rig.interact(typed_child(dsl, anyway, "nobody"))).status == 200
    nobody = (await rig.fake.wait_for("views.publish", 4, user_id=dsl.user))[3].args["view"]
    assert 'No cases for you (child "nobody").' in words_of(nobody)

    # The box emptied, then a menu chosen: every child again.
    emptied = chose(dsl, nobody, "sg_cases_state", "open")
    nobody_box = next(b for b in nobody["blocks"] if b.get("block_id", "").startswith("sg_cases_child"))
    emptied["view"]["state"] = {"values": {nobody_box["block_id"]: {"sg_cases_child": {"type": "plain_text_input",
                                                                                       "value": None}}}}
    assert (await rig.interact(emptied)).status == 200
    again = (await rig.fake.wait_for("views.publish", 5, user_id=dsl.user))[4].args["view"]
    assert "Your cases (open): 3" in words_of(again)
    again_box = next(b for b in again["blocks"] if b.get("block_id", "").startswith("sg_cases_child"))
    assert again_box["block_id"] == unfiltered_box["block_id"] and "initial_value" not in again_box["element"]

    # The headteacher was sent none of these: her filter finds nothing, and says no more.
    head = rig.phone("jellis")
    head_home = await opened_home(rig, head)
    assert (await rig.interact(typed_child(head, head_home, "ava"))).status == 200
    none = (await rig.fake.wait_for("views.publish", 2, user_id=head.user))[1].args["view"]
    assert 'No cases for you (open, child "ava").' in words_of(none) and ava not in words_of(none)
    await rig.slack.idle()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for name in ("Ava", "ava", "Stone", "Leo", "nobody"):
        assert name not in logged, name


async def test_the_app_home_date_menu_keeps_the_reports_made_then(rig: Rig) -> None:
    older = await submit(rig.app)  # Friday 20 Nov
    rig.clock.advance(3 * 24 * 60)
    newer = await submit(rig.app)  # Monday 23 Nov
    dsl = rig.phone("smorgan")
    home = await opened_home(rig, dsl)
    assert older in words_of(home) and newer in words_of(home)
    assert (await rig.interact(chose(dsl, home, "sg_cases_date", "today"))).status == 200
    today = (await rig.fake.wait_for("views.publish", 2, user_id=dsl.user))[1].args["view"]
    assert "Your cases (open, since 23 Nov 2026): 1" in words_of(today)
    assert newer in words_of(today) and older not in words_of(today)
    menus = next(b for b in today["blocks"] if b.get("block_id") == "sg_cases_filter")["elements"]
    dates = next(m for m in menus if m["action_id"] == "sg_cases_date")
    assert dates["initial_option"]["value"] == "today", "the menu shows the dates chosen"
    # Another menu keeps the dates; "Any time" lets them go.
    assert (await rig.interact(chose(dsl, today, "sg_cases_state", "all"))).status == 200
    still = (await rig.fake.wait_for("views.publish", 3, user_id=dsl.user))[2].args["view"]
    assert "Your cases (since 23 Nov 2026): 1" in words_of(still)
    assert (await rig.interact(chose(dsl, still, "sg_cases_date", "all"))).status == 200
    every = (await rig.fake.wait_for("views.publish", 4, user_id=dsl.user))[3].args["view"]
    assert "Your cases: 2" in words_of(every)
