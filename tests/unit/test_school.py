"""Routing against a school's people: person-level exclusion, ownership down the ladder, config errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.engine import decide
from routing.report import Report, parse_report
from routing.school import load_school
from routing.vocabulary import Category, Flag, Subject
from routing.yamlfields import InputError
from tests.builders import person, school, write_yaml

# Mersham as its policy describes it: the headteacher is the DSL, with two deputies.
MERSHAM = school(
    "mersham",
    person("head", "headteacher", "dsl"),
    person("deputy1", "deputy_dsl"),
    person("deputy2", "deputy_dsl"),
    person("chair", "chair_of_governors"),
    person("lead", "governor_lead"),
    person("teacher"),
)


def test_a_concern_about_the_headteacher_who_is_dsl_reaches_neither_role() -> None:
    report = parse_report({"category": "colleague_concern", "subject_person": "head"}, MERSHAM)
    assert report.subject is Subject.HEADTEACHER
    decision = decide(MERSHAM.policy, report, MERSHAM)
    assert decision.people is not None
    assert decision.people.owner == ("chair",)
    assert "head" not in decision.people.informed + decision.people.escalation


def test_a_disclosure_reaches_the_headteacher_as_dsl_with_both_deputies_on_the_ladder() -> None:
    decision = decide(MERSHAM.policy, Report(Category.PUPIL_DISCLOSURE, Subject.PUPIL), MERSHAM)
    assert decision.people is not None
    assert decision.people.owner == ("head",)
    # A child's case climbs to the deputies and stops there: it never reaches a governor.
    assert decision.people.escalation == ("deputy1", "deputy2")


def test_naming_one_deputy_leaves_the_other_deputy_on_the_ladder() -> None:
    report = parse_report({"category": "pupil_disclosure", "subject_person": "deputy1"}, MERSHAM)
    decision = decide(MERSHAM.policy, report, MERSHAM)
    assert decision.people is not None
    assert decision.people.escalation == ("deputy2", "chair")


def test_a_role_subject_without_a_name_leaves_out_everyone_holding_it() -> None:
    decision = decide(MERSHAM.policy, Report(Category.PUPIL_DISCLOSURE, Subject.DEPUTY_DSL), MERSHAM)
    assert decision.people is not None
    assert {"deputy1", "deputy2"}.isdisjoint({*decision.people.owner, *decision.people.escalation})


# A small school on the St Leonard's policy whose headteacher is also its DSL.
SMALL = school(
    "st-leonards",
    person("head", "headteacher", "dsl"),
    person("deputy", "deputy_dsl"),
    person("chair", "chair_of_governors"),
    person("lead", "governor_lead"),
)


def test_ownership_passes_down_the_ladder_when_the_owner_is_the_subject() -> None:
    officer = school("st-leonards", person("head", "headteacher"), person("dsl", "dsl"),
                     person("deputy", "deputy_dsl", "online_safety_officer"), person("chair", "chair_of_governors"))
    report = parse_report({"category": "inappropriate_content", "subject_person": "deputy"}, officer)
    decision = decide(officer.policy, report, officer)
    # The online safety officer owns content reports: here the deputy DSL, whom it is about.
    assert decision.owner == "dsl"
    assert decision.people is not None
    assert decision.people.owner == ("dsl",)
    assert decision.people.informed == ("head",)
    assert any("held only by the person this report is about" in c for c in decision.citations)


def test_without_an_online_safety_officer_the_dsl_owns_inappropriate_content() -> None:
    decision = decide(SMALL.policy, Report(Category.INAPPROPRIATE_CONTENT, Subject.PUPIL), SMALL)
    assert decision.owner == "dsl"
    assert decision.people is not None and decision.people.owner == ("head",)
    assert any("Online safety officer is held by nobody at Test School" in c for c in decision.citations)


def test_a_school_device_report_without_an_officer_tells_the_dsl_instead() -> None:
    report = Report(Category.MISUSE, Subject.PARENT, frozenset({Flag.SCHOOL_DEVICE}))
    decision = decide(SMALL.policy, report, SMALL)
    assert decision.informed == ("dsl",)
    assert any("Designated safeguarding lead (DSL) is told instead" in c for c in decision.citations)


def test_a_subject_that_contradicts_the_named_person_is_refused() -> None:
    with pytest.raises(InputError, match="subject is headteacher but 'deputy1' holds deputy_dsl"):
        parse_report({"category": "misuse", "subject": "headteacher", "subject_person": "deputy1"}, MERSHAM)


def test_an_unknown_person_is_refused_with_the_known_ones_listed() -> None:
    with pytest.raises(InputError, match="no person 'nobody' in Test School; people: head, deputy1"):
        parse_report({"category": "misuse", "subject_person": "nobody"}, MERSHAM)


def test_the_example_school_config_loads() -> None:
    example = load_school(Path(__file__).resolve().parents[2] / "bot" / "examples" / "school.yaml")
    assert example.policy.id == "st-leonards"
    assert all(example.holders(role) for role in example.policy.roles)


def config(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "school": "Config Test School",
        "policy": "st-leonards",
        "timezone": "Europe/London",
        "people": [{"id": "ahead", "name": "Test Head", "roles": ["headteacher"], "slack": "U0HEAD001"}],
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"poeple": []}, "top level: unknown key 'poeple'; allowed: school, policy, timezone, bank_holidays, school_hours, holidays, clock, digest, cover, slack_team, teams_tenant, retention, people"),
        ({"policy": "nowhere"}, "unknown policy 'nowhere': not a preset (st-leonards, principal-slt, bpet, mersham, perryfields)"),
        ({"timezone": "Mars/Olympus"}, "timezone: unknown timezone 'Mars/Olympus'; use an IANA name"),
        ({"people": []}, "people: expected a list of people"),
        ({"people": [{"id": "a", "name": "A", "roles": ["head"]}]},
         "people[0].roles: unknown role 'head'; policy st-leonards defines: headteacher, dsl"),
        ({"people": [{"id": "a", "name": "A"}, {"id": "a", "name": "B"}]}, "people[1].id: 'a' is already used by people[0]"),
        ({"people": [{"id": "a", "name": "A", "slack": "bob"}]}, "people[0].slack: 'bob' is not a Slack user id"),
        ({"people": [{"id": "a", "name": "A", "email": "not-an-address"}]}, "people[0].email: 'not-an-address' is not an email"),
        ({"people": [{"id": "a", "roles": []}]}, "people[0].name: missing"),
        ({"school": ""}, "school: expected a non-empty string"),
    ],
)
def test_a_bad_config_names_the_file_and_the_field(tmp_path: Path, overrides: dict[str, object], message: str) -> None:
    path = write_yaml(tmp_path / "school.yaml", config(**overrides))
    with pytest.raises(InputError) as caught:
        load_school(path)
    assert str(caught.value).startswith(str(path))
    assert message in str(caught.value)


def test_malformed_yaml_gives_the_line(tmp_path: Path) -> None:
    path = tmp_path / "school.yaml"
    path.write_text("school: Test\npeople:\n  - id: a\n   name: [unclosed\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"school.yaml: not valid YAML at line \d+, column \d+"):
        load_school(path)


def test_a_policy_path_is_read_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    from routing.loader import PRESET_DIR

    (tmp_path / "policies" / "ours.yaml").write_text((PRESET_DIR / "bpet.yaml").read_text(encoding="utf-8"))
    path = write_yaml(tmp_path / "school.yaml", config(policy="policies/ours.yaml"))
    assert load_school(path).policy.role_name("chief_executive") == "Chief Executive"
