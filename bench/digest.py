"""The weekly digest over 10k, 100k and 1M stored reports, on SQLite and (given a server) PostgreSQL.

One store per database is grown in steps, so each size is measured on the same reports as the
last plus more. At each size the digest for 2026-W47 is computed as the weekly job computes it
(`bot.digest.weekly.weekly_figures`, then `render`), on an engine without keys (the digest never reads
report text); the chart (`bot.digest.chart.chart_png`) is timed on its own.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time


from bench.dataset import grow
from bench.figures import Options, Section
from bench.processes import scratch_database
from bench.stories import NOW
from bot.app import App
from bot.digest.chart import chart_png
from bot.examples import EXAMPLE_SCHOOL
from bot.digest.weekly import last_complete_week, render, weekly_figures
from routing.school import School, load_school
from storage.crypto import new_key, parse_keys
from storage.db import create_engine, sessionmaker

SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (300, 1_000)
RUNS = 5
TARGET_SECONDS = 2.0  # at a million reports, on SQLite (issue 6)


def measure(options: Options) -> Section:
    """The digest's figures and text, and its chart, at each size; the first (cold) run and warm runs."""
    return asyncio.run(_measure(options))


async def _measure(options: Options) -> Section:
    section = Section("Weekly digest (2026-W47) over a growing store")
    school = load_school(EXAMPLE_SCHOOL)
    sizes = QUICK_SIZES if options.quick else SIZES
    await _backend(section, "SQLite", f"sqlite+aiosqlite:///{options.workdir / 'digest.db'}", school, sizes, options)
    if options.postgres:
        async with scratch_database(options, "digest") as url:
            await _backend(section, "PostgreSQL", url, school, sizes, options)
    else:
        section.notes.append("PostgreSQL not measured: give --postgres URL (or set TEST_DATABASE_URL).")
    section.notes.append("Each size: the first run on a new engine (cold), then warm runs on it; "
                         "the chart's first draw also imports matplotlib, so its median is of the later draws.")
    return section


async def _backend(section: Section, name: str, url: str, school: School, sizes: tuple[int, ...],
                   options: Options) -> None:
    keys = parse_keys(new_key(), source="the benchmark's key")
    runs = 2 if options.quick else RUNS
    for size in sizes:
        print(f"digest: {name}: growing the store to {size:,} reports", file=sys.stderr, flush=True)
        grown = await grow(url, keys, size, school=school)
        engine = create_engine(url, keys=None)  # the digest reads no report text: an engine that cannot
        app = App(school=school, sessions=sessionmaker(engine), clock=lambda: NOW)
        week = last_complete_week(NOW, app.zone)
        digest_times, chart_times = [], []
        try:
            for _ in range(runs + 1):
                started = time.perf_counter()
                figures = await weekly_figures(app, week)
                text = render(app, figures)
                digest_times.append(time.perf_counter() - started)
                started = time.perf_counter()
                chart = chart_png(figures)
                chart_times.append(time.perf_counter() - started)
        finally:
            await engine.dispose()
        if not figures.totals[-1] or not text or not chart:
            raise RuntimeError(f"the digest of {week.label} came out empty over {size:,} reports")
        print(f"digest: {name}, {size:,} reports: first run {digest_times[0]:.3f} s, "
              f"median {statistics.median(digest_times[1:]):.3f} s", file=sys.stderr, flush=True)
        target = TARGET_SECONDS * 1000 if name == "SQLite" and size == max(sizes) and not options.quick else None
        cold, warm = digest_times[0], digest_times[1:]
        label = f"{name}, {size:,} reports"
        section.add(f"{label}: figures + text, median of {runs} warm runs", statistics.median(warm) * 1000, "ms",
                    below=target)
        section.add(f"{label}: figures + text, slowest warm run", max(warm) * 1000, "ms", below=target)
        section.add(f"{label}: figures + text, first run (cold)", cold * 1000, "ms", below=target)
        section.add(f"{label}: chart, median of {runs} draws", statistics.median(chart_times[1:]) * 1000, "ms")
        section.notes.append(
            f"{label}: store grown by {grown.added:,} reports in {grown.seconds:.1f} s ({grown.events:,} events "
            f"in all); W47 holds {figures.totals[-1]:,} reports, {figures.open_total:,} still open.")
