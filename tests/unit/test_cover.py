"""A school's own deadlines and ladders (cover), its school hours, and working days for the LADO clock."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.examples import EXAMPLE_SCHOOL
from routing.engine import decide
from routing.report import Report
from routing.school import load_school
from routing.vocabulary import Category, Flag, Subject
from routing.workdays import Calendar
from routing.yamlfields import InputError
from tests.builders import write_yaml

EVENING = datetime(2026, 11, 19, 21, 0, tzinfo=UTC)  # a Thursday, 21:00 in London (GMT)
MORNING = datetime(2026, 11, 19, 10, 0, tzinfo=UTC)
COVER = [{"categories": ["pupil_disclosure"], "when": "out_of_hours", "ack_within_minutes": 20,
          "escalation": ["headteacher", "deputy_dsl"]},
         {"categories": ["friend_request"], "ack_within_minutes": 480}]


def example(tmp_path: Path, **extra: Any) -> Path:
    data = yaml.safe_load(EXAMPLE_SCHOOL.read_text(encoding="utf-8"))
    data.update(extra)
    return write_yaml(tmp_path / "school.yaml", data)


def test_out_of_hours_cover_changes_the_deadline_and_ladder_only_out_of_hours(tmp_path: Path) -> None:
    school = load_school(example(tmp_path, cover=COVER))
    report = Report(Category.PUPIL_DISCLOSURE, Subject.PUPIL)
    day = decide(school.policy, report, school, at=MORNING)
    night = decide(school.policy, report, school, at=EVENING)
    assert (day.ack_within_minutes, day.escalation) == (30, ("deputy_dsl", "headteacher"))
    assert (night.ack_within_minutes, night.escalation) == (20, ("headteacher", "deputy_dsl"))
    assert night.citations[-1] == ("School config (Oakfield Lower School), cover out of school hours: acknowledge "
                                   "within 20 minutes; ladder Headteacher > Deputy DSL")
    assert night.people is not None and night.people.escalation == ("jellis", "rpatel")


def test_cover_always_applies_and_never_loosens_the_immediate_risk_deadline(tmp_path: Path) -> None:
    school = load_school(example(tmp_path, cover=COVER + [
        {"categories": ["misuse"], "ack_within_minutes": 120}]))
    assert decide(school.policy, Report(Category.FRIEND_REQUEST, Subject.PARENT), school, at=MORNING).ack_within_minutes == 480
    urgent = Report(Category.MISUSE, Subject.PUPIL, frozenset({Flag.IMMEDIATE_RISK}))
    assert decide(school.policy, urgent, school, at=MORNING).ack_within_minutes == 15, "rule 3 holds for every school"


def test_cover_never_reroutes_a_concern_about_the_headteacher_or_reaches_its_subject(tmp_path: Path) -> None:
    school = load_school(example(tmp_path, cover=[
        {"categories": ["colleague_concern"], "escalation": ["headteacher", "dsl"]}]))
    decision = decide(school.policy, Report(Category.COLLEAGUE_CONCERN, Subject.HEADTEACHER), school, at=MORNING)
    assert decision.owner == "chair_of_governors"
    assert decision.people is not None and "jellis" not in decision.people.escalation + decision.people.informed
    staff = decide(school.policy, Report(Category.COLLEAGUE_CONCERN, Subject.STAFF, subject_person="smorgan"),
                   school, at=MORNING)
    # The DSL is the person it is about, so the cover ladder loses its only rung rather than reach them.
    assert staff.escalation == () and staff.people is not None and "smorgan" not in staff.people.escalation


def test_school_hours_and_bank_holidays_decide_what_is_out_of_hours(tmp_path: Path) -> None:
    school = load_school(example(tmp_path, cover=COVER, school_hours={"days": ["mon", "tue", "wed", "thu", "fri"],
                                                                      "start": "07:30", "end": 1050}))  # 17:30 unquoted
    report = Report(Category.PUPIL_DISCLOSURE, Subject.PUPIL)
    assert decide(school.policy, report, school, at=datetime(2026, 11, 19, 17, 29, tzinfo=UTC)).ack_within_minutes == 30
    assert decide(school.policy, report, school, at=datetime(2026, 11, 19, 17, 31, tzinfo=UTC)).ack_within_minutes == 20
    assert decide(school.policy, report, school, at=datetime(2026, 12, 28, 10, 0, tzinfo=UTC)).ack_within_minutes == 20, \
        "a bank holiday is out of hours"


@pytest.mark.parametrize(("extra", "message"), [
    ({"cover": [{"categories": ["gossip"], "ack_within_minutes": 5}]}, "cover[0].categories: unknown category 'gossip'"),
    ({"cover": [{"categories": ["misuse"], "when": "weekends", "ack_within_minutes": 5}]}, "use always or out_of_hours"),
    ({"cover": [{"categories": ["misuse"]}]}, "says nothing to change"),
    ({"cover": [{"categories": ["misuse"], "escalation": ["caretaker"]}]}, "unknown role 'caretaker'"),
    ({"cover": [{"categories": ["misuse"], "ack_within_minutes": 0}]}, "at least 1"),
    ({"digest": {"day": "funday"}}, "digest.day: 'funday' is not a day of the week"),
    ({"digest": {"time": "8am"}}, "digest.time: '8am' is not a time of day"),
    ({"school_hours": {"start": "18:00", "end": "08:00"}}, "not after it starts"),
    ({"bank_holidays": "atlantis"}, "unknown bank holidays 'atlantis'"),
])
def test_bad_cover_digest_and_calendar_settings_are_refused_by_name(tmp_path: Path, extra: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        load_school(example(tmp_path, **extra))


def test_the_digest_time_is_read_in_any_usual_form(tmp_path: Path) -> None:
    school = load_school(example(tmp_path, digest={"day": "Fri", "time": "16:45"}))
    assert (school.digest.day, school.digest.at.hour, school.digest.at.minute) == (4, 16, 45)


@pytest.mark.parametrize(("at", "due"), [
    (datetime(2026, 11, 20, 15, 0, tzinfo=UTC), datetime(2026, 11, 23, 15, 0, tzinfo=UTC)),  # Friday to Monday
    (datetime(2026, 11, 21, 10, 0, tzinfo=UTC), datetime(2026, 11, 23, 10, 0, tzinfo=UTC)),  # Saturday to Monday
    (datetime(2026, 4, 2, 9, 0, tzinfo=UTC), datetime(2026, 4, 7, 9, 0, tzinfo=UTC)),  # over Easter (BST: 10:00 local)
    (datetime(2026, 10, 23, 12, 0, tzinfo=UTC), datetime(2026, 10, 26, 13, 0, tzinfo=UTC)),  # 13:00 BST, then GMT
])
def test_one_working_day_skips_weekends_and_bank_holidays_at_the_same_local_time(at: datetime, due: datetime) -> None:
    assert Calendar().add_working_days(at, 1) == due


def test_scotland_has_its_own_bank_holidays() -> None:
    scotland = Calendar(region="scotland")
    assert scotland.bank_holiday(datetime(2027, 1, 2).date()) is not None
    assert Calendar().bank_holiday(datetime(2027, 1, 2).date()) is None
