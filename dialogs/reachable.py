"""Which reports the guided report can produce: every category, subject and flag it can yield.

Found by walking the questions themselves, so it stays true when a question changes:
`safeguard policy check` routes these, not combinations no reporter can make (a friend
request about the headteacher on a school device).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from functools import cache

from dialogs.questions import ChoiceQuestion, Context, PersonQuestion
from dialogs.state import Answer, StepId
from dialogs.steps import QUESTIONS
from dialogs.summary import build_report
from routing.check import Combination
from routing.vocabulary import ABOUT_THE_REPORTER

# Stand-ins for answers that do not change routing (words, dates, web addresses).
_TYPED = Answer("x", "x")
_NAMED = "a-named-colleague"
# Choices that inform whoever reads the report but decide nothing later: one stands for all.
_NEUTRAL = {StepId.WHERE_NOW}


@cache
def reachable() -> tuple[Combination, ...]:
    """Every distinct combination the questions can yield, in the order first reached."""
    found = dict.fromkeys(_walk({}, 0))
    return tuple(found)


def _walk(answers: dict[StepId, Answer], index: int) -> Iterator[Combination]:
    ctx = Context(answers, today=date(2026, 1, 1))
    while index < len(QUESTIONS) and not QUESTIONS[index].applies(ctx):
        index += 1
    if index == len(QUESTIONS):
        report = build_report(ctx)
        # A self-referral names its reporter, who may hold any role (the headteacher, the DSL).
        named = report.subject_person is not None or report.category in ABOUT_THE_REPORTER
        yield Combination(report.category, report.subject, report.flags, named=named, target=report.target)
        return
    question = QUESTIONS[index]
    if isinstance(question, ChoiceQuestion):
        options = question.options(ctx)
        for choice in options[:1] if question.id in _NEUTRAL else options:
            yield from _walk({**answers, question.id: Answer(choice.id, choice.label)}, index + 1)
    elif isinstance(question, PersonQuestion):
        yield from _walk({**answers, question.id: Answer(_NAMED, _NAMED)}, index + 1)
    else:
        yield from _walk({**answers, question.id: _TYPED}, index + 1)
