"""The benchmarks run and give numbers (bench/): a tiny run, with no figure read against any target."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


# Each server benchmark on its own, so the test workers run them side by side (they are the suite's longest).
SERVER_BENCHMARKS = {"ack": "Slack event acknowledgement", "alert": "Report sent to alert at the DSL's Slack",
                     "burst": "A burst of Sends, timed inside", "memory": "Memory with half-finished dialogs"}


@pytest.mark.parametrize("name", SERVER_BENCHMARKS)
def test_the_server_benchmarks_run_and_produce_numbers(name: str, tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    run = subprocess.run(
        [sys.executable, "-m", "bench", name, "--quick", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    sections = {section["title"]: section["figures"] for section in json.loads(out.read_text())["sections"]}
    assert set(sections) == {SERVER_BENCHMARKS[name]}
    for title, figures in sections.items():
        assert figures, title
        for figure in figures:
            assert isinstance(figure["value"], float | int) and math.isfinite(figure["value"]), (title, figure)
    assert "| Measure | Value |" in run.stdout  # the Markdown tables RESULTS.md is made from


def test_the_scale_benchmark_runs_one_process_and_two_on_a_tiny_generated_trust(tmp_path: Path) -> None:
    # On PostgreSQL when TEST_DATABASE_URL names one (a scratch database is made there), else on SQLite.
    out = tmp_path / "figures.json"
    run = subprocess.run(
        [sys.executable, "-m", "bench", "scale", "--quick", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    [section] = json.loads(out.read_text())["sections"]
    figures = {figure["what"]: figure["value"] for figure in section["figures"]}
    assert {"one process: reports a second, flat out", "two processes: reports a second, flat out",
            "throughput, two processes over one"} <= set(figures)
    assert all(isinstance(value, float | int) and math.isfinite(value) and value > 0 for value in figures.values()), figures
