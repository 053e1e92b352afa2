"""The benchmarks' generated store is one Safeguard would have written, and the benchmarks run.

The generator writes in bulk, around the lifecycle; these check that the result verifies, that
the digest counts what was generated, and that a store grown in two steps is still one log.
No wall-clock time is asserted: the benchmarks print those (`python -m bench`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bench import digest as digest_bench
from bench import verify as verify_bench
from bench.dataset import Tally, grow
from bench.figures import Options, Section
from bench.stories import NOW
from bot.app import App
from bot.examples import EXAMPLE_SCHOOL
from bot.digest.readers import SCHOOL_CASE_OWNERS
from bot.digest.weekly import last_complete_week, weekly_figures
from routing.school import load_school
from storage.db import create_engine, sessionmaker
from storage.log import verify
from storage.models import Event, Report, RoutingDecision
from storage.weekly import STILL_OPEN
from tests.builders import TEST_KEYS


async def test_a_generated_store_verifies_and_the_digest_counts_what_was_generated(database_url: str) -> None:
    school = load_school(EXAMPLE_SCHOOL)
    tally = Tally()
    first = await grow(database_url, TEST_KEYS, 400, school=school, tally=tally)
    grown = await grow(database_url, TEST_KEYS, 900, school=school, tally=tally)  # a second step goes on from the first
    assert (first.reports, grown.added, grown.reports) == (400, 500, 900)
    assert grown.events == sum(tally.events.values())
    engine = create_engine(database_url, keys=TEST_KEYS)
    try:
        async with sessionmaker(engine)() as session:
            result = await verify(session)
        assert result.ok, result.problem
        assert result.checked == grown.events
        app = App(school=school, sessions=sessionmaker(engine), clock=lambda: NOW)
        week = last_complete_week(NOW, app.zone)
        figures = await weekly_figures(app, week)
        # A digest read by a governor leaves out the reports owned beyond the school's case owners
        # (those about the headteacher: bot/digest/readers.py), so they are taken off what was generated.
        async with sessionmaker(engine)() as session:
            beyond = (await session.execute(
                select(Report.created_at, Report.category, Report.status, Report.reference)
                .join(RoutingDecision, RoutingDecision.report_id == Report.id)
                .where(RoutingDecision.owner_role.not_in(sorted(SCHOOL_CASE_OWNERS))))).all()
            their_events = (await session.execute(select(Event.at, Event.kind).where(
                Event.report_ref.in_([reference for *_, reference in beyond])))).all()
    finally:
        await engine.dispose()
    assert beyond, "the generator makes some reports about the headteacher"
    zone = app.zone
    left_out = Counter((at.astimezone(zone).date(), category, status) for at, category, status, _ in beyond)
    mondays = [week.shifted(offset).monday for offset in range(-4, 1)]
    expected: dict[str, list[int]] = {}
    for (day, category, status), count in (tally.reports - left_out).items():
        for index, monday in enumerate(mondays):
            if monday <= day < monday + timedelta(days=7):
                expected.setdefault(category, [0] * 5)[index] += count
    assert {c: counts for c, counts in figures.by_category.items() if any(counts)} == expected
    sunday = week.monday + timedelta(days=6)
    assert figures.open_total == sum(count for (day, _, status), count in (tally.reports - left_out).items()
                                     if status in STILL_OPEN and day <= sunday)
    in_week: Counter[str] = Counter()
    for (day, kind), count in (tally.events - Counter((at.astimezone(zone).date(), kind)
                                                      for at, kind in their_events)).items():
        if week.monday <= day <= sunday:
            in_week[kind] += count
    assert (figures.escalations, figures.reminders, figures.undelivered) == (
        in_week["escalated"], in_week["reminded"], in_week["delivery_failed"])
    assert figures.log_seq == grown.events


@pytest.mark.parametrize("measure", [digest_bench.measure, verify_bench.measure], ids=["digest", "verify"])
def test_the_benchmarks_run_at_their_quick_size(measure: Callable[[Options], Section], tmp_path: Path) -> None:
    section = measure(Options(quick=True, workdir=tmp_path))
    assert section.figures
    assert all(math.isfinite(figure.value) and figure.value >= 0 for figure in section.figures)
