"""Something about myself: a self-referral is routed as a low-level concern about its reporter, in every preset."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from dialogs.reachable import reachable
from dialogs.report import ReportDraft
from routing.check import check_school
from routing.engine import Decision, decide
from routing.loader import PRESETS, load_policy, resolve_policy
from routing.report import Report
from routing.school import School
from routing.vocabulary import Category, Subject
from tests.builders import minimal_policy, person, school, write_yaml

SELF = Category.SELF_REFERRAL
KCSIE = "KCSIE 2024 Part four, section two (low-level concerns): staff are encouraged to self-refer"


def people(preset: str) -> School:
    """A school on `preset` with one person per role (Mersham's headteacher is its DSL, as its policy says)."""
    staff = [person("teacher"), person("deputy", "deputy_dsl"), person("chair", "chair_of_governors"),
             person("lead", "governor_lead"), person("osl", "online_safety_officer")]
    if preset == "mersham":
        staff += [person("head", "headteacher", "dsl")]
    else:
        staff += [person("head", "headteacher"), person("dsl", "dsl")]
    if preset == "principal-slt":
        staff.append(person("slt", "slt"))
    if preset == "bpet":
        staff += [person("ceo", "chief_executive"), person("marketing", "head_of_marketing")]
    if preset == "st-leonards":
        staff.append(person("comms", "communications_officer"))
    return school(preset, *staff)


def routed(at: School, reporter: str) -> tuple[Report, Decision]:
    """The self-referral `reporter` sends, as the bot routes it (the dialog's draft, then by whom)."""
    draft = ReportDraft(SELF, Subject.STAFF, details={"What happened": "A pupil messaged me; I replied."}).by(reporter)
    held = at.person(reporter)
    report = draft.routing_report(held.roles if held is not None else ())
    return report, decide(at.policy, report, at)


@dataclass(frozen=True)
class Case:
    preset: str
    reporter: str
    owner: tuple[str, ...]  # the people who own it
    informed: tuple[str, ...]
    source: str  # a phrase of the policy (or statute) the decision rests on

    def __str__(self) -> str:
        return f"{self.preset}:{self.reporter}"


CASES = [
    # A teacher self-refers: the headteacher, as for any concern about a member of staff.
    Case("st-leonards", "teacher", ("head",), (), "Concerns regarding a staff member's online behaviour will be reported"),
    Case("principal-slt", "teacher", ("head",), ("dsl",), "If the principal receives a disclosure that an adult"),
    Case("bpet", "teacher", ("head",), (), "§11.0 Online safety: \"Concerns regarding a staff member's online behaviour"),
    Case("mersham", "teacher", ("head",), (), "Any complaint about staff misuse of social media"),
    Case("perryfields", "teacher", ("head",), (), "KCSIE 2024 Part four: a concern or allegation about a member of staff"),
    # The headteacher self-refers: the chair (BPET §11.0: the Chief Executive), never the headteacher.
    Case("st-leonards", "head", ("chair",), (), "If the concern is about the headteacher, it will be reported to the chair"),
    Case("principal-slt", "head", ("chair",), ("dsl",), "a concern or allegation about the headteacher (here the principal)"),
    Case("bpet", "head", ("ceo",), (), "If the concern is about the Headteacher, it will be reported to the Chief Executive"),
    Case("mersham", "head", ("chair",), (), "a concern or allegation about the headteacher goes to the chair"),
    Case("perryfields", "head", ("chair",), (), "goes to the chair of the management committee"),
    # The DSL self-refers: the headteacher, and the DSL is neither told nor on the ladder.
    Case("st-leonards", "dsl", ("head",), (), "Concerns regarding a staff member's online behaviour"),
    # principal-slt tells the DSL of a concern about staff; about the DSL, her deputy is told instead.
    Case("principal-slt", "dsl", ("head",), ("deputy",), "If the principal receives a disclosure"),
    Case("bpet", "dsl", ("head",), (), "Concerns regarding a staff member's online behaviour"),
    Case("perryfields", "dsl", ("head",), (), "a concern or allegation about a member of staff"),
    # A deputy DSL self-refers: the headteacher (at Mersham, who is the DSL).
    Case("mersham", "deputy", ("head",), (), "Any complaint about staff misuse of social media"),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_self_referral_goes_where_a_concern_about_its_reporter_goes(case: Case) -> None:
    at = people(case.preset)
    report, decision = routed(at, case.reporter)
    assert report.subject_person == case.reporter
    assert decision.people is not None
    assert decision.people.owner == case.owner
    assert decision.people.informed == case.informed
    # Never back to the person who self-referred: not as owner, told, nor on the ladder.
    assert case.reporter not in {*decision.people.owner, *decision.people.informed, *decision.people.escalation}
    assert decision.ack_within_minutes == 60
    assert any(KCSIE in c for c in decision.citations), decision.citations
    assert any(case.source in c for c in decision.citations), decision.citations


@pytest.mark.parametrize("preset", PRESETS)
def test_no_governor_handles_a_teachers_self_referral(preset: str) -> None:
    at = people(preset)
    _, decision = routed(at, "teacher")
    assert decision.people is not None
    reached = {*decision.people.owner, *decision.people.informed, *decision.people.escalation}
    assert not reached & {"chair", "lead", "ceo"}  # governors oversee a member of staff's case through counts


@pytest.mark.parametrize("preset", PRESETS)
def test_the_dialog_lets_anyone_self_refer_and_policy_check_routes_each(preset: str) -> None:
    # Whoever reports may be the headteacher or the DSL: the check routes the report as about each of them.
    mine = [c for c in reachable() if c.category is SELF]
    assert mine and all(c.named and c.subject is Subject.STAFF for c in mine)
    assert check_school(people(preset), mine) == []


def test_a_policy_file_without_the_rule_routes_it_as_a_concern_about_staff(tmp_path: Path) -> None:
    # A school's own policy written before self-referral existed: never to nobody, never to the reporter.
    data = minimal_policy()
    del data["rules"]["self_referral"]
    policy = load_policy(write_yaml(tmp_path / "old.yaml", data))
    at = School(name="Old School", policy=policy, timezone="Europe/London",
                people=(person("head", "headteacher"), person("dsl", "dsl"), person("chair", "chair_of_governors")))
    _, decision = routed(at, "head")
    assert decision.people is not None and decision.people.owner == ("chair",)
    assert any("routed as colleague_concern reports are" in c for c in decision.citations)


def test_every_preset_has_its_own_rule() -> None:
    for preset in PRESETS:
        assert SELF in resolve_policy(preset).rules, preset
