"""In Teams: asking for a blocked site from the welcome card, and passing it on, deciding it and recording it by button.

Taps come to our server as Teams sends them; the fake Bot Connector records what went into
whose chat, and each card as it was replaced.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from storage.log import events_for, verify
from tests.request_forms import CONTENT, DECIDED, REASONS, RISKS, SOCIAL_MEDIA_STEPS, URL, school_under
from tests.teams.fake_connector import Sent
from tests.teams.rig import CONFIG_TEAMS_IDS, Rig, User


@pytest.fixture
def school_file(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """The example school under the preset a test names (St Leonard's unless it says), everyone with a Teams id."""
    return school_under(getattr(request, "param", "st-leonards"), tmp_path / "school.yaml", "teams", CONFIG_TEAMS_IDS)


def titles(card: Sent) -> list[str]:
    return [str(a.get("title")) for a in card.actions()]


def reasons_button(card: Sent, label: str) -> dict[str, Any]:
    """The Approve or Refuse inside the box that `label` opens (the reasons are typed into the card)."""
    opened = card.action(label)
    assert opened["type"] == "Action.ShowCard", opened
    assert opened["card"]["body"][0]["isRequired"] is True, "reasons are required"
    send: dict[str, Any] = opened["card"]["actions"][0]
    assert send["title"] == label
    return send


async def notice(rig: Rig, user: User, words: str) -> Sent:
    """The card in `user`'s chat that says `words` (sent by the outbox after the turn that caused it)."""
    await rig.teams.outbox.deliver()
    return await rig.fake.wait_in(user.conversation["id"], words, kind="send")


async def redrawn(rig: Rig, user: User, card: Sent) -> Sent:
    """The card once replaced: its newest update."""
    await rig.teams.idle()
    return await rig.fake.wait_for(lambda s: s.kind == "update" and s.activity_id == card.id
                                   and s.conversation_id == user.conversation["id"] and not s.actions())


async def ask(rig: Rig, teacher: User) -> str:
    """From the welcome card's button, the form answered in the chat, then Send; the reference it was sent as."""
    [welcome] = await teacher.installs()
    first = await teacher.taps(welcome.action("Ask to unblock a site"))
    assert "Blocked content access request: 4 questions" in first.text() and "1/4. Full URL?" in first.text()
    assert first.activity["summary"] == "Safeguard: a question about your request"
    bad = await teacher.says("javascript:alert(1)")
    assert "That is not a web address" in bad.text()
    second = await teacher.taps(bad.action("Next"), answer=URL)
    assert "2/4." in second.text()
    for typed in (CONTENT, REASONS):
        await teacher.says(typed)
    summary = await teacher.says(RISKS)
    assert "please check it" in summary.text() and URL in summary.text()
    assert summary.activity["summary"] == "Safeguard: please check your request before it is sent", "no answer shown"
    sent = await teacher.taps(summary.action("Send"))
    said = sent.text().split("\n")[-1]
    assert said.startswith("Sent as AR-"), sent.text()
    return said.split()[2].rstrip(".")


@pytest.mark.parametrize("school_file", ["st-leonards", "bpet", "perryfields"], indirect=True)
async def test_asked_in_teams_passed_on_approved_with_reasons_and_recorded_by_button(rig: Rig) -> None:
    teacher, officer, head, dsl = rig.user("cfinch"), rig.user("tokafor"), rig.user("jellis"), rig.user("smorgan")
    for user in (officer, head, dsl):
        await user.installs()
    ref = await ask(rig, teacher)

    to_review = await notice(rig, officer, "Review it: press Pass on")
    assert to_review.activity["summary"] == f"{ref}: a blocked content access request for you to review"
    assert URL in to_review.text() and "Chris Finch" in to_review.text()
    assert titles(to_review)[:2] == ["Pass on", "Refuse"]

    # Someone else pressing the officer's button (the DSL, or someone Safeguard does not know) changes nothing.
    assert (await dsl.taps(to_review.action("Pass on"), to_review.id)).text() == f"You cannot pass on {ref}."
    stranger = rig.user("visitor", known=False)
    assert "doesn't know your Teams account" in (await stranger.taps(to_review.action("Pass on"), to_review.id)).text()

    passed = await officer.taps(to_review.action("Pass on"), to_review.id)
    assert passed.text().startswith(f"Passed on: {ref} is with the Headteacher (Jordan Ellis)")
    now = await redrawn(rig, officer, to_review)
    assert "Now: waiting for the Headteacher (step 2 of 2)" in now.text()
    # The old card pressed again (a double tap) acts once.
    assert ((await officer.taps(to_review.action("Pass on"), to_review.id)).text()
            == f"Nothing changed for {ref}. Now: waiting for the Headteacher (step 2 of 2).")

    to_decide = await notice(rig, head, "Decide it: press Approve or Refuse")
    assert to_decide.activity["summary"] == f"{ref}: a blocked content access request for you to decide"
    approve = reasons_button(to_decide, "Approve")
    approved = await head.taps(approve, to_decide.id, approve_reasons=DECIDED)
    assert approved.text() == f"Approved: {ref}. The requester is told, with your reasons."
    await redrawn(rig, head, to_decide)
    again = await head.taps(approve, to_decide.id, approve_reasons="Again (made-up).")
    assert again.text() == f"Nothing changed for {ref}. Now: approved; not yet carried out."

    outcome = await notice(rig, teacher, "was approved by the Headteacher")
    assert DECIDED in outcome.text() and outcome.activity["summary"] == f"{ref}: your request was approved"
    carry = await notice(rig, officer, "press Record done")
    assert titles(carry) == ["Record done"] and carry.activity["summary"] == f"{ref}: approved, to carry out and record"
    done = await officer.taps(carry.action("Record done"), carry.id)
    assert done.text().startswith(f"Recorded: for {ref},")
    await redrawn(rig, officer, carry)

    async with rig.app.sessions() as session:
        events = await events_for(session, ref)
        assert [(e.kind, e.actor) for e in events if e.kind.startswith("request_")] == [
            ("request_made", "cfinch"), ("request_passed_on", "tokafor"), ("request_approved", "jellis"),
            ("request_done", "tokafor")]
        # Only the DSL's press is a refusal; the officer's and the head's second presses are not.
        assert [(e.actor, e.data["action"]) for e in events if e.kind == "refused"] == [("smorgan", "pass")]
        assert all(URL not in str(e.data) and "made-up" not in str(e.data) for e in events)
        assert (await verify(session)).ok


async def test_refused_in_teams_the_requester_hears_why(rig: Rig) -> None:
    teacher, officer = rig.user("cfinch"), rig.user("tokafor")
    [welcome] = await officer.installs()
    ref = await ask(rig, teacher)
    to_review = await notice(rig, officer, "Review it")
    # "My cases" lists the requests waiting on them above their cases (no URL, no name: their card has those).
    listed = await officer.taps(welcome.action("My cases"))
    assert f"Requests waiting for you\n{ref}  waiting for the Online safety officer (step 1 of 2)" in listed.text()
    assert URL not in listed.text() and "Finch" not in listed.text()
    refuse = reasons_button(to_review, "Refuse")
    refused = await officer.taps(refuse, to_review.id, refuse_reasons="The site hosts gambling adverts (made-up).")
    assert refused.text() == f"Refused: {ref}. The requester is told, with your reasons."
    heard = await notice(rig, teacher, "was refused by the Online safety officer")
    assert "Reasons: The site hosts gambling adverts (made-up)." in heard.text()
    assert heard.activity["summary"] == f"{ref}: your request was refused"
    await redrawn(rig, officer, to_review)
    assert "Requests waiting for you" not in (await officer.taps(welcome.action("My cases"))).text()


@pytest.mark.parametrize("school_file", ["mersham"], indirect=True)
async def test_a_school_without_the_procedure_offers_no_button_and_answers_in_one_line(rig: Rig) -> None:
    teacher = rig.user("cfinch")
    [welcome] = await teacher.installs()
    assert titles(welcome) == ["Report a concern"]
    answer = await teacher.says("/unblock")
    assert answer.text().startswith("Blocked content access requests are not part of ") and "\n" not in answer.text()


async def test_a_request_button_of_the_wrong_shape_is_answered_not_a_failed_turn(
        rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    teacher = rig.user("cfinch")
    [welcome] = await teacher.installs()
    await teacher.taps(welcome.action("Ask to unblock a site"))
    # Lists where a field, an action or a command belongs (unhashable: looked up in a set, the turn would fail).
    for data in ({"safeguard": "answer", "field": ["url"], "choice": "cancel"},
                 {"safeguard": "report", "action": ["request_pass"], "reference": "AR-2026-0001"},
                 {"safeguard": "request", "command": ["/unblock"]}):
        await teacher.answers({"type": "Action.Submit", "data": data})
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert "Cancelled: nothing was sent." in (await teacher.says("cancel")).text(), "the form was left as it was"



@pytest.mark.parametrize("school_file", list(SOCIAL_MEDIA_STEPS), indirect=True)
async def test_a_social_media_site_in_teams_from_the_welcome_card_approved_step_by_step(
    rig: Rig, school_file: Path
) -> None:
    """Each preset's steps in Teams, from the welcome card's button, a tick-box tapped, each approver by card."""
    first_step, (head_id, head_role) = SOCIAL_MEDIA_STEPS[yaml.safe_load(school_file.read_text())["policy"]]
    teacher, head = rig.user("cfinch"), rig.user(head_id)
    approvers = [head] + ([rig.user(first_step[0])] if first_step else [])
    for user in approvers:
        await user.installs()
    [welcome] = await teacher.installs()
    first = await teacher.taps(welcome.action("Ask to set up a social media site"))
    assert "1/13. Department?" in first.text()
    for typed in ("Geography (made-up)", "Ms Byrne (made-up)", "Class news (made-up)", "Share river photos (made-up)"):
        await teacher.says(typed)
    audience = await teacher.says("Photos (made-up)")
    ticked = await teacher.taps(audience.action("[ ] Members of the public"))
    assert "[x] Members of the public" in str(ticked.actions())
    await teacher.taps(ticked.action("Done"))
    await teacher.says("School staff, 3")
    for typed in ("Ava Byrne, Sam Lee", "Ms Byrne, class teacher (made-up)", "The school's own account", "11/01/2027",
                  "Class newsletter (made-up)"):
        await teacher.says(typed)
    summary = await teacher.says("Private account (made-up)")
    assert "Names of the site's administrators: Ava Byrne; Sam Lee" in summary.text()
    sent = (await teacher.taps(summary.action("Send"))).text().split("\n")[-1]
    assert sent.startswith(f"Sent as SM-2026-0001. It is with the {first_step[1] if first_step else head_role}"), sent

    if first_step is not None:
        who, role, part = first_step
        to_endorse = await notice(rig, rig.user(who), f"Do you approve {part}?")
        assert "Ava" not in to_endorse.activity["summary"] and "SM-2026-0001" in to_endorse.activity["summary"]
        approve = reasons_button(to_endorse, "Approve")
        endorsed = await rig.user(who).taps(approve, to_endorse.id, approve_reasons="Clear aims (made-up).")
        assert endorsed.text().startswith(f"Approved {part}: SM-2026-0001 is now with the {head_role}")
        await notice(rig, teacher, f"the {role} approved {part}; now with the {head_role}")

    to_decide = await notice(rig, head, "Decide it: press Approve or Refuse")
    final = reasons_button(to_decide, "Approve")
    assert (await head.taps(final, to_decide.id, approve_reasons="Good plan (made-up).")).text().startswith(
        "Approved: SM-2026-0001")
    await notice(rig, teacher, f"was approved by the {head_role}")
    async with rig.app.sessions() as session:
        assert [e.kind for e in await events_for(session, "SM-2026-0001") if e.kind.startswith("request_")] == [
            "request_made", *(["request_passed_on"] if first_step else []), "request_approved"]
        assert (await verify(session)).ok
