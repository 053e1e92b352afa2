"""A trust config: its schools under their own policies, its own people, and every fault named by file and field."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from bot.cases.lifecycle import parse_reference
from bot.examples import EXAMPLE_SCHOOL, EXAMPLE_TRUST
from dialogs.validation import Invalid
from routing.engine import decide
from routing.report import parse_report
from routing.trust import choose_school, load_deployment
from routing.yamlfields import InputError
from tests.unit.test_cli import safeguard


@pytest.fixture
def trust_dir(tmp_path: Path) -> Path:
    """A copy of the example trust to spoil one field at a time."""
    shutil.copy(EXAMPLE_TRUST, tmp_path / "trust.yaml")
    shutil.copytree(EXAMPLE_TRUST.parent / "schools", tmp_path / "schools")
    return tmp_path


def edit(path: Path, change: object) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def refused(path: Path) -> str:
    with pytest.raises(InputError) as caught:
        load_deployment(path)
    return str(caught.value)


def test_the_example_trust_has_three_schools_under_their_own_policies() -> None:
    trust = load_deployment(EXAMPLE_TRUST)
    assert not trust.alone
    assert [(s.key, s.policy.id, s.reference_prefix) for s in trust.schools] == [
        ("bpa", "bpet", "SG-BPA"), ("hol", "mersham", "SG-HOL"), ("oak", "st-leonards", "SG-OAK")]
    # The shared deputy DSL is one person at two schools.
    assert [s.key for s in trust.schools_of("pshah")] == ["bpa", "oak"]
    assert [s.key for s in trust.schools_of("gmarsh")] == ["bpa"]
    assert trust.schools_of("arowe") == ()  # the Chief Executive works for the trust, not a school


def test_a_school_config_alone_is_a_deployment_of_one_school_as_before() -> None:
    alone = load_deployment(EXAMPLE_SCHOOL)
    assert alone.alone and len(alone.schools) == 1
    school = alone.schools[0]
    assert school.reference_prefix == "SG" and school.key == school.name and school.trust is None
    assert choose_school(alone, None) is school


def test_a_role_the_school_does_not_hold_is_found_among_the_trusts_people() -> None:
    bpa = choose_school(load_deployment(EXAMPLE_TRUST), "bpa")
    # BPET §11.0: a concern about the headteacher goes to the Chief Executive, held by the trust.
    decision = decide(bpa.policy, parse_report({"category": "colleague_concern", "subject": "headteacher"}, bpa), bpa)
    assert decision.owner == "chief_executive"
    assert decision.people is not None
    assert decision.people.owner == ("arowe",)
    assert decision.people.escalation == ("kdaly",)  # BPET's Chair of the Trust Board, a trust person too


def test_a_school_that_holds_the_role_keeps_its_own_holder() -> None:
    oak = choose_school(load_deployment(EXAMPLE_TRUST), "oak")
    decision = decide(oak.policy, parse_report({"category": "colleague_concern", "subject": "headteacher"}, oak), oak)
    assert decision.people is not None
    assert decision.people.owner == ("hbrooks",)  # Oakfield's own chair of governors, not the trust's


def test_a_concern_about_the_chief_executive_never_reaches_them() -> None:
    bpa = choose_school(load_deployment(EXAMPLE_TRUST), "bpa")
    report = parse_report({"category": "colleague_concern", "subject": "staff", "subject_person": "arowe"}, bpa)
    decision = decide(bpa.policy, report, bpa)
    assert decision.owner == "chair_of_trustees"
    assert decision.people is not None
    everyone = decision.people.owner + decision.people.informed + decision.people.escalation
    assert everyone == ("kdaly",) and "arowe" not in everyone
    assert "Chair of the Trust Board" in decision.citations[0]


def test_the_same_id_with_two_names_is_refused_naming_the_file_and_field(trust_dir: Path) -> None:
    edit(trust_dir / "schools" / "oakfield.yaml",
         lambda d: d["people"][2].update(name="Priya Sharma"))  # pshah, Priya Shah at Bellevue Place
    message = refused(trust_dir / "trust.yaml")
    assert "oakfield.yaml: people[2].name" in message and "Priya Shah" in message and "Priya Sharma" in message


def test_one_chat_account_under_two_ids_is_refused(trust_dir: Path) -> None:
    edit(trust_dir / "schools" / "oakfield.yaml", lambda d: d["people"][0].update(slack="U0HEAD01"))
    edit(trust_dir / "schools" / "bellevue-place.yaml", lambda d: d["people"][0].update(slack="U0HEAD01"))
    message = refused(trust_dir / "trust.yaml")
    assert "people[0].slack" in message and "'jellis'" in message and "'nkaur'" in message


def test_duplicate_school_ids_are_refused(trust_dir: Path) -> None:
    edit(trust_dir / "trust.yaml", lambda d: d["schools"][2].update(id="bpa"))
    assert "schools[2].id: 'bpa' is already the id of schools[0]" in refused(trust_dir / "trust.yaml")


def test_a_missing_school_config_is_refused(trust_dir: Path) -> None:
    (trust_dir / "schools" / "hollins-cross.yaml").unlink()
    message = refused(trust_dir / "trust.yaml")
    assert "trust.yaml: schools[1].config" in message and "hollins-cross.yaml: no such file" in message


def test_an_invalid_school_config_names_both_files(trust_dir: Path) -> None:
    edit(trust_dir / "schools" / "oakfield.yaml", lambda d: d["people"][1].update(roles=["bursar"]))
    message = refused(trust_dir / "trust.yaml")
    assert "trust.yaml: schools[2].config" in message
    assert "oakfield.yaml: people[1].roles: unknown role 'bursar'" in message


def test_a_role_some_policy_needs_that_nobody_holds_is_refused(trust_dir: Path) -> None:
    edit(trust_dir / "trust.yaml", lambda d: d["people"].pop(0))  # the Chief Executive
    message = refused(trust_dir / "trust.yaml")
    assert "schools[0].config" in message and "Chief Executive (chief_executive)" in message
    assert "Bellevue Place Academy" in message


def test_nobody_to_take_a_concern_about_the_trusts_people_is_refused(trust_dir: Path) -> None:
    edit(trust_dir / "trust.yaml", lambda d: d["people"][2].update(roles=["chair_of_governors"]))
    assert "about_trust_people: nobody among the trust's people holds 'chair_of_trustees'" in refused(
        trust_dir / "trust.yaml")


def test_a_bad_school_code_is_refused(trust_dir: Path) -> None:
    edit(trust_dir / "trust.yaml", lambda d: d["schools"][0].update(id="Bellevue Place"))
    assert "schools[0].id: 'Bellevue Place' is not a school code" in refused(trust_dir / "trust.yaml")


def test_route_takes_a_trust_and_a_school() -> None:
    result = safeguard("route", "--config", str(EXAMPLE_TRUST), "--school", "bpa",
                       stdin=json.dumps({"category": "colleague_concern", "subject": "headteacher"}))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["people"]["owner"] == ["arowe"]


def test_route_on_a_trust_without_a_school_says_which_there_are() -> None:
    result = safeguard("route", "--config", str(EXAMPLE_TRUST), stdin=json.dumps({"category": "misuse"}))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip() == ("safeguard: error: Bellevue Place Education Trust is a trust of 3 schools: "
                                     "say which with --school (one of bpa, hol, oak)")
    unknown = safeguard("policy", "explain", "--config", str(EXAMPLE_TRUST), "--school", "zzz")
    assert unknown.returncode == 2 and "--school zzz: no such school" in unknown.stderr


def test_policy_check_checks_every_school(trust_dir: Path) -> None:
    result = safeguard("policy", "check", "--config", str(EXAMPLE_TRUST))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["Bellevue Place Academy (bpa): no findings",
                                          "Hollins Cross Primary (hol): no findings",
                                          "Oakfield Lower School (oak): no findings"]
    # Oakfield's online safety officer leaves, and nobody else holds the role: the trust cannot be served.
    edit(trust_dir / "schools" / "oakfield.yaml", lambda d: d["people"][3].update(roles=[]))
    spoiled = safeguard("policy", "check", "--config", str(trust_dir / "trust.yaml"))
    assert spoiled.returncode == 2 and spoiled.stdout == ""
    assert "schools[2].config" in spoiled.stderr and "(online_safety_officer)" in spoiled.stderr


def test_policy_explain_for_one_school_of_the_trust() -> None:
    result = safeguard("policy", "explain", "--config", str(EXAMPLE_TRUST), "--school", "hol")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:2] == ["Routing table: Mersham Primary School Social Media Policy (September 2024)",
                                              "School: Hollins Cross Primary (people from its config)"]


@pytest.mark.parametrize(("typed", "reference"), [
    ("SG-2026-0042", "SG-2026-0042"), ("sg-bpa-2026-0001", "SG-BPA-2026-0001"), (" SG-OAK-2026-0012 ", "SG-OAK-2026-0012"),
    ("SG-ABCDE-2026-10000", "SG-ABCDE-2026-10000"),
])
def test_a_reference_is_read_alone_or_with_a_school_code(typed: str, reference: str) -> None:
    assert parse_reference(typed) == reference


@pytest.mark.parametrize("typed", ["SG-B-2026-0001", "SG-ABCDEF-2026-0001", "SG-1AB-2026-0001", "BPA-2026-0001"])
def test_a_school_code_of_the_wrong_shape_is_not_a_reference(typed: str) -> None:
    assert isinstance(parse_reference(typed), Invalid)
