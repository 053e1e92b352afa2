"""The kinds of question (choice, text, date, web address, person) and how each reads an answer."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from dialogs.prompts import Choice, InputKind, Reply
from dialogs.report import Colleague, Pupil
from dialogs.state import Answer, Evidence, StepId
from dialogs.validation import Invalid, clean_text, normalise, parse_date, parse_urls, show_date
from routing.vocabulary import Category

# Built once: `category` is asked for by most questions' conditions, for each question, on every
# message (dialogs.progress.walk), and building the set each time was a tenth of the dialog's CPU.
CATEGORIES = frozenset(Category)


@dataclass(frozen=True)
class Context:
    """What a question may look at: the answers that still hold, the staff directory, today, the pupil roster, the screenshots."""

    answers: Mapping[StepId, Answer]
    colleagues: Sequence[Colleague] = ()
    today: date | None = None
    pupils: Sequence[Pupil] = ()  # empty: the school has imported no roster, so names are typed
    evidence: Evidence = Evidence()
    # Whether the school can send a report without the reporter's name (a relay key is set: dialogs/anonymity.py).
    anonymity: bool = False

    @property
    def category(self) -> Category | None:
        """The category chosen, if any."""
        answer = self.answers.get(StepId.CATEGORY)
        return None if answer is None or answer.value not in CATEGORIES else Category(answer.value)

    def value(self, step: StepId) -> str | None:
        """The value answered at `step`, if any."""
        answer = self.answers.get(step)
        return None if answer is None else answer.value


Predicate = Callable[[Context], bool]
Wording = str | Callable[[Context], str]
Options = tuple[Choice, ...] | Callable[[Context], tuple[Choice, ...]]


def _no_replies(answer: Answer, ctx: Context) -> list[Reply]:
    return []


@dataclass(frozen=True)
class Question:
    """One question: when it is asked, its wording, and where its answer goes in the report."""

    id: StepId
    wording: Wording
    applies: Predicate
    detail: Wording | None = None  # the key of ReportDraft.details this answer fills, if any
    before: Callable[[], list[Reply]] = list  # said each time the question is shown afresh
    after: Callable[[Answer, Context], list[Reply]] = _no_replies  # said once it is answered
    input: InputKind = InputKind.CHOICE
    max_length: int | None = None
    back_label: str | None = None  # what its Back button says, where going back means more than "Back"

    def text(self, ctx: Context) -> str:
        """The question's wording for this draft."""
        return self.wording if isinstance(self.wording, str) else self.wording(ctx)

    def detail_key(self, ctx: Context) -> str | None:
        """The key of ReportDraft.details its answer fills, if any."""
        if self.detail is None:
            return None
        return self.detail if isinstance(self.detail, str) else self.detail(ctx)

    def options(self, ctx: Context) -> tuple[Choice, ...]:
        """The choices that answer it (Back, Cancel and Keep are added by the flow)."""
        return ()

    def accepts(self, answer: Answer, ctx: Context) -> bool:
        """Whether a kept answer still fits (a choice may differ once the category changes)."""
        return True

    def parse(self, text: str, chosen: Choice | None, ctx: Context) -> Answer | Invalid:
        """Read what the reporter sent; `chosen` is one of `options` if their input named one."""
        raise NotImplementedError


@dataclass(frozen=True)
class ChoiceQuestion(Question):
    """Pick one of a few options."""

    choices: Options = ()

    def options(self, ctx: Context) -> tuple[Choice, ...]:
        return self.choices if isinstance(self.choices, tuple) else self.choices(ctx)

    def accepts(self, answer: Answer, ctx: Context) -> bool:
        return answer.value in {c.id for c in self.options(ctx)}

    def parse(self, text: str, chosen: Choice | None, ctx: Context) -> Answer | Invalid:
        if chosen is None:
            return Invalid(f"{_quote(text)} isn't one of the options. Please choose one of them.")
        return Answer(chosen.id, chosen.label)


@dataclass(frozen=True)
class TextQuestion(Question):
    """Type a few words, up to `max_length` characters; `skip` lets an optional one be left out."""

    input: InputKind = InputKind.TEXT
    skip: Choice | None = None
    skipped: str = "Not known"

    def options(self, ctx: Context) -> tuple[Choice, ...]:
        return () if self.skip is None else (self.skip,)

    def parse(self, text: str, chosen: Choice | None, ctx: Context) -> Answer | Invalid:
        if chosen is not None and chosen == self.skip:
            return Answer("", self.skipped)
        cleaned = clean_text(text, self.max_length or 1000)
        return cleaned if isinstance(cleaned, Invalid) else Answer(cleaned, cleaned)


TODAY = Choice("today", "Today")
YESTERDAY = Choice("yesterday", "Yesterday")


@dataclass(frozen=True)
class DateQuestion(Question):
    """A date that has happened: Today, Yesterday, dd/mm/yyyy or yyyy-mm-dd."""

    input: InputKind = InputKind.DATE

    def options(self, ctx: Context) -> tuple[Choice, ...]:
        return (TODAY, YESTERDAY)

    def parse(self, text: str, chosen: Choice | None, ctx: Context) -> Answer | Invalid:
        assert ctx.today is not None, "dates are read against the school's today"
        when = parse_date(text if chosen is None else chosen.id, ctx.today)
        return when if isinstance(when, Invalid) else Answer(when.isoformat(), show_date(when))


@dataclass(frozen=True)
class UrlQuestion(Question):
    """One or more full web addresses."""

    input: InputKind = InputKind.URL

    def parse(self, text: str, chosen: Choice | None, ctx: Context) -> Answer | Invalid:
        if self.max_length is not None and len(text) > self.max_length:
            return Invalid(f"That is {len(text):,} characters. Please keep it to {self.max_length:,} or fewer.")
        urls = parse_urls(text)
        return urls if isinstance(urls, Invalid) else Answer("\n".join(urls), "\n".join(urls))


@dataclass(frozen=True)
class PersonQuestion(Question):
    """A member of staff from the directory, chosen or typed by name (case does not matter)."""

    input: InputKind = InputKind.PERSON

    def options(self, ctx: Context) -> tuple[Choice, ...]:
        return tuple(Choice(c.id, c.name) for c in ctx.colleagues)

    def parse(self, text: str, chosen: Choice | None, ctx: Context) -> Answer | Invalid:
        key = normalise(text)
        named = [c for c in ctx.colleagues if normalise(c.name) == key]
        # Two people with one name: a tap (which sends the id) tells them apart, typing cannot.
        if len(named) > 1 and not any(normalise(c.id) == key for c in ctx.colleagues):
            return Invalid(f"More than one member of staff is called {text.strip()}. Please choose from the list.")
        if chosen is None:
            return Invalid(
                f"I can't find {_quote(text)} in the staff directory. "
                "Please type their full name, or choose from the list."
            )
        return Answer(chosen.id, chosen.label)


def _quote(text: str) -> str:
    shown = " ".join(text.split())
    return repr(shown if len(shown) <= 40 else shown[:37] + "...")
