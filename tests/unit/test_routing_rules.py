"""The routing a DSL would sign: allegations, children's cases, citations, people over presets, deadlines."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from dialogs.reachable import reachable
from routing.check import NAMED_SUBJECTS, check_school, grouped
from routing.engine import AROUND_THE_CLOCK, SCHOOL_HOURS, clock_for, decide, due_at
from routing.explain import explain
from routing.loader import PRESETS, resolve_policy
from routing.report import Report, parse_report
from routing.school import load_school
from routing.vocabulary import SENIOR_SUBJECTS, Category, Flag, Subject
from tests.builders import person, school, write_yaml
from tests.unit.test_cli import safeguard

ADULTS = (Subject.STAFF, Subject.DSL, Subject.DEPUTY_DSL, Subject.HEADTEACHER)


def reachable_reports() -> list[Report]:
    """Every report the guided report can produce, a named colleague taking each role in turn."""
    return [Report(c.category, subject, c.flags)
            for c in reachable() for subject in (NAMED_SUBJECTS if c.named else (c.subject,))]


# 1. A pupil's disclosure about an adult at school is an allegation.

@pytest.mark.parametrize("preset", ["st-leonards", "bpet", "principal-slt", "perryfields"])
def test_a_disclosure_about_the_dsl_is_managed_by_the_headteacher_and_the_deputy_is_told_for_the_child(
    preset: str,
) -> None:
    decision = decide(resolve_policy(preset), Report(Category.PUPIL_DISCLOSURE, Subject.DSL))
    assert decision.owner == "headteacher"
    assert decision.informed == ("deputy_dsl",)
    assert "dsl" not in decision.escalation
    assert any("KCSIE 2024 Part four" in c for c in decision.citations)


def test_bpet_gives_a_disclosure_about_the_headteacher_to_its_chief_executive() -> None:
    decision = decide(resolve_policy("bpet"), Report(Category.PUPIL_DISCLOSURE, Subject.HEADTEACHER))
    assert (decision.owner, decision.informed) == ("chief_executive", ("dsl",))
    assert any('"If the concern is about the Headteacher, it will be reported to the Chief Executive"' in c
               for c in decision.citations)


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("subject", ADULTS)
def test_a_disclosure_and_a_colleague_concern_about_the_same_adult_have_the_same_owner(
    preset: str, subject: Subject,
) -> None:
    policy = resolve_policy(preset)
    disclosure = decide(policy, Report(Category.PUPIL_DISCLOSURE, subject))
    concern = decide(policy, Report(Category.COLLEAGUE_CONCERN, subject))
    assert disclosure.owner == concern.owner
    # The child's side: the DSL, or whoever stands in for them, hears of the disclosure at once.
    assert policy.held_with(frozenset({"dsl", "deputy_dsl"})) & {disclosure.owner, *disclosure.informed}


# 2. Misuse by a pupil.

@pytest.mark.parametrize("preset", ["st-leonards", "bpet"])
def test_misuse_by_a_pupil_is_investigated_by_the_dsl_and_the_headteacher_told_at_once(preset: str) -> None:
    decision = decide(resolve_policy(preset), Report(Category.MISUSE, Subject.PUPIL))
    assert (decision.owner, decision.informed) == ("dsl", ("headteacher",))
    assert any("reported to the DSL, who will investigate" in c for c in decision.citations)
    assert any("to the headteacher immediately" in c for c in decision.citations)


# 3. A citation says why the report goes to this person.

NOT_ROUTES = (
    "Ensuring the DSL's remit covers online safety",
    "must be approved by the principal or a member of the SLT first",
    "Violation of this policy will be considered as gross misconduct",
    "Maintaining a log of inappropriate comments",
)


@pytest.mark.parametrize("preset", PRESETS)
def test_no_decision_cites_a_sentence_that_is_not_a_route(preset: str) -> None:
    policy = resolve_policy(preset)
    for report in reachable_reports():
        decision = decide(policy, report)
        assert not [c for c in decision.citations for phrase in NOT_ROUTES if phrase in c], report
        assert "head_of_marketing" not in {decision.owner, *decision.informed, *decision.escalation}


# 4. A child's case never reaches a governor.

@pytest.mark.parametrize("preset", PRESETS)
def test_no_report_that_is_not_about_a_senior_adult_reaches_a_governor(preset: str) -> None:
    policy = resolve_policy(preset)
    for report in reachable_reports():
        if report.subject in SENIOR_SUBJECTS:
            continue
        decision = decide(policy, report)
        reached = {decision.owner, *decision.informed, *decision.escalation}
        assert not {r for r in reached if policy.oversees(r)}, (report, reached)


@pytest.mark.parametrize("preset", PRESETS)
def test_a_childs_case_climbs_the_dsl_the_deputy_and_the_headteacher(preset: str) -> None:
    policy = resolve_policy(preset)
    decision = decide(policy, Report(Category.PUPIL_DISCLOSURE, Subject.PUPIL))
    chain = (decision.owner, *decision.escalation)
    expected = tuple(r for r in ("dsl", "deputy_dsl", "headteacher") if r not in policy.held_with(frozenset({"dsl"}))
                     or r == "dsl")
    assert chain == expected


def test_a_policy_file_that_puts_a_governor_on_a_childs_ladder_is_found_and_the_governor_left_off(
    tmp_path: Path,
) -> None:
    from routing.check import check_policy
    from routing.loader import load_policy
    from tests.builders import minimal_policy

    data = minimal_policy()
    data["rules"]["misuse"] = {**data["rules"]["misuse"], "escalation": ["dsl", "chair_of_governors"]}
    policy = load_policy(write_yaml(tmp_path / "policy.yaml", data))
    found = [str(f) for f in check_policy(policy)]
    assert ("rules.misuse: chair_of_governors would handle a report about pupil; governors oversee through counts "
            "and handle only cases about senior adults") in found
    assert decide(policy, Report(Category.MISUSE, Subject.PUPIL)).escalation == ("dsl",)


# 5. Routing follows the school's people, not the preset's assumptions.

MERSHAM_APART = school(
    "mersham",
    person("head", "headteacher"), person("dsl", "dsl"), person("deputy", "deputy_dsl"),
    person("chair", "chair_of_governors"), person("lead", "governor_lead"), person("teacher"),
)


def test_on_mersham_a_concern_about_a_dsl_who_is_not_the_headteacher_goes_to_the_headteacher() -> None:
    for report in (Report(Category.COLLEAGUE_CONCERN, Subject.DSL),
                   parse_report({"category": "colleague_concern", "subject_person": "dsl"}, MERSHAM_APART)):
        decision = decide(MERSHAM_APART.policy, report, MERSHAM_APART)
        assert decision.people is not None
        assert decision.people.owner == ("head",)
        assert "dsl" not in {*decision.people.informed, *decision.people.escalation}
        assert not any("about the headteacher" in c for c in decision.citations)


def test_on_mersham_with_the_headteacher_as_dsl_a_concern_about_the_dsl_goes_to_the_chair() -> None:
    together = school("mersham", person("head", "headteacher", "dsl"), person("deputy", "deputy_dsl"),
                      person("chair", "chair_of_governors"), person("lead", "governor_lead"))
    decision = decide(together.policy, Report(Category.COLLEAGUE_CONCERN, Subject.DSL), together)
    assert decision.people is not None and decision.people.owner == ("chair",)
    assert "head" not in {*decision.people.informed, *decision.people.escalation}


def test_explain_says_the_table_follows_the_people_where_they_differ_from_the_policy() -> None:
    text = explain(MERSHAM_APART.policy, MERSHAM_APART, reachable())
    assert ("This policy has one person as Designated Safeguarding Lead (DSL) and Headteacher; at Test School "
            "they are\ndifferent people, and the table above follows the people.") in text


def test_policy_check_says_when_the_people_contradict_the_presets_assumption() -> None:
    found = [str(f) for f in check_school(MERSHAM_APART, reachable())]
    assert found == [
        "people: policy mersham assumes one person holds dsl and headteacher, but here they differ "
        "(dsl: dsl; headteacher: head); routing follows the people, so check the policy's wording still fits your school"
    ]


# 6. A subject that contradicts the named person.

EXAMPLE = Path(__file__).resolve().parents[2] / "bot" / "examples" / "school.yaml"


def test_route_refuses_a_subject_softer_than_the_named_persons_roles() -> None:
    result = safeguard("route", "--config", str(EXAMPLE),
                       stdin='{"category": "colleague_concern", "subject": "staff", "subject_person": "jellis"}')
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == ("safeguard: error: report: subject is staff but 'jellis' holds headteacher, "
                             "so the report is about the headteacher\n")


def test_the_engine_routes_a_named_person_by_their_roles_whatever_the_subject_says() -> None:
    oakfield = load_school(EXAMPLE)
    decision = decide(oakfield.policy, Report(Category.COLLEAGUE_CONCERN, Subject.STAFF, subject_person="jellis"),
                      oakfield)
    assert decision.owner == "chair_of_governors"
    assert decision.subject is Subject.HEADTEACHER
    assert decision.people is not None and "jellis" not in {*decision.people.owner, *decision.people.informed,
                                                             *decision.people.escalation}


# 7. Deadlines: the school's own choice, counted in school hours.

FRIDAY_EVENING = datetime(2026, 11, 20, 19, 0, tzinfo=UTC)


def test_explain_labels_the_deadlines_as_the_schools_own_choice_not_a_policy() -> None:
    text = explain(resolve_policy("st-leonards"), None, reachable())
    assert "to acknowledge within 4 hours of school hours" in text
    assert "no policy gives a time to acknowledge a report, so the times above are the" in text
    assert "school's own choice (Safeguard's defaults" in text
    decision = decide(resolve_policy("st-leonards"), Report(Category.FRIEND_REQUEST, Subject.PUPIL))
    assert any(c.startswith("The school's own choice (no policy gives a time): Safeguard's default of 4 hours")
               for c in decision.citations)


def test_a_friend_request_on_friday_evening_is_due_on_monday_not_overnight() -> None:
    oakfield = load_school(EXAMPLE)
    report = Report(Category.FRIEND_REQUEST, Subject.PUPIL)
    assert clock_for(report, oakfield, FRIDAY_EVENING) == SCHOOL_HOURS
    # Four school hours from Friday 19:00: Monday 08:00 to 12:00.
    assert due_at(oakfield, SCHOOL_HOURS, FRIDAY_EVENING, 240) == datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_a_child_at_immediate_risk_runs_the_clock_day_and_night() -> None:
    oakfield = load_school(EXAMPLE)
    report = Report(Category.FRIEND_REQUEST, Subject.PUPIL, frozenset({Flag.IMMEDIATE_RISK}))
    assert clock_for(report, oakfield, FRIDAY_EVENING) == AROUND_THE_CLOCK
    assert decide(oakfield.policy, report, oakfield, at=FRIDAY_EVENING).clock == AROUND_THE_CLOCK
    assert due_at(oakfield, AROUND_THE_CLOCK, FRIDAY_EVENING, 15) == datetime(2026, 11, 20, 19, 15, tzinfo=UTC)


def test_the_schools_own_holidays_stop_the_clock_and_clock_always_runs_it(tmp_path: Path) -> None:
    import yaml
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    data["holidays"] = [{"from": "2026-11-23", "to": "2026-11-27"}]
    closed = load_school(write_yaml(tmp_path / "closed.yaml", data))
    assert due_at(closed, SCHOOL_HOURS, FRIDAY_EVENING, 240) == datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    data["clock"] = "always"
    always = load_school(write_yaml(tmp_path / "always.yaml", data))
    assert clock_for(Report(Category.MISUSE, Subject.PARENT), always, FRIDAY_EVENING) == AROUND_THE_CLOCK


# 8. policy check: only what the dialog can produce, grouped by cause.

def test_a_headteacher_who_is_also_the_dsl_gives_no_findings_about_impossible_reports(tmp_path: Path) -> None:
    config = write_yaml(tmp_path / "school.yaml", {
        "school": "Small Lower", "policy": "st-leonards",
        "people": [{"id": "head", "name": "Test Head", "roles": ["headteacher", "dsl"]},
                   {"id": "deputy", "name": "Test Deputy", "roles": ["deputy_dsl"]},
                   {"id": "officer", "name": "Test Officer", "roles": ["online_safety_officer"]},
                   {"id": "comms", "name": "Test Comms", "roles": ["communications_officer"]},
                   {"id": "chair", "name": "Test Chair", "roles": ["chair_of_governors"]},
                   {"id": "lead", "name": "Test Lead", "roles": ["governor_lead"]}],
    })
    result = safeguard("policy", "check", "--config", str(config))
    assert (result.returncode, result.stdout) == (0, "Small Lower: no findings\n")


def test_the_dialog_never_yields_a_friend_request_about_staff_or_on_a_school_device() -> None:
    friend = [c for c in reachable() if c.category is Category.FRIEND_REQUEST]
    assert {c.subject for c in friend} == {Subject.PUPIL, Subject.PARENT}
    assert not any(c.named or Flag.SCHOOL_DEVICE in c.flags or Flag.SELF_GENERATED_IMAGERY in c.flags
                   for c in friend)


def test_findings_are_grouped_by_cause() -> None:
    from routing.check import Finding

    lines = grouped([Finding("misuse about head", "the escalation ladder is empty"),
                     Finding("misuse about head with illegal", "the escalation ladder is empty"),
                     Finding("people", "nobody holds dsl (DSL)")])
    assert lines == ["the escalation ladder is empty: 2 reports: misuse about head; misuse about head with illegal",
                     "people: nobody holds dsl (DSL)"]
