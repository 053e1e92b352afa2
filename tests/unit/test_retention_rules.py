"""The `retention:` section of a school config: periods, which rule wins, and refusals naming the file and field."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from bot.cases.messages import CLOSE_DECISIONS
from bot.examples import EXAMPLE_SCHOOL
from routing.retention import DECISIONS, Period, parse_period
from routing.school import load_school
from routing.yamlfields import InputError
from tests.builders import write_yaml


def config(tmp_path: Path, retention: object) -> Path:
    data = yaml.safe_load(EXAMPLE_SCHOOL.read_text(encoding="utf-8"))
    data["retention"] = retention
    return write_yaml(tmp_path / "school.yaml", data)


def test_the_decisions_are_those_a_report_is_closed_with() -> None:
    assert DECISIONS == tuple(CLOSE_DECISIONS)


@pytest.mark.parametrize(("written", "period"), [
    ("P6Y", Period(years=6)), ("P18M", Period(months=18)), ("P90D", Period(days=90)), (6, Period(years=6)),
    ("P1Y6M", Period(years=1, months=6)), ("p2w", Period(days=14)),
])
def test_periods_are_read_iso_style_or_as_years(written: object, period: Period) -> None:
    assert parse_period(written) == period


def test_a_period_counts_calendar_months() -> None:
    assert Period(months=1).after(datetime(2027, 1, 31, tzinfo=UTC)) == datetime(2027, 2, 28, tzinfo=UTC)
    assert Period(years=6).after(datetime(2026, 11, 20, tzinfo=UTC)) == datetime(2032, 11, 20, tzinfo=UTC)


def test_the_most_specific_rule_wins_and_the_defaults_stay_where_not_replaced(tmp_path: Path) -> None:
    school = load_school(config(tmp_path, {"default": "P2Y", "handed_on": "P1M", "rules": [
        {"category": "misuse", "keep": "P3Y"},
        {"decision": "police", "keep": "P30Y"},
        {"category": "misuse", "decision": "police", "keep": "P40Y"},
    ]}))
    rule = school.retention.rule_for
    assert rule("misuse", "police", handed_on=False).name == "category misuse, decision police: P40Y"
    assert rule("friend_request", "police", handed_on=False).name == "decision police: P30Y"
    assert rule("misuse", "no_further_action", handed_on=False).name == "category misuse: P3Y"
    assert rule("friend_request", "no_further_action", handed_on=False).name == "default: P2Y"
    assert rule("misuse", "police", handed_on=True).name == "handed on: P1M"
    # Built-in rules the school did not replace still apply: child protection is kept 25 years.
    assert rule("pupil_disclosure", "handled_in_school", handed_on=False).name == "category pupil_disclosure: P25Y"
    assert rule("colleague_concern", "lado", handed_on=False).period == Period(years=50)


def test_without_a_retention_section_the_defaults_apply() -> None:
    rule = load_school(EXAMPLE_SCHOOL).retention.rule_for
    assert rule("friend_request", "no_further_action", handed_on=False).name == "default: P6Y"
    assert rule("friend_request", None, handed_on=True).name == "handed on: P3M"


@pytest.mark.parametrize(("retention", "problem"), [
    ({"default": "six years"}, "retention.default: 'six years' is not a period"),
    ({"rules": [{"category": "gossip", "keep": "P1Y"}]}, "retention.rules[0].category: unknown category 'gossip'"),
    ({"rules": [{"decision": "shrug", "keep": "P1Y"}]}, "retention.rules[0].decision: unknown decision 'shrug'"),
    ({"rules": [{"category": "misuse"}]}, "retention.rules[0].keep: missing"),
    ({"rules": [{"keep": "P1Y"}]}, "retention.rules[0]: names neither a category nor a decision"),
    ({"handed_on": "P0D"}, "retention.handed_on: 'P0D' is a period of nothing"),
    ({"keep": "P1Y"}, "retention: unknown key 'keep'"),
])
def test_a_bad_rule_is_refused_naming_the_file_and_the_field(tmp_path: Path, retention: object, problem: str) -> None:
    path = config(tmp_path, retention)
    with pytest.raises(InputError) as error:
        load_school(path)
    assert str(error.value).startswith(f"{path}: {problem}")
