"""What a benchmark reports: figures with their unit and target, printed as a table and kept as JSON."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Options:
    """How big to run: `quick` is the smoke run's size (seconds, not minutes), never a real figure."""

    quick: bool = False
    postgres: str | None = None  # a PostgreSQL URL whose server may create a scratch database
    workdir: Path = Path(".")


@dataclass(frozen=True)
class Figure:
    """One measured number: what it is, its value and unit, and the target it is read against."""

    what: str
    value: float
    unit: str
    target: str = ""  # as the issue sets it: "< 100 ms", ">= 0.7"
    met: bool | None = None  # None when there is no target to meet


@dataclass
class Section:
    """One benchmark's figures, with notes saying how they were taken."""

    title: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, what: str, value: float, unit: str, *, below: float | None = None,
            at_least: float | None = None) -> Figure:
        """Record a figure; `below` or `at_least` is its target, if it has one."""
        target, met = "", None
        if below is not None:
            target, met = f"< {below:g} {unit}".rstrip(), value < below
        elif at_least is not None:
            target, met = f">= {at_least:g} {unit}".rstrip(), value >= at_least
        figure = Figure(what, value, unit, target, met)
        self.figures.append(figure)
        return figure


def percentile(values: Sequence[float], fraction: float) -> float:
    """The value below which `fraction` of `values` lie (nearest rank: a value that was measured)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def shown(value: float) -> str:
    """A figure to three significant digits, whole numbers from 1,000 up."""
    if math.isnan(value):
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def markdown(section: Section) -> str:
    """A section as a Markdown table, ready for bench/RESULTS.md."""
    lines = [f"### {section.title}", "", "| Measure | Value | Target | Met |", "|---|---:|---|---|"]
    for figure in section.figures:
        met = "" if figure.met is None else ("yes" if figure.met else "**no**")
        lines.append(f"| {figure.what} | {shown(figure.value)} {figure.unit} | {figure.target} | {met} |")
    lines += [""] + [f"- {note}" for note in section.notes]
    return "\n".join(lines).rstrip() + "\n"


def write_json(path: Path, sections: Sequence[Section], machine: dict[str, str]) -> None:
    """All sections as JSON, for comparing runs."""
    data = {"machine": machine, "sections": [asdict(section) for section in sections]}
    path.write_text(json.dumps(data, indent=2, allow_nan=True) + "\n", encoding="utf-8")
