"""Each preset routes as its policy says: one case per rule, naming the section it checks."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from routing.engine import decide
from routing.loader import resolve_policy
from routing.report import Report
from routing.vocabulary import Category, Flag, Subject


@dataclass(frozen=True)
class Case:
    preset: str
    category: str
    subject: str
    owner: str
    section: str  # the section (or statute) the case checks; it must be among the citations
    informed: tuple[str, ...] = ()
    escalation: tuple[str, ...] | None = None
    ack: int | None = None
    flags: tuple[str, ...] = ()

    def __str__(self) -> str:
        flags = f"+{'+'.join(self.flags)}" if self.flags else ""
        return f"{self.preset}:{self.category}:{self.subject}{flags}[{self.section}]"


CASES = [
    # St Leonard's Lower School (000)
    Case("st-leonards", "misuse", "parent", "headteacher", "§2 Roles and responsibilities", ack=60,
         escalation=("dsl", "deputy_dsl")),
    # §8: a pupil's online behaviour goes to the DSL, who investigates; §2: the headteacher hears at once.
    Case("st-leonards", "misuse", "pupil", "dsl", "§8 Online safety", informed=("headteacher",),
         escalation=("deputy_dsl", "headteacher")),
    Case("st-leonards", "misuse", "pupil", "dsl", "§2 Roles and responsibilities", informed=("headteacher",)),
    Case("st-leonards", "misuse", "staff", "headteacher", "§8 Online safety"),
    Case("st-leonards", "misuse", "headteacher", "chair_of_governors", "§8 Online safety",
         escalation=("governor_lead",)),
    Case("st-leonards", "friend_request", "parent", "headteacher", "§5 Staff social media use", ack=240),
    Case("st-leonards", "friend_request", "pupil", "headteacher", "§7 Pupil social media use", informed=("dsl",),
         escalation=("dsl", "deputy_dsl")),
    Case("st-leonards", "inappropriate_content", "unknown", "online_safety_officer", "app. B", ack=120,
         escalation=("dsl", "deputy_dsl", "headteacher")),
    Case("st-leonards", "inappropriate_content", "staff", "online_safety_officer", "§5 Staff social media use",
         informed=("headteacher",)),
    Case("st-leonards", "inappropriate_content", "headteacher", "chair_of_governors", "§9 Blocked content",
         informed=("online_safety_officer",)),
    Case("st-leonards", "colleague_concern", "staff", "headteacher", "§8 Online safety", ack=60,
         escalation=("dsl", "deputy_dsl")),
    Case("st-leonards", "colleague_concern", "headteacher", "chair_of_governors", "§8 Online safety"),
    Case("st-leonards", "colleague_concern", "dsl", "headteacher", "§8 Online safety",
         escalation=("deputy_dsl", "chair_of_governors")),
    Case("st-leonards", "pupil_disclosure", "pupil", "dsl", "§8 Online safety", ack=30,
         escalation=("deputy_dsl", "headteacher")),
    Case("st-leonards", "pupil_disclosure", "pupil", "dsl", "KCSIE 2024 Part one"),
    # A disclosure about an adult at school is an allegation (KCSIE Part four): the headteacher
    # manages it, the DSL (the deputy, where it is the DSL) is told for the child.
    Case("st-leonards", "pupil_disclosure", "staff", "headteacher", "KCSIE 2024 Part four", informed=("dsl",),
         escalation=("dsl", "deputy_dsl")),
    Case("st-leonards", "pupil_disclosure", "dsl", "headteacher", "KCSIE 2024 Part four", informed=("deputy_dsl",),
         escalation=("deputy_dsl", "chair_of_governors")),
    Case("st-leonards", "pupil_disclosure", "headteacher", "chair_of_governors", "§8 Online safety",
         informed=("dsl",), escalation=("governor_lead",)),
    Case("st-leonards", "misuse", "parent", "headteacher", "§8 Online safety", flags=("illegal",)),
    Case("st-leonards", "misuse", "pupil", "dsl", "§8 Online safety", flags=("self_generated_imagery",),
         informed=("headteacher",), escalation=("deputy_dsl", "headteacher")),
    Case("st-leonards", "misuse", "pupil", "dsl", "§9 Blocked content", flags=("school_device",),
         informed=("headteacher", "online_safety_officer")),
    Case("st-leonards", "friend_request", "parent", "headteacher", "KCSIE 2024 Part one",
         flags=("immediate_risk",), informed=("dsl",), ack=15),
    # The principal-SLT policy (001): silent on most routes, so statute or the school's own choice.
    Case("principal-slt", "misuse", "parent", "headteacher", "The school's own choice",
         escalation=("slt", "dsl", "deputy_dsl")),
    Case("principal-slt", "misuse", "pupil", "dsl", "KCSIE 2024 Part one", informed=("headteacher",)),
    Case("principal-slt", "colleague_concern", "staff", "headteacher", "Child protection guidance",
         informed=("dsl",), escalation=("slt", "dsl", "deputy_dsl")),
    Case("principal-slt", "colleague_concern", "headteacher", "chair_of_governors", "KCSIE 2024 Part four",
         informed=("dsl",)),
    Case("principal-slt", "colleague_concern", "dsl", "headteacher", "Child protection guidance",
         informed=("deputy_dsl",)),
    Case("principal-slt", "friend_request", "pupil", "headteacher", "Guidance/protection for staff on using social media",
         informed=("dsl",)),
    Case("principal-slt", "inappropriate_content", "pupil", "dsl", "KCSIE 2024 Part two"),
    Case("principal-slt", "inappropriate_content", "staff", "dsl", "Monitoring use of social media on school equipment",
         informed=("headteacher",)),
    Case("principal-slt", "pupil_disclosure", "staff", "headteacher", "Child protection guidance", informed=("dsl",)),
    Case("principal-slt", "misuse", "headteacher", "chair_of_governors", "KCSIE 2024 Part four",
         flags=("illegal",), informed=("slt",)),
    # Bellevue Place Education Trust (002)
    Case("bpet", "misuse", "headteacher", "chief_executive", "§11.0 Online safety",
         escalation=("chair_of_governors",)),
    Case("bpet", "colleague_concern", "headteacher", "chief_executive", "§11.0 Online safety"),
    Case("bpet", "inappropriate_content", "headteacher", "chief_executive", "§12.0 Blocked content",
         informed=("online_safety_officer",)),
    Case("bpet", "pupil_disclosure", "headteacher", "chief_executive", "§11.0 Online safety",
         informed=("dsl",), escalation=("chair_of_governors",)),
    Case("bpet", "pupil_disclosure", "dsl", "headteacher", "KCSIE 2024 Part four", informed=("deputy_dsl",),
         escalation=("deputy_dsl", "chief_executive")),
    # The Head of Marketing keeps a log of comments on the school's accounts, not safeguarding reports.
    Case("bpet", "misuse", "parent", "headteacher", "§4.0 Roles and responsibilities",
         escalation=("dsl", "deputy_dsl")),
    Case("bpet", "friend_request", "parent", "headteacher", "§8.0 Personal accounts"),
    Case("bpet", "inappropriate_content", "pupil", "online_safety_officer", "§10.0 Pupil social media use",
         informed=("dsl", "headteacher")),
    Case("bpet", "misuse", "pupil", "dsl", "§11.0 Online safety", flags=("self_generated_imagery", "illegal"),
         informed=("headteacher",)),
    # Mersham Primary School (003): the headteacher is the DSL
    Case("mersham", "friend_request", "parent", "dsl", "Communicating with Pupils and their Families",
         escalation=("deputy_dsl",)),
    Case("mersham", "misuse", "pupil", "dsl", "Pupils Use of Social Media"),
    Case("mersham", "misuse", "staff", "headteacher", "Staff Use of Social Media", escalation=("deputy_dsl",)),
    Case("mersham", "misuse", "headteacher", "chair_of_governors", "KCSIE 2024 Part four",
         escalation=("governor_lead",)),
    Case("mersham", "colleague_concern", "dsl", "chair_of_governors", "KCSIE 2024 Part four"),
    Case("mersham", "inappropriate_content", "unknown", "dsl", "Official Use of Social Media"),
    Case("mersham", "inappropriate_content", "headteacher", "chair_of_governors", "KCSIE 2024 Part four",
         informed=("deputy_dsl",)),
    Case("mersham", "pupil_disclosure", "pupil", "dsl", "Pupils Use of Social Media", ack=30,
         escalation=("deputy_dsl",)),
    Case("mersham", "pupil_disclosure", "headteacher", "chair_of_governors", "KCSIE 2024 Part four",
         informed=("deputy_dsl",), escalation=("governor_lead",)),
    # The DSL is the headteacher: an illegal-activity flag on a report about the DSL tells neither.
    Case("mersham", "pupil_disclosure", "dsl", "chair_of_governors", "KCSIE 2024 Part four", flags=("illegal",),
         informed=("deputy_dsl",)),
    # The headteacher is the DSL, so being told as headteacher adds nobody.
    Case("mersham", "misuse", "parent", "dsl", "Responding to Policy Breaches", flags=("illegal",)),
    # Perryfields Primary PRU (004): a Management Committee, an e-safety officer
    Case("perryfields", "misuse", "parent", "headteacher", "Roles and responsibilities"),
    Case("perryfields", "friend_request", "pupil", "headteacher", "Social media use – pupils and parents"),
    Case("perryfields", "inappropriate_content", "unknown", "online_safety_officer", "Social media use – staff"),
    Case("perryfields", "misuse", "pupil", "dsl", "Blocked content", flags=("school_device",),
         informed=("headteacher", "online_safety_officer")),
    Case("perryfields", "colleague_concern", "headteacher", "chair_of_governors", "KCSIE 2024 Part four"),
    Case("perryfields", "pupil_disclosure", "pupil", "dsl", "KCSIE 2024 Part one"),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_preset_routes_as_its_policy_says(case: Case) -> None:
    policy = resolve_policy(case.preset)
    report = Report(Category(case.category), Subject(case.subject), frozenset(Flag(f) for f in case.flags))
    decision = decide(policy, report)
    assert decision.owner == case.owner
    assert decision.informed == case.informed
    if case.escalation is not None:
        assert decision.escalation == case.escalation
    if case.ack is not None:
        assert decision.ack_within_minutes == case.ack
    assert any(case.section in c for c in decision.citations), decision.citations


def test_statutory_fallbacks_say_the_policy_is_silent() -> None:
    decision = decide(resolve_policy("perryfields"), Report(Category.COLLEAGUE_CONCERN, Subject.HEADTEACHER))
    assert any(c.startswith("Statutory default (Perryfields policy is silent): KCSIE") for c in decision.citations)
    assert "Chair of the Management Committee" == resolve_policy("perryfields").role_name(decision.owner)


@pytest.mark.parametrize("preset", ["st-leonards", "principal-slt", "bpet", "mersham", "perryfields"])
def test_immediate_risk_is_acknowledged_within_fifteen_minutes(preset: str) -> None:
    policy = resolve_policy(preset)
    for category in Category:
        decision = decide(policy, Report(category, Subject.PUPIL, frozenset({Flag.IMMEDIATE_RISK})))
        assert decision.ack_within_minutes <= 15
        # The DSL hears of it (at Mersham, as the headteacher who is the DSL).
        assert policy.held_with(frozenset({"dsl"})) & {decision.owner, *decision.informed}


def test_each_preset_uses_its_own_names_for_roles() -> None:
    assert resolve_policy("principal-slt").role_name("headteacher") == "Principal"
    assert resolve_policy("perryfields").role_name("online_safety_officer") == "E-safety officer"
    assert resolve_policy("bpet").role_name("chief_executive") == "Chief Executive"
