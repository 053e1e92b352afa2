"""In Slack: asking for a blocked site with /unblock, and passing it on, deciding it and recording it by button.

Every command, tap and modal comes to our server signed as Slack signs it; FakeSlack records
what went to whose DM and how each message reads after it was redrawn.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from storage.log import events_for, verify
from tests.request_forms import CONTENT, DECIDED, REASONS, RISKS, SOCIAL_MEDIA_STEPS, URL, school_under
from tests.e2e.slack_rig import NOT_IN_DIRECTORY, SLACK_IDS, Phone, Rig, eventually, find_button


@pytest.fixture
def school_file(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """The example school under the preset a test names (St Leonard's unless it says), everyone with a Slack id."""
    return school_under(getattr(request, "param", "st-leonards"), tmp_path / "school.yaml", "slack", SLACK_IDS)


def buttons(message: dict[str, Any]) -> list[str]:
    """The labels of a message's buttons."""
    return [e["text"]["text"] for b in message.get("blocks", []) for e in b.get("elements", []) if e.get("type") == "button"]


async def ask(rig: Rig, teacher: Phone) -> str:
    """/unblock in a channel, the form answered in the DM, then Send; the reference it was sent as."""
    answer = await rig.command(teacher.user, name="/unblock")
    assert answer.status == 200 and "Your request is open in your direct messages" in answer.body
    first = await teacher.wait_for_post(1)
    assert "Blocked content access request: 4 questions" in first.words() and "1/4. Full URL?" in first.words()
    assert first.args["text"] == "Safeguard: a question about your request"
    bad = await teacher.type("javascript:alert(1)")
    assert "That is not a web address" in bad.words()
    for typed in (URL, CONTENT, REASONS):
        await teacher.type(typed)
    summary = await teacher.type(RISKS)
    assert "please check it" in summary.words() and URL in summary.words()
    assert summary.args["text"] == "Safeguard: please check your request before it is sent", "no answer shown"
    sent = await teacher.tap("Send")
    said = sent.words()
    assert said.startswith("Sent as AR-"), said
    return said.split()[2].rstrip(".")


async def redrawn(phone: Phone, words: str) -> dict[str, Any]:
    """The notice that says `words`, once redrawn without buttons (waited for: the server redraws it after answering)."""
    call = await phone.wait_for_said(words)

    async def settled() -> bool:
        return buttons(phone.message_of(call)) == []

    await eventually(settled, f"the buttons to go from {phone.person_id}'s notice")
    return phone.message_of(call)


async def press(rig: Rig, phone: Phone, message: dict[str, Any], label: str, *, count: int = 1) -> str:
    """Press `label` on `message` as `phone`'s owner; what they were told where they pressed it (their `count`th answer)."""
    block, button = find_button(message, label)
    assert (await rig.interact(phone.action_payload(message, block, button, channel=phone.dm))).status == 200
    return (await rig.fake.wait_for("response_url", count, user=phone.user))[count - 1].words()


async def decide(rig: Rig, phone: Phone, message: dict[str, Any], label: str, reasons: str, *, count: int = 1) -> str:
    """Press Approve or Refuse, give `reasons` in the modal, submit; what the presser was told."""
    before = len(rig.fake.to("views.open"))
    block, button = find_button(message, label)
    assert (await rig.interact(phone.action_payload(message, block, button, channel=phone.dm))).status == 200
    opened = (await rig.fake.wait_for("views.open", before + 1))[before]
    modal = {**opened.args["view"], "id": opened.result["view"]["id"]}
    field = next(b for b in modal["blocks"] if b["type"] == "input")
    empty = await rig.interact(phone.view_submission(modal, {field["block_id"]: {field["element"]["action_id"]: {
        "type": "plain_text_input", "value": "  "}}}))
    assert empty.json()["response_action"] == "errors", "reasons are required"
    answer = await rig.interact(phone.view_submission(modal, {field["block_id"]: {field["element"]["action_id"]: {
        "type": "plain_text_input", "value": reasons}}}))
    assert answer.status == 200 and answer.body == ""
    return (await rig.fake.wait_for("response_url", count, user=phone.user))[count - 1].words()


async def notice(phone: Phone, reference: str, words: str) -> tuple[dict[str, Any], str]:
    """The notice of `reference` that says `words` in this DM, as it reads now (a copy, kept as it is), and its
    locked-phone text."""
    call = await phone.wait_for_said(words)
    assert reference in call.text()
    return copy.deepcopy(phone.message_of(call)), str(call.args["text"])


@pytest.mark.parametrize("school_file", ["st-leonards", "bpet", "perryfields"], indirect=True)
async def test_asked_in_slack_passed_on_approved_with_reasons_and_recorded_by_button(rig: Rig) -> None:
    teacher, officer, head, dsl = rig.phone("cfinch"), rig.phone("tokafor"), rig.phone("jellis"), rig.phone("smorgan")
    ref = await ask(rig, teacher)

    to_review, shown = await notice(officer, ref, "Review it: press Pass on")
    assert shown == f"{ref}: a blocked content access request for you to review", "the reference and what is asked only"
    assert URL not in shown and "Finch" not in shown
    assert buttons(to_review) == ["Pass on", "Refuse"] and URL in officer.said() and "Chris Finch" in officer.said()

    # Someone else pressing the officer's button (the DSL, or someone Safeguard does not know) changes nothing.
    assert "You cannot pass on" in await press(rig, dsl, to_review, "Pass on")
    stranger = Phone(rig, "visitor", NOT_IN_DIRECTORY)
    assert "doesn't know your Slack account" in await press(rig, stranger, to_review, "Pass on")

    passed = await press(rig, officer, to_review, "Pass on")
    assert passed.startswith(f"Passed on: {ref} is with the Headteacher (Jordan Ellis)")
    now = await redrawn(officer, "Review it: press Pass on")
    assert "Now: waiting for the Headteacher (step 2 of 2)" in str(now["blocks"])
    # The same press again (the old message, a double tap) acts once: refused, and the request stays with the head.
    assert f"Nothing changed for {ref}. Now: waiting for the Headteacher" in await press(
        rig, officer, to_review, "Pass on", count=2)

    to_decide, shown = await notice(head, ref, "Decide it: press Approve or Refuse")
    assert shown == f"{ref}: a blocked content access request for you to decide"
    assert buttons(to_decide) == ["Approve", "Refuse"]
    approved = await decide(rig, head, to_decide, "Approve", DECIDED)
    assert approved == f"Approved: {ref}. The requester is told, with your reasons."
    await redrawn(head, "Decide it")
    again = await decide(rig, head, to_decide, "Approve", "Again (made-up).", count=2)
    assert again.endswith(f"Nothing changed for {ref}. Now: approved; not yet carried out.")

    outcome = await teacher.wait_for_said("was approved by the Headteacher")
    assert DECIDED in outcome.words() and outcome.args["text"] == f"{ref}: your request was approved"
    carry, shown = await notice(officer, ref, "press Record done")
    assert buttons(carry) == ["Record done"] and shown == f"{ref}: approved, to carry out and record"
    done = await press(rig, officer, carry, "Record done", count=3)
    assert done.startswith(f"Recorded: for {ref},")
    await redrawn(officer, "press Record done")

    async with rig.app.sessions() as session:
        events = await events_for(session, ref)
        kinds = [(e.kind, e.actor) for e in events]
        assert [k for k in kinds if k[0].startswith("request_")] == [
            ("request_made", "cfinch"), ("request_passed_on", "tokafor"), ("request_approved", "jellis"),
            ("request_done", "tokafor")]
        # Only the DSL's press is a refusal; the officer's and the head's second presses are not.
        assert [(e.actor, e.data["action"]) for e in events if e.kind == "refused"] == [("smorgan", "pass")]
        assert all(URL not in str(e.data) and "made-up" not in str(e.data) for e in events)
        assert (await verify(session)).ok


async def test_refused_by_the_officer_the_requester_hears_why_and_the_home_tab_lists_what_waits(rig: Rig) -> None:
    teacher, officer = rig.phone("cfinch"), rig.phone("tokafor")
    ref = await ask(rig, teacher)

    answer = await rig.event({"type": "app_home_opened", "user": officer.user, "channel": officer.dm, "tab": "home",
                              "event_ts": "1.0"})
    assert answer.status == 200
    home = (await rig.fake.wait_for("views.publish", 1))[0]
    assert "Requests waiting for you" in home.words() and ref in home.words() and URL not in home.words()

    to_review, _ = await notice(officer, ref, "Review it")
    refused = await decide(rig, officer, to_review, "Refuse", "The site hosts gambling adverts (made-up).")
    assert refused == f"Refused: {ref}. The requester is told, with your reasons."
    heard = await teacher.wait_for_said("was refused by the Online safety officer")
    assert "Reasons: The site hosts gambling adverts (made-up)." in heard.words()
    assert heard.args["text"] == f"{ref}: your request was refused"
    await redrawn(officer, "Review it")
    assert rig.fake.to("chat.postMessage", channel=rig.phone("jellis").dm) == [], "a refused request goes no further"


async def test_a_typed_report_waits_for_the_request_form_and_an_old_button_is_stale(rig: Rig) -> None:
    teacher = rig.phone("cfinch")
    assert (await rig.command(teacher.user, name="/unblock", channel_id=teacher.dm)).body in ("", "null")
    first = copy.deepcopy(teacher.message_of(await teacher.wait_for_post(1)))
    second = copy.deepcopy(teacher.message_of(await teacher.type(URL)))
    stale = await teacher.tap("Cancel", first)
    assert "earlier question of your request" in stale.words()
    cancelled = await teacher.tap("Cancel", second)
    assert "Cancelled: nothing was sent." in cancelled.words()
    assert "Cancelled" not in (await teacher.type("hello")).words(), "with no form under way, a message starts a report"


@pytest.mark.parametrize("school_file", ["mersham", "principal-slt"], indirect=True)
async def test_a_school_without_the_procedure_answers_in_one_line(rig: Rig) -> None:
    teacher = rig.phone("cfinch")
    answer = await rig.command(teacher.user, name="/unblock")
    assert answer.status == 200, answer
    assert answer.body.startswith("Blocked content access requests are not part of ")
    assert "\n" not in answer.body
    assert rig.fake.to("chat.postMessage", channel=teacher.dm) == [], "nothing else is said"


async def test_unblock_over_socket_mode_opens_the_form_in_the_dm(socket_rig: Rig) -> None:
    teacher = socket_rig.phone("cfinch")
    answer = await socket_rig.command(teacher.user, name="/unblock")
    assert "Your request is open in your direct messages" in answer.body
    first = await teacher.wait_for_post(1)
    assert "1/4. Full URL?" in first.words()



@pytest.mark.parametrize("school_file", list(SOCIAL_MEDIA_STEPS), indirect=True)
async def test_a_social_media_site_in_slack_ticked_by_button_and_approved_step_by_step(
    rig: Rig, school_file: Path
) -> None:
    """Each preset's steps in Slack: the tick-boxes as buttons; at St Leonard's and BPET a first approver approves their
    part and passes it on, then the headteacher gives final approval; at principal-slt the principal decides."""
    first_step, (head_id, head_role) = SOCIAL_MEDIA_STEPS[yaml.safe_load(school_file.read_text())["policy"]]
    teacher, head = rig.phone("cfinch"), rig.phone(head_id)
    answer = await rig.command(teacher.user, name="/socialmedia")
    assert answer.status == 200 and "Your request is open in your direct messages" in answer.body
    assert "1/13. Department?" in (await teacher.wait_for_post(1)).words()
    for typed in ("Geography (made-up)", "Ms Byrne (made-up)", "Class news (made-up)", "Share river photos (made-up)",
                  "Photos (made-up)"):
        await teacher.type(typed)
    ticked = await teacher.tap("[ ] Members of the public")
    assert "[x] Members of the public" in str(teacher.message_of(ticked)["blocks"])
    await teacher.tap("Done")
    await teacher.type("School staff, 3")  # a typed list of ticks works in Slack too, and moves on
    for typed in ("Ava Byrne, Sam Lee", "Ms Byrne, class teacher (made-up)", "The school's own account", "11/01/2027",
                  "Class newsletter (made-up)"):
        await teacher.type(typed)
    summary = await teacher.type("Private account (made-up)")
    assert "Names of the site's administrators: Ava Byrne; Sam Lee" in summary.words()
    sent = (await teacher.tap("Send")).words()
    first_role = first_step[1] if first_step else head_role
    assert sent.startswith(f"Sent as SM-2026-0001. It is with the {first_role}"), sent

    if first_step is not None:
        who, role, part = first_step
        to_endorse, shown = await notice(rig.phone(who), "SM-2026-0001", f"Do you approve {part}?")
        assert "SM-2026-0001" in shown and "Ava" not in shown and "made-up" not in shown, "the reference and what is asked"
        assert buttons(to_endorse) == ["Approve", "Refuse"]
        said = await decide(rig, rig.phone(who), to_endorse, "Approve", "Clear aims (made-up).")
        assert said.startswith(f"Approved {part}: SM-2026-0001 is now with the {head_role}"), said
        await teacher.wait_for_said(f"the {role} approved {part}; now with the {head_role}")

    to_decide, _ = await notice(head, "SM-2026-0001", "Decide it: press Approve or Refuse")
    assert (await decide(rig, head, to_decide, "Approve", "Good plan (made-up).")).startswith("Approved: SM-2026-0001")
    outcome = await teacher.wait_for_said(f"was approved by the {head_role}")
    assert outcome.args["text"] == "SM-2026-0001: your request was approved"
    async with rig.app.sessions() as session:
        assert [e.kind for e in await events_for(session, "SM-2026-0001") if e.kind.startswith("request_")] == [
            "request_made", *(["request_passed_on"] if first_step else []), "request_approved"]
        assert (await verify(session)).ok
