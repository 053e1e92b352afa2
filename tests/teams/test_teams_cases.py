"""In Teams: "My cases" lists a person's cases with a filter, and Reassign and Reopen work from the cards.

Activities go to our server's /api/messages as Teams sends them; what the bot sends comes back
through the fake Bot Connector, which records it.
"""

from __future__ import annotations

from typing import Any

from bot.app import TEAMS
from bot.cases import lifecycle
from dialogs import ReportDraft
from dialogs.report import NamedPupil, PupilRole
from routing.vocabulary import Category, Flag, Subject
from storage.log import verify
from storage.reports import get_report
from tests.builders import submitted
from tests.teams.fake_connector import Sent
from tests.teams.rig import Rig, User

DISCLOSURE = ReportDraft(Category.PUPIL_DISCLOSURE, Subject.PUPIL, flags=frozenset({Flag.ILLEGAL}),
                         details={"The child's words": "A made-up account"})
MISUSE = ReportDraft(Category.MISUSE, Subject.PARENT, details={"What happened": "A made-up post by a parent"})


async def answer(user: User, action: dict[str, Any], words: str, **inputs: Any) -> Sent:
    """Press an Action.Submit; the bot's answer that shows `words` (news from the outbox may come in the same turn)."""
    found = [sent for sent in await user.answers(action, **inputs) if words in sent.text()]
    assert len(found) == 1, found
    return found[0]


async def test_my_cases_lists_what_each_reader_may_do_and_filters_by_state_and_category(rig: Rig) -> None:
    head = rig.user("jellis")
    [welcome] = await head.installs()
    disclosure = await submitted(rig.app, DISCLOSURE, reporter="cfinch", channel=TEAMS)  # the DSL's; he is told
    rig.clock.advance(minutes=5)
    misuse = await submitted(rig.app, MISUSE, reporter="cfinch", channel=TEAMS)  # his own
    listed = await answer(head, welcome.action("My cases"), "Your cases")
    text = listed.text()
    assert "Your cases (open): 2" in text and text.index(disclosure) < text.index(misuse)
    told = text.split(disclosure)[1].split(misuse)[0]
    assert "Not yet acknowledged, due by" in told and "You can view, add a note" in told
    titles = [a["title"] for a in listed.actions()]
    assert titles == ["Show", "View log", "Acknowledge", "View log", "Reassign"], "no Acknowledge where only told"

    # The filter's menus: closed reports of any category.
    assert (await lifecycle.close(rig.app, "smorgan", disclosure, "police", "Made-up reason")).changed
    closed = await answer(head, listed.action("Show"), "Your cases", cases_state="closed", cases_category="all")
    assert "Your cases (closed): 1" in closed.text() and misuse not in closed.text()
    assert next(i for i in closed.inputs() if i["id"] == "cases_state")["value"] == "closed"
    bullying = await answer(head, listed.action("Show"), "cases for you", cases_state="all",
                            cases_category="cyberbullying")
    assert "No cases for you (cyberbullying)." in bullying.text()
    # A card sent before "My cases" still lists the open ones.
    old = await answer(head, {"type": "Action.Submit", "data": {"safeguard": "open_reports"}}, "Your cases")
    assert "Your cases (open): 1" in old.text()


async def test_reassign_from_the_alert_card_alerts_the_new_owner_in_teams(rig: Rig) -> None:
    head, dsl, teacher = rig.user("jellis"), rig.user("smorgan"), rig.user("cfinch")
    for user in (head, dsl, teacher):
        await user.installs()
    reference = await submitted(rig.app, MISUSE, reporter="cfinch", channel=TEAMS)
    await rig.teams.outbox.deliver()
    alert = await rig.fake.wait_in(head.conversation["id"], f"New report {reference} for you to acknowledge")
    assert [a["title"] for a in alert.actions()] == ["Acknowledge", "Add note", "Save", "Ask the reporter", "Send",
                                                    "View log", "Reassign"]

    card = await head.taps(alert.action("Reassign"))
    choices = next(i for i in card.inputs() if i["id"] == "reassign_person")["choices"]
    assert [c["value"] for c in choices] == ["smorgan", "rpatel", "tokafor"]
    # Bad input: nobody, somebody not eligible, no reason.
    nobody = await head.taps(card.action("Reassign"), reassign_person="", reassign_reason="Made-up reason")
    assert nobody.text().startswith(f"{reference} was not reassigned: say who should own it")
    governor = await head.taps(card.action("Reassign"), reassign_person="hbrooks", reassign_reason="Made-up")
    assert "Helen Brooks is a governor" in governor.text()
    reporter = await head.taps(card.action("Reassign"), reassign_person="cfinch", reassign_reason="Made-up")
    assert "Chris Finch reported it" in reporter.text()
    reasonless = await head.taps(card.action("Reassign"), reassign_person="smorgan", reassign_reason=" ")
    assert reasonless.text().startswith(f"{reference} was not reassigned: give the reason")

    rig.clock.advance(minutes=10)
    done = await head.taps(card.action("Reassign"), reassign_person="smorgan",
                           reassign_reason="Made-up reason: it is a safeguarding matter after all")
    assert done.text().startswith(f"{reference} is now Sam Morgan's (Designated safeguarding lead (DSL)) to "
                                  "acknowledge by")
    new = await rig.fake.wait_in(dsl.conversation["id"], f"Report {reference} reassigned to you as Designated "
                                                         "safeguarding lead (DSL) to acknowledge")
    assert "Acknowledge" in [a["title"] for a in new.actions()] and "safeguarding matter" not in new.text()
    assert new.activity.get("summary") == f"Safeguard: a report reassigned to you to acknowledge ({reference})"
    # His alert is updated in place: he is told of it now.
    updated = await rig.fake.wait_for(lambda s: s.kind == "update" and s.conversation_id == head.conversation["id"]
                                      and "for your information" in s.text())
    assert [a["title"] for a in updated.actions()] == ["Add note", "Save", "View log"]
    assert not any("reassign" in s.text().lower() for s in rig.fake.to(teacher.conversation["id"]))
    async with rig.app.sessions() as session:
        report = await get_report(session, reference)
        assert report is not None and report.acknowledged_at is None and report.escalation_step == 0
        assert (await verify(session)).ok


async def test_the_dsl_reopens_a_closed_case_from_her_list_and_a_teacher_cannot(rig: Rig) -> None:
    dsl, teacher = rig.user("smorgan"), rig.user("cfinch")
    [welcome] = await dsl.installs()
    await teacher.installs()
    reference = await submitted(rig.app, DISCLOSURE, reporter="cfinch", channel=TEAMS)
    assert (await lifecycle.close(rig.app, "smorgan", reference, "no_further_action", "Made-up reason")).changed
    listed = await answer(dsl, welcome.action("My cases"), "cases for you")
    closed = await answer(dsl, listed.action("Show"), "Your cases", cases_state="closed", cases_category="all")
    save = next(a for a in closed.actions() if a["title"] == "Save")
    assert [a["title"] for a in closed.actions()][-2:] == ["Reopen", "Save"]
    refused = await answer(teacher, save, "You can't", reopen_reason="Made-up")
    assert refused.text().startswith(f"You can't reopen {reference}: it was not sent to you")
    empty = await answer(dsl, save, "still closed", reopen_reason="")
    assert empty.text().startswith(f"{reference} is still closed: give the reason for reopening it.")
    done = await answer(dsl, save, "reopened", reopen_reason="Made-up reason: the child said more")
    assert done.text().startswith(f"{reference} is reopened: open, to be acknowledged by")
    async with rig.app.sessions() as session:
        report = await get_report(session, reference)
        assert report is not None and report.status == "open" and report.closed_at is None


def disclosure_about(child: NamedPupil) -> ReportDraft:
    """A disclosure naming `child`, typed as a teacher types a name that is not on a roster."""
    return ReportDraft(Category.PUPIL_DISCLOSURE, Subject.PUPIL, details={"The child's words": "A made-up account"},
                       pupils=(child,))


async def test_my_cases_filters_by_a_childs_name_typed_beside_the_menus(rig: Rig) -> None:
    dsl = rig.user("smorgan")
    [welcome] = await dsl.installs()
    leo = await submitted(rig.app, disclosure_about(NamedPupil(PupilRole.CHILD, "Leo Marsh", "Year 3")),
                          reporter="cfinch", channel=TEAMS)
    rig.clock.advance(minutes=5)
    ava = await submitted(rig.app, disclosure_about(NamedPupil(PupilRole.CHILD, "Ava Stone", "Year 5")),
                          reporter="cfinch", channel=TEAMS)
    rig.clock.advance(minutes=5)
    told = await submitted(rig.app, disclosure_about(NamedPupil(PupilRole.TOLD_BY, "Ava Stone", "Year 5")),
                           reporter="cfinch", channel=TEAMS)
    listed = await answer(dsl, welcome.action("My cases"), "Your cases")
    assert "Your cases (open): 3" in listed.text()
    box = next(i for i in listed.inputs() if i["id"] == "cases_child")
    assert box["type"] == "Input.Text" and box["value"] == ""

    hers = await answer(dsl, listed.action("Show"), "Your cases", cases_state="open", cases_category="all",
                        cases_child="  Ava ")
    assert 'Your cases (open, child "ava"): 2' in hers.text()
    assert ava in hers.text() and told in hers.text() and leo not in hers.text()
    assert next(i for i in hers.inputs() if i["id"] == "cases_child")["value"] == "Ava", "the box keeps what she typed"
    # A locked phone's summary names no child, as before.
    assert "Ava" not in str(hers.activity.get("summary")) and "ava" not in str(hers.activity.get("summary"))

    nobody = await answer(dsl, hers.action("Show"), "cases for you", cases_state="all", cases_category="all",
                          cases_child="nobody")
    assert 'No cases for you (child "nobody").' in nobody.text()
    every = await answer(dsl, nobody.action("Show"), "Your cases", cases_state="all", cases_category="all",
                         cases_child="")
    assert "Your cases: 3" in every.text()

    # The headteacher was sent none of these reports: the filter finds nothing for him.
    head = rig.user("jellis")
    [head_welcome] = await head.installs()
    his = await answer(head, head_welcome.action("My cases"), "cases for you")
    none = await answer(head, his.action("Show"), "cases for you", cases_state="all", cases_category="all",
                        cases_child="ava")
    assert 'No cases for you (child "ava").' in none.text() and ava not in none.text()


async def test_my_cases_filters_by_when_a_report_was_made(rig: Rig) -> None:
    dsl = rig.user("smorgan")
    [welcome] = await dsl.installs()
    older = await submitted(rig.app, DISCLOSURE, reporter="cfinch", channel=TEAMS)  # Friday 20 Nov
    rig.clock.advance(minutes=3 * 24 * 60)
    newer = await submitted(rig.app, DISCLOSURE, reporter="cfinch", channel=TEAMS)  # Monday 23 Nov
    listed = await answer(dsl, welcome.action("My cases"), "Your cases")
    assert "Your cases (open): 2" in listed.text()
    today = await answer(dsl, listed.action("Show"), "Your cases", cases_state="open", cases_category="all",
                         cases_date="today")
    assert "Your cases (open, since 23 Nov 2026): 1" in today.text()
    assert newer in today.text() and older not in today.text()
    assert next(i for i in today.inputs() if i["id"] == "cases_date")["value"] == "today"
    every = await answer(dsl, today.action("Show"), "Your cases", cases_state="open", cases_category="all",
                         cases_date="all")
    assert "Your cases (open): 2" in every.text()
