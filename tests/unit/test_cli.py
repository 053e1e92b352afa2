"""The `safeguard` command as other tools call it: JSON in, JSON out, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders import minimal_policy, write_yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "bot" / "examples" / "school.yaml"
SCRIPT = Path(sys.executable).parent / "safeguard"


def safeguard(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run the installed console script, as another tool would."""
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-c", "from bot.cli.main import main; main()"]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run(command + list(args), input=stdin, capture_output=True, text=True, timeout=60, env=env)


def route(report: object, *args: str) -> dict[str, object]:
    result = safeguard("route", *args, stdin=json.dumps(report))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    decision = json.loads(result.stdout)
    assert isinstance(decision, dict)
    return decision


def test_route_prints_the_decision_for_a_preset() -> None:
    decision = route({"category": "colleague_concern", "subject": "headteacher", "flags": []}, "--policy", "bpet")
    assert decision["owner"] == "chief_executive"
    assert decision["informed"] == []
    assert decision["escalation"] == ["chair_of_governors"]
    assert decision["ack_within_minutes"] == 60
    assert isinstance(decision["citations"], list) and "§11.0" in decision["citations"][0]
    assert decision["clock"] == "school hours"
    assert set(decision) == {"owner", "informed", "escalation", "ack_within_minutes", "clock", "citations"}


def test_route_defaults_to_st_leonards() -> None:
    assert route({"category": "inappropriate_content", "subject": "pupil"})["owner"] == "online_safety_officer"


def test_route_with_a_config_names_people() -> None:
    decision = route({"category": "pupil_disclosure", "subject": "pupil", "flags": ["immediate_risk"]}, "--config", str(EXAMPLE))
    assert decision["ack_within_minutes"] == 15
    assert decision["people"] == {"owner": ["smorgan"], "informed": [], "escalation": ["rpatel", "jellis"]}


def test_route_with_a_subject_person_leaves_them_out() -> None:
    decision = route({"category": "misuse", "subject_person": "jellis"}, "--config", str(EXAMPLE))
    assert decision["owner"] == "chair_of_governors"
    people = decision["people"]
    assert isinstance(people, dict)
    assert people["owner"] == ["hbrooks"]
    assert "jellis" not in people["informed"] + people["escalation"]


def test_route_reads_a_policy_file_by_path(tmp_path: Path) -> None:
    path = write_yaml(tmp_path / "ours.yaml", minimal_policy())
    assert route({"category": "misuse", "subject": "headteacher"}, "--policy", str(path))["owner"] == "chair_of_governors"


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        ([], "{not json", "stdin: not valid JSON: Expecting property name enclosed in double quotes at line 1, column 2"),
        ([], "", "stdin: no report"),
        ([], "[1, 2]", "report: expected a JSON object"),
        ([], '{"category": "gossip", "subject": "pupil"}', "report: category: unknown category 'gossip'; allowed: misuse, friend_request, inappropriate_content"),
        ([], '{"category": "misuse", "subject": "janitor"}', "report: subject: unknown subject 'janitor'; allowed: pupil, parent, staff"),
        ([], '{"category": "misuse", "subject": "pupil", "flags": ["urgent"]}', "report: flags: unknown flag 'urgent'; allowed: illegal, immediate_risk"),
        ([], '{"category": "misuse", "subject": "pupil", "flags": "illegal"}', "report: flags: expected a list of flags"),
        ([], '{"category": "misuse"}', "report: subject: missing; allowed: pupil"),
        ([], '{"category": "misuse", "subject": "pupil", "name": "x"}', "report: unknown field 'name'"),
        ([], '{"category": "misuse", "subject_person": "jellis"}', "report: subject_person: a person can only be named with --config"),
        (["--policy", "hogwarts"], '{"category": "misuse", "subject": "pupil"}', "unknown policy 'hogwarts': not a preset (st-leonards, principal-slt, bpet, mersham, perryfields)"),
        (["--policy", "bpet", "--config", str(EXAMPLE)], "{}", "give --policy or --config, not both"),
        (["--config", "/nonexistent/school.yaml"], "{}", "/nonexistent/school.yaml: no such file"),
        (["--bogus"], "{}", "No such option '--bogus'"),
    ],
)
def test_bad_input_is_one_line_on_stderr_with_exit_2(args: list[str], stdin: str, message: str) -> None:
    result = safeguard("route", *args, stdin=stdin)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("safeguard: error: ")
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_an_invalid_policy_file_names_the_file_and_field(tmp_path: Path) -> None:
    data = minimal_policy()
    data["rules"]["misuse"]["ack_within_minutes"] = "soon"
    path = write_yaml(tmp_path / "ours.yaml", data)
    result = safeguard("route", "--policy", str(path), stdin='{"category": "misuse", "subject": "pupil"}')
    assert result.returncode == 2 and result.stdout == ""
    assert f"{path}: rules.misuse.ack_within_minutes: expected a whole number of at least 1, found 'soon'" in result.stderr


def test_route_refuses_a_policy_that_fails_its_check(tmp_path: Path) -> None:
    data = minimal_policy()
    data["rules"]["misuse"]["informed"] = ["ict_technician"]
    path = write_yaml(tmp_path / "ours.yaml", data)
    result = safeguard("route", "--policy", str(path), stdin='{"category": "misuse", "subject": "pupil"}')
    assert result.returncode == 2 and result.stdout == ""
    assert "cannot be used: rules.misuse: role 'ict_technician' is not defined under roles" in result.stderr


@pytest.mark.parametrize("preset", ["st-leonards", "principal-slt", "bpet", "mersham", "perryfields"])
def test_policy_check_passes_every_preset(preset: str) -> None:
    result = safeguard("policy", "check", "--policy", preset)
    assert (result.returncode, result.stdout) == (0, f"policy {preset}: no findings\n")


def test_policy_check_passes_the_example_school() -> None:
    result = safeguard("policy", "check", "--config", str(EXAMPLE))
    assert (result.returncode, result.stdout) == (0, "Oakfield Lower School: no findings\n")


def test_policy_check_lists_findings_and_exits_1(tmp_path: Path) -> None:
    path = write_yaml(tmp_path / "school.yaml", {
        "school": "Tiny School", "policy": "st-leonards",
        "people": [{"id": "head", "name": "Test Head", "roles": ["headteacher", "dsl"]}],
    })
    result = safeguard("policy", "check", "--config", str(path))
    assert result.returncode == 1
    assert result.stdout.startswith("Tiny School: ")
    assert "- people: nobody holds chair_of_governors (Chair of governors)" in result.stdout


def test_policy_explain_prints_the_table_with_sources() -> None:
    result = safeguard("policy", "explain", "--policy", "mersham")
    assert result.returncode == 0
    assert "Routing table: Mersham Primary School Social Media Policy (September 2024)" in result.stdout
    assert "A pupil or parent tried to friend, follow or contact staff on a personal account [friend_request]" in result.stdout
    assert ("  About the Headteacher; the Designated Safeguarding Lead (DSL):\n"
            "    Owner: Chair of Governors, to acknowledge within 1 hour of school hours") in result.stdout
    assert 'Because: Mersham policy, Communicating with Pupils and their Families: "Any communication' in result.stdout
    assert "Signed off by the headteacher" in result.stdout


def test_policy_explain_with_a_config_names_the_people() -> None:
    result = safeguard("policy", "explain", "--config", str(EXAMPLE))
    assert result.returncode == 0
    assert "School: Oakfield Lower School" in result.stdout
    assert "Owner: Chair of governors (Helen Brooks)" in result.stdout


def test_demo_runs_on_the_example_school() -> None:
    result = safeguard("demo")
    assert result.returncode == 0, result.stderr
    assert "Safeguard routing demo: Oakfield Lower School" in result.stdout
    assert "Must acknowledge within 15 min: Designated safeguarding lead (DSL): Sam Morgan" in result.stdout
    assert "Must acknowledge within 60 min: Chair of governors: Helen Brooks" in result.stdout


@pytest.mark.parametrize("args", [(), ("policy",)])
def test_a_command_alone_prints_its_help(args: tuple[str, ...]) -> None:
    result = safeguard(*args)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith("Usage: safeguard")
