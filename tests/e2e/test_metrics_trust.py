"""GET /metrics in a trust: each school's figures under its code, never its name, and never another school's mixed in."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.vocabulary import Category
from tests.builders import example_trust_with_ids
from tests.e2e.reports import submit
from tests.e2e.slack_rig import Rig
from tests.e2e.test_metrics import sample, scrape


@pytest.fixture
def school_file(tmp_path: Path) -> Path:
    """The example trust, everyone with a Slack id."""
    return example_trust_with_ids(tmp_path, "slack")


async def test_each_school_is_counted_under_its_code(rig: Rig) -> None:
    schools = {school.id: school for school in rig.app.trust.schools}
    hollins = rig.app.for_school(schools["hol"])
    reference = await submit(hollins, reporter="wprice")
    await submit(rig.app.for_school(schools["bpa"]), reporter="gmarsh", category=Category.INAPPROPRIATE_CONTENT,
                 details={"Nature of inappropriate content": "A violent clip (made-up)."})
    rig.clock.advance(24 * 60)
    _, text = await scrape(rig)
    assert sample(text, "safeguard_reports_received_total", school="hol", category="pupil_disclosure") == 1
    assert sample(text, "safeguard_reports_received_total", school="bpa", category="inappropriate_content") == 1
    assert sample(text, "safeguard_reports_received_total", school="oak", category="pupil_disclosure") == 0
    assert sample(text, "safeguard_reports_overdue", school="hol") == 1
    assert sample(text, "safeguard_reports_overdue", school="oak") == 0
    for school in schools.values():
        assert f'school="{school.name}"' not in text
    assert reference not in text and "made-up" not in text
