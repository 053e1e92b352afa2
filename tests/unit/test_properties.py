"""Properties over every preset, category, subject and flag: the subject is never reached."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.reachable import reachable
from routing.engine import RoutingError, decide, effective_subject
from routing.check import NAMED_SUBJECTS
from routing.loader import PRESETS, resolve_policy
from routing.report import Report
from routing.school import Person, School
from routing.vocabulary import SUBJECT_ROLES, Category, Flag, Subject, subject_for_roles

POLICIES = {name: resolve_policy(name) for name in PRESETS}


def _reachable(report: Report) -> bool:
    """Whether the report dialog can produce this report (a named colleague may hold any role)."""
    return any(c.category is report.category and c.flags == report.flags
               and (c.subject is report.subject or (c.named and report.subject in NAMED_SUBJECTS))
               for c in reachable())

reports = st.builds(
    Report,
    category=st.sampled_from(Category),
    subject=st.sampled_from(Subject),
    flags=st.frozensets(st.sampled_from(Flag)),
)


@settings(max_examples=1500)
@given(preset=st.sampled_from(PRESETS), report=reports)
def test_the_subject_role_is_never_owner_informed_or_on_the_ladder(preset: str, report: Report) -> None:
    policy = POLICIES[preset]
    decision = decide(policy, report)
    excluded = policy.held_with(SUBJECT_ROLES.get(report.subject, frozenset()))
    assert decision.owner not in excluded
    assert not excluded & set(decision.informed)
    assert not excluded & set(decision.escalation)
    assert decision.owner in policy.roles
    assert decision.owner not in decision.informed and decision.owner not in decision.escalation
    if _reachable(report):
        assert decision.escalation, "every report a reporter can make has somewhere to escalate"
    assert decision.citations
    if Flag.IMMEDIATE_RISK in report.flags:
        assert decision.ack_within_minutes <= 15


@st.composite
def schools(draw: st.DrawFn) -> School:
    """A school on a random preset where every role is held by at least two people.

    People hold random sets of roles, so one person often holds several (as at Mersham).
    """
    preset = draw(st.sampled_from(PRESETS))
    roles = list(POLICIES[preset].roles)
    count = draw(st.integers(min_value=2, max_value=8))
    held: list[set[str]] = [set(draw(st.sets(st.sampled_from(roles), max_size=3))) for _ in range(count)]
    for role in roles:
        for index in draw(st.lists(st.integers(0, count - 1), min_size=2, max_size=2, unique=True)):
            held[index].add(role)
    people = tuple(Person(id=f"p{i}", name=f"Person {i}", roles=tuple(sorted(r))) for i, r in enumerate(held))
    return School(name="Property School", policy=POLICIES[preset], timezone="Europe/London", people=people)


@settings(max_examples=800)
@given(school=schools(), data=st.data())
def test_a_named_person_is_never_told_whatever_roles_they_hold(school: School, data: st.DataObject) -> None:
    subject_person = data.draw(st.sampled_from(school.people))
    report = Report(
        category=data.draw(st.sampled_from(Category)),
        subject=subject_for_roles(subject_person.roles),
        flags=data.draw(st.frozensets(st.sampled_from(Flag))),
        subject_person=subject_person.id,
    )
    decision = decide(school.policy, report, school)
    people = decision.people
    assert people is not None
    assert subject_person.id not in {*people.owner, *people.informed, *people.escalation}
    assert people.owner, "someone owns every report"
    assert all(decision.owner in p.roles for p in school.people if p.id in people.owner)
    assert not set(people.owner) & set(people.informed)
    assert decision.citations


@settings(max_examples=500)
@given(school=schools(), report=reports)
def test_without_a_named_person_every_holder_of_the_subject_role_is_left_out(school: School, report: Report) -> None:
    subject_holders = {p.id for r in SUBJECT_ROLES.get(report.subject, ()) for p in school.holders(r)}
    try:
        decision = decide(school.policy, report, school)
    except RoutingError:
        # Only when everyone who could own it holds the subject's role too (routed as the
        # most senior role its holders hold, as the engine reads it from the people).
        senior = effective_subject(school.policy, report, school)
        by_role = decide(school.policy, Report(report.category, senior, report.flags))
        for role in (by_role.owner, *by_role.escalation):
            assert {p.id for p in school.holders(role)} <= subject_holders
        return
    people = decision.people
    assert people is not None
    assert people.owner
    assert not subject_holders & {*people.owner, *people.informed, *people.escalation}
