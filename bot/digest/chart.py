"""The digests' charts as PNGs: a school's reports per week stacked by category; a trust's schools side by side.

Drawn on matplotlib's Agg canvas (a Figure, never pyplot): no display, no global state, so a
server can draw it on a worker thread. It shows category labels, week labels and counts only;
the digest's text stands on its own without it (issue 6).
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Mapping, Sequence
from typing import Protocol

from routing.vocabulary import CATEGORY_LABELS, Category

# Colour-blind-safe (Okabe-Ito), one per category in vocabulary order.
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
LEGEND_WIDTH = 42  # characters, so the long category labels wrap beside a phone-sized chart


class Counts(Protocol):
    """What the chart draws from (the digest's Figures): week labels, oldest first, and counts per category."""

    @property
    def weeks(self) -> Sequence[str]: ...

    @property
    def by_category(self) -> Mapping[str, Sequence[int]]: ...


def chart_png(figures: Counts) -> bytes:
    """A stacked bar chart of reports per week, oldest first, one colour per category."""
    # Imported here: matplotlib takes a while to load, and most commands never draw.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    weeks, by_category = figures.weeks, figures.by_category
    figure = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(weeks)))
    below = [0] * len(weeks)
    for index, category in enumerate(_ordered(by_category)):
        counts = list(by_category[category])
        if not any(counts):
            continue
        label = CATEGORY_LABELS[Category(category)] if category in set(Category) else category
        axes.bar(positions, counts, bottom=below, color=COLOURS[index % len(COLOURS)],
                 label=textwrap.fill(label, LEGEND_WIDTH), width=0.6)
        below = [b + c for b, c in zip(below, counts, strict=True)]
    axes.set_xticks(positions, [_short(week) for week in weeks])
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylim(0, max([*below, 1]) * 1.15)
    axes.set_ylabel("Reports")
    axes.set_title(f"Reports per week, to {weeks[-1]}")
    axes.spines[["top", "right"]].set_visible(False)
    if any(below):
        handles, labels = axes.get_legend_handles_labels()
        # Listed top to bottom as the bars stack, so the legend reads like the tallest bar.
        axes.legend(handles[::-1], labels[::-1], loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=8,
                    frameon=False)
    figure.tight_layout()
    out = io.BytesIO()
    # No "Software" stamp: nothing in the file but the picture.
    figure.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def _ordered(by_category: Mapping[str, Sequence[int]]) -> list[str]:
    """Categories in vocabulary order (so each keeps its colour week to week), then any others."""
    known = [c.value for c in Category if c.value in by_category]
    return known + sorted(set(by_category) - set(known))


def _short(week: str) -> str:
    """`2026-W47` as `W47`: the year is in the title."""
    return week.split("-", 1)[-1]


def schools_png(week: str, schools: Sequence[str], series: Mapping[str, Sequence[int]]) -> bytes:
    """Grouped bars comparing a trust's schools (by code) in one week: one bar per series in each school's group."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    width = 0.8 / max(len(series), 1)
    tallest = 1
    for index, (label, counts) in enumerate(series.items()):
        offset = (index - (len(series) - 1) / 2) * width
        axes.bar([position + offset for position in range(len(schools))], list(counts), width=width,
                 color=COLOURS[index % len(COLOURS)], label=label)
        tallest = max([tallest, *counts])
    axes.set_xticks(list(range(len(schools))), list(schools))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylim(0, tallest * 1.15)
    axes.set_ylabel("Reports")
    axes.set_title(f"Schools compared, {_short(week)} of {week.split('-', 1)[0]}")
    axes.spines[["top", "right"]].set_visible(False)
    axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=8, frameon=False)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()
