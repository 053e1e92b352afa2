"""`policy check` finds what would send a report to nobody, or to the person it is about."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.reachable import reachable
from routing.check import _kind, _routing_findings, check_policy, check_school
from routing.engine import decide
from routing.loader import PRESETS, load_policy, resolve_policy
from routing.report import Report
from routing.school import School
from routing.vocabulary import Category, Subject, Target, subject_for_roles
from tests.builders import minimal_policy, person, school, write_yaml


def findings_for(tmp_path: Path, data: dict[str, Any]) -> list[str]:
    return [str(f) for f in check_policy(load_policy(write_yaml(tmp_path / "policy.yaml", data)))]


@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_is_clean(preset: str) -> None:
    assert check_policy(resolve_policy(preset), reachable()) == []


def test_the_minimal_policy_is_clean(tmp_path: Path) -> None:
    assert findings_for(tmp_path, minimal_policy()) == []


def test_a_missing_category_is_found(tmp_path: Path) -> None:
    data = minimal_policy()
    del data["rules"]["friend_request"]
    assert findings_for(tmp_path, data) == ["rules.friend_request: missing: friend_request reports have no owner"]


def test_an_undefined_role_is_found(tmp_path: Path) -> None:
    data = minimal_policy()
    data["rules"]["misuse"] = {**data["rules"]["misuse"], "informed": ["ict_technician"]}
    assert "rules.misuse: role 'ict_technician' is not defined under roles" in findings_for(tmp_path, data)


def test_a_rule_that_routes_a_concern_to_its_own_subject_is_found(tmp_path: Path) -> None:
    data = minimal_policy()
    data["rules"]["colleague_concern"] = {k: v for k, v in data["rules"]["colleague_concern"].items() if k != "subjects"}
    found = findings_for(tmp_path, data)
    assert (
        "rules.colleague_concern: a report about headteacher would be owned by headteacher, who is its subject "
        "(add an override under rules.colleague_concern.subjects.headteacher)"
    ) in found


def test_an_empty_ladder_is_found(tmp_path: Path) -> None:
    data = minimal_policy()
    data["rules"]["misuse"] = {**data["rules"]["misuse"], "escalation": []}
    assert "rules.misuse: the escalation ladder is empty" in findings_for(tmp_path, data)


def test_a_ladder_emptied_by_leaving_out_the_subject_is_found(tmp_path: Path) -> None:
    data = minimal_policy()
    misuse = data["rules"]["misuse"]
    data["rules"]["misuse"] = {**misuse, "subjects": {**misuse["subjects"], "dsl": {"cite": misuse["cite"]}}}
    assert "misuse about dsl: the escalation ladder is empty once the subject is left out" in findings_for(tmp_path, data)


def test_a_school_where_nobody_holds_a_role_is_found() -> None:
    small: School = school("st-leonards", person("head", "headteacher"), person("dsl", "dsl"))
    found = [str(f) for f in check_school(small)]
    assert "people: nobody holds chair_of_governors (Chair of governors)" in found
    assert "people: nobody holds online_safety_officer (Online safety officer)" in found


def test_a_person_who_holds_every_role_leaves_nobody_to_own_a_report_about_them() -> None:
    policy = resolve_policy("mersham")
    everything = school("mersham", person("solo", *policy.roles), person("other"))
    found = [str(f) for f in check_school(everything, reachable())]
    assert any(f.startswith("misuse about solo: nobody is left to own") for f in found)


def test_a_policy_file_from_before_cyberbullying_routes_it_as_misuse_and_says_so(tmp_path: Path) -> None:
    """A school's own policy file written before the category existed: its bullying reports reach someone."""
    data = minimal_policy()
    del data["rules"]["cyberbullying"]
    policy = load_policy(write_yaml(tmp_path / "policy.yaml", data))
    assert [str(f) for f in check_policy(policy)] == [
        "rules.cyberbullying: missing: cyberbullying reports are routed as misuse reports until the policy has "
        "a rule for them"]
    bullying = decide(policy, Report(Category.CYBERBULLYING, Subject.PUPIL, target=Target.PUPIL))
    misuse = decide(policy, Report(Category.MISUSE, Subject.PUPIL))
    assert (bullying.owner, bullying.informed, bullying.escalation) == (misuse.owner, misuse.informed, misuse.escalation)
    assert any("no rule for cyberbullying reports" in citation for citation in bullying.citations)


@settings(max_examples=15, deadline=None)
@given(preset=st.sampled_from(PRESETS), data=st.data())
def test_staff_holding_no_role_are_checked_as_if_each_were_routed_on_their_own(preset: str, data: st.DataObject) -> None:
    """`check_school` routes a report about one role-less member of staff and says it of them all: the same findings,
    person by person, as routing a report about each of them."""
    roles = sorted(resolve_policy(preset).roles)
    holders = [person(f"holder{i}", *data.draw(st.lists(st.sampled_from(roles), max_size=3, unique=True)))
               for i in range(data.draw(st.integers(0, 4)))]
    the_school = school(preset, *holders, *(person(f"staff{i}") for i in range(data.draw(st.integers(1, 3)))))
    combos = reachable()
    expected = [str(f) for f in check_policy(the_school.policy, combos)]
    expected += [f"people: nobody holds {r.id} ({r.name})" for r in the_school.policy.roles.values()
                 if not the_school.holders(r.id)]
    found = [str(f) for f in check_school(the_school, combos)]
    if expected:
        assert found == expected  # the people are not routed while the policy or its holders fall short
        return
    every_person = [str(f) for combo in combos if combo.named for p in the_school.people
                    for f in _routing_findings(the_school.policy, Report(combo.category, subject_for_roles(p.roles),
                                                                         combo.flags, p.id, combo.target),
                                               the_school, f"{_kind(combo)} about {p.id}")]
    assert set(every_person) <= set(found)
    assert not {f for f in found if " about staff" in f} - set(every_person)
