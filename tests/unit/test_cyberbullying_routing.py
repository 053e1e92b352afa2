"""Cyberbullying is routed by who is bullied and who is doing it, in every preset, with its sources."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dialogs.reachable import reachable
from routing.check import check_policy, check_school
from routing.engine import decide
from routing.loader import PRESETS, resolve_policy
from routing.report import Report, parse_report
from routing.school import load_school
from routing.vocabulary import SENIOR_SUBJECTS, Category, Subject, Target
from routing.yamlfields import InputError
from tests.builders import EXAMPLE_SCHOOL

CB = Category.CYBERBULLYING


@dataclass(frozen=True)
class Case:
    preset: str
    target: Target
    subject: Subject
    owner: str
    informed: tuple[str, ...]
    escalation: tuple[str, ...]
    sources: tuple[str, ...]  # phrases each of which must stand in one of the decision's citations

    def __str__(self) -> str:
        return f"{self.preset}:{self.target.value}-bullied-by-{self.subject.value}"


PUPIL, STAFF, PARENT, HEAD = Subject.PUPIL, Subject.STAFF, Subject.PARENT, Subject.HEADTEACHER
ALLEGED = "Allegations of cyberbullying from staff members will be handled in accordance with the Allegations of Abuse"
PEER = "KCSIE 2024 Part five: bullying of a child by other children, online included, is child-on-child abuse"

CASES = [
    # A pupil bullied by pupils: child-on-child abuse; the DSL owns it, the headteacher is told.
    Case("st-leonards", Target.PUPIL, PUPIL, "dsl", ("headteacher",), ("deputy_dsl", "headteacher"),
         ("§10 Cyberbullying: \"Any reports of cyberbullying on social media platforms by pupils", PEER)),
    Case("bpet", Target.PUPIL, PUPIL, "dsl", ("headteacher",), ("deputy_dsl", "headteacher"),
         ("§13.0 Cyberbullying: \"Any reports of cyberbullying", PEER)),
    Case("perryfields", Target.PUPIL, PUPIL, "dsl", ("headteacher",), ("deputy_dsl", "headteacher"),
         ("Cyber bullying: \"See Cyber bullying policy\"", PEER)),
    Case("principal-slt", Target.PUPIL, PUPIL, "dsl", ("headteacher",), ("deputy_dsl", "headteacher"),
         ("Statutory default (the principal-SLT policy is silent): " + PEER, "KCSIE 2024 Part one")),
    # Mersham's headteacher is its DSL: one person, told once, and the ladder goes to the deputies.
    Case("mersham", Target.PUPIL, PUPIL, "dsl", (), ("deputy_dsl",),
         ("Pupils Use of Social Media: \"Any concerns regarding pupils' use of social media", PEER)),
    # A member of staff bullied by a parent: the headteacher (protecting staff; a parent meets the head).
    Case("st-leonards", Target.STAFF, PARENT, "headteacher", (), ("dsl", "deputy_dsl"),
         ("Statement of intent: \"Protecting our staff from cyberbullying",
          "§6 Parent social media use: \"Any parents that are seen to be breaching")),
    Case("bpet", Target.STAFF, PARENT, "headteacher", (), ("dsl", "deputy_dsl"),
         ("§2.0 Introduction: \"Protecting our staff from cyberbullying", "§9.0 Parent social media use")),
    Case("perryfields", Target.STAFF, PARENT, "headteacher", (), ("dsl", "deputy_dsl"),
         ("Statement of intent: \"Protecting our staff from cyber bullying",
          "Roles and responsibilities: \"Reporting any social media misuse by staff, pupils or parents")),
    Case("principal-slt", Target.STAFF, PARENT, "headteacher", (), ("slt", "dsl", "deputy_dsl"),
         ("The school's own choice (the principal-SLT policy is silent; Safeguard's default): cyberbullying of "
          "a member of staff",)),
    Case("mersham", Target.STAFF, PARENT, "headteacher", (), ("deputy_dsl",),
         ("General Social Media Expectations: \"Concerns regarding the online conduct",
          "The school's own choice (Mersham policy is silent; Safeguard's default): cyberbullying of")),
    # A member of staff bullied by pupils: the headteacher owns it, the DSL is told of the pupils.
    Case("st-leonards", Target.STAFF, PUPIL, "headteacher", ("dsl",), ("dsl", "deputy_dsl"),
         ("§8 Online safety: \"Concerns regarding a pupil's online behaviour will be reported to the DSL",)),
    # Bullying by a member of staff: an allegation about staff, the headteacher's to manage.
    Case("st-leonards", Target.PUPIL, STAFF, "headteacher", ("dsl",), ("dsl", "deputy_dsl"), (ALLEGED,)),
    Case("bpet", Target.PUPIL, STAFF, "headteacher", ("dsl",), ("dsl", "deputy_dsl"), (ALLEGED,)),
    Case("perryfields", Target.PUPIL, STAFF, "headteacher", ("dsl",), ("dsl", "deputy_dsl"),
         ("Attempts to bully, coerce or manipulate members of the school community", "KCSIE 2024 Part four")),
    Case("principal-slt", Target.PUPIL, STAFF, "headteacher", ("dsl",), ("slt", "dsl", "deputy_dsl"),
         ("bullying and harassment policies", "KCSIE 2024 Part four")),
    Case("mersham", Target.PUPIL, STAFF, "headteacher", (), ("deputy_dsl",),
         ("Any complaint about staff misuse of social media", "KCSIE 2024 Part four")),
    Case("st-leonards", Target.STAFF, STAFF, "headteacher", (), ("dsl", "deputy_dsl"), (ALLEGED,)),
    Case("bpet", Target.STAFF, STAFF, "headteacher", (), ("dsl", "deputy_dsl"), (ALLEGED,)),
    # ... and by the headteacher: the chair (BPET: the Chief Executive), never the headteacher.
    Case("st-leonards", Target.PUPIL, HEAD, "chair_of_governors", ("dsl",), ("governor_lead",),
         ("If the concern is about the headteacher, it will be reported to the chair of governors", ALLEGED)),
    Case("bpet", Target.PUPIL, HEAD, "chief_executive", ("dsl",), ("chair_of_governors",),
         ("If the concern is about the Headteacher, it will be reported to the Chief Executive", ALLEGED)),
    Case("bpet", Target.STAFF, HEAD, "chief_executive", (), ("chair_of_governors",), (ALLEGED,)),
    Case("perryfields", Target.STAFF, HEAD, "chair_of_governors", (), ("governor_lead",), ("KCSIE 2024 Part four",)),
    Case("principal-slt", Target.PUPIL, HEAD, "chair_of_governors", ("dsl",), ("governor_lead",),
         ("KCSIE 2024 Part four",)),
    # At Mersham the headteacher is the DSL: the deputy looks after the child instead.
    Case("mersham", Target.PUPIL, HEAD, "chair_of_governors", ("deputy_dsl",), ("governor_lead",),
         ("KCSIE 2024 Part four",)),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_cyberbullying_routes_as_the_policy_says(case: Case) -> None:
    decision = decide(resolve_policy(case.preset), Report(CB, case.subject, target=case.target))
    assert (decision.owner, decision.informed, decision.escalation) == (case.owner, case.informed, case.escalation)
    assert decision.ack_within_minutes == 60
    for source in case.sources:
        assert any(source in c for c in decision.citations), (source, decision.citations)


@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_says_what_each_cyberbullying_decision_rests_on(preset: str) -> None:
    policy = resolve_policy(preset)
    for target in Target:
        for subject in Subject:
            decision = decide(policy, Report(CB, subject, target=target))
            assert decision.owner and decision.escalation and decision.citations
            if subject not in SENIOR_SUBJECTS:
                # A child's case (and every case not about a senior adult) never reaches a governor.
                assert not [r for r in (decision.owner, *decision.informed, *decision.escalation)
                            if policy.oversees(r)], (target, subject, decision)


def test_a_report_that_does_not_say_who_is_bullied_is_routed_as_a_childs_case() -> None:
    policy = resolve_policy("st-leonards")
    assert decide(policy, Report(CB, PARENT)) == decide(policy, Report(CB, PARENT, target=Target.PUPIL))


@pytest.mark.parametrize("preset", PRESETS)
def test_policy_check_routes_the_cyberbullying_reports_the_dialog_can_make(preset: str) -> None:
    combos = reachable()
    bullying = {(c.target, c.subject, c.named) for c in combos if c.category is CB}
    assert {t for t, _, _ in bullying} == set(Target)
    assert (Target.STAFF, Subject.PARENT, False) in bullying and (Target.PUPIL, Subject.STAFF, True) in bullying
    assert check_policy(resolve_policy(preset), combos) == []


def test_the_person_doing_the_bullying_is_left_out_whatever_roles_they_hold() -> None:
    school = load_school(EXAMPLE_SCHOOL)
    assert check_school(school, reachable()) == []
    for person in school.people:
        for target in Target:
            report = parse_report({"category": "cyberbullying", "subject_person": person.id,
                                   "target": target.value}, school)
            people = decide(school.policy, report, school).people
            assert people is not None and people.owner
            assert person.id not in {*people.owner, *people.informed, *people.escalation}, (person.id, target)
    # The DSL bullying a pupil: the headteacher owns it, the deputy DSL looks after the child.
    dsl = decide(school.policy, parse_report({"category": "cyberbullying", "subject_person": "smorgan",
                                              "target": "pupil"}, school), school)
    assert dsl.people is not None
    assert (dsl.people.owner, dsl.people.informed) == (("jellis",), ("rpatel",))


def test_a_target_is_read_for_cyberbullying_only() -> None:
    report = parse_report({"category": "cyberbullying", "subject": "parent", "target": "staff"})
    assert report.target is Target.STAFF
    with pytest.raises(InputError, match="only a cyberbullying report says who is being bullied"):
        parse_report({"category": "misuse", "subject": "parent", "target": "staff"})
    with pytest.raises(InputError, match="unknown target 'governor'; allowed: pupil, staff, school"):
        parse_report({"category": "cyberbullying", "subject": "parent", "target": "governor"})
