"""Which questions a draft asks, given its answers so far, and which one comes next."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from dialogs.questions import Context
from dialogs.report import Colleague, Pupil
from dialogs.state import Answer, Evidence, StepId
from dialogs.steps import QUESTIONS


def walk(
    answers: Mapping[StepId, Answer], colleagues: Sequence[Colleague] = (), today: date | None = None,
    pupils: Sequence[Pupil] = (),
    evidence: Evidence = Evidence(),
) -> tuple[list[StepId], Context]:
    """The questions this draft asks, in order, and a context holding only the answers that still fit.

    An answer stops fitting when an earlier one changes (a new category, a different
    person): its question is then asked again, or no longer asked at all.
    """
    kept: dict[StepId, Answer] = {}
    path: list[StepId] = []
    for question in QUESTIONS:
        ctx = Context(kept, colleagues, today, pupils, evidence)
        if not question.applies(ctx):
            continue
        path.append(question.id)
        answer = answers.get(question.id)
        if answer is not None and question.accepts(answer, ctx):
            kept[question.id] = answer
    return path, Context(kept, colleagues, today, pupils, evidence)


def first_missing(path: Sequence[StepId], ctx: Context) -> StepId:
    """The first question on `path` without an answer, or the summary when all are answered."""
    return next((step for step in path if step not in ctx.answers), StepId.SUMMARY)


def passed_over(path: Sequence[StepId], answered: StepId, following: StepId) -> tuple[StepId, ...]:
    """Questions between `answered` and `following` that are skipped because they kept their answers."""
    if answered not in path:
        return ()
    start = path.index(answered) + 1
    end = len(path) if following is StepId.SUMMARY or following not in path else path.index(following)
    return tuple(path[start:end])
