"""Which pupil: typed, or found on the school's roster by part of a name and then picked.

Channel-neutral type-to-filter in three questions per pupil: a search (the name, or part of
it), a pick from the pupils it matches (with "Not on the list" to keep the name as typed, and
Back as "Search again"), then, for a name not on the roster, the year group or class.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dialogs.prompts import Choice, InputKind
from dialogs.questions import ChoiceQuestion, Context, Predicate, TextQuestion, Wording
from dialogs.report import NamedPupil, Pupil, PupilRole
from dialogs.state import Answer, StepId
from dialogs.validation import Invalid, clean_text, normalise

MATCHES = 8  # pupils offered at once: a phone screen of buttons
NAME_LENGTH = 100
DONT_KNOW = Choice("dont_know", "I don't know")
NOT_LISTED = Choice("typed", "Not on the list")
SKIP_YEAR = Choice("skip", "Skip")
SEARCH_AGAIN = "Search again"  # the pick question's Back: the search comes just before it
PICKED = "p"  # a roster pupil's choice id is PICKED + their id, never a number a console user might type


@dataclass(frozen=True)
class Slot:
    """One pupil a report may name: its three questions, when they are asked, and the pupil's role."""

    search: StepId
    pick: StepId
    year: StepId
    applies: Predicate
    role: Callable[[Context], PupilRole]
    ask: Callable[[Context], str]  # "Which child told you?"
    key: Callable[[Context], str]  # the key of the report's details this pupil fills
    unknown: Predicate  # whether "I don't know" is an answer (content seen on a shared screen)

    def named(self, ctx: Context) -> NamedPupil | None:
        """The pupil the answers name; None if not asked, not answered, or not known."""
        search = ctx.answers.get(self.search)
        if not self.applies(ctx) or search is None or search.value == "":
            return None
        picked = ctx.value(self.pick)
        if picked is not None and picked != NOT_LISTED.id:
            pupil = on_roster(ctx.pupils, picked)
            if pupil is not None:
                return NamedPupil(self.role(ctx), pupil.name, pupil.year, pupil.id)
        return NamedPupil(self.role(ctx), search.value, ctx.value(self.year) or "")

    def shown(self, ctx: Context) -> str | None:
        """What the report's details say of this pupil, if the question was answered."""
        if self.search not in ctx.answers:
            return None
        named = self.named(ctx)
        return named.shown if named is not None else "Not known"

    def searched(self, ctx: Context) -> bool:
        """Whether a name (not "I don't know") was given."""
        return self.applies(ctx) and bool(ctx.value(self.search))


def on_roster(pupils: Sequence[Pupil], choice_id: str) -> Pupil | None:
    """The roster pupil a pick names."""
    return next((p for p in pupils if PICKED + p.id == choice_id), None)


def matches(pupils: Sequence[Pupil], text: str) -> list[Pupil]:
    """The roster pupils every typed word is part of (name or year), in name order."""
    words = normalise(text).split()
    if not words:
        return []
    found = [p for p in pupils if all(w in normalise(f"{p.name} {p.year}") for w in words)]
    return sorted(found, key=lambda p: (normalise(p.name), normalise(p.year), p.id))


@dataclass(frozen=True)
class PupilSearchQuestion(TextQuestion):
    """Which pupil: their name typed, or (with a roster) part of it to search for."""

    slot: Slot | None = None

    def text(self, ctx: Context) -> str:
        assert self.slot is not None
        ask = self.slot.ask(ctx)
        return f"{ask} Type part of their name to find them." if ctx.pupils else f"{ask} Type their name."

    def options(self, ctx: Context) -> tuple[Choice, ...]:
        assert self.slot is not None
        return (DONT_KNOW,) if self.slot.unknown(ctx) else ()

    def parse(self, text: str, chosen: Choice | None, ctx: Context) -> Answer | Invalid:
        if chosen == DONT_KNOW:
            return Answer("", "Not known")
        cleaned = clean_text(text, NAME_LENGTH)
        return cleaned if isinstance(cleaned, Invalid) else Answer(cleaned, cleaned)


@dataclass(frozen=True)
class PupilPickQuestion(ChoiceQuestion):
    """The roster pupils the search matched, to pick one; or keep the name as typed."""

    slot: Slot | None = None
    back_label: str = SEARCH_AGAIN

    def text(self, ctx: Context) -> str:
        assert self.slot is not None
        typed = ctx.value(self.slot.search) or ""
        found = matches(ctx.pupils, typed)
        quoted = repr(" ".join(typed.split())[:40])
        if not found:
            return (f"No pupil on the roster matches {quoted}. Choose Not on the list to keep the name as "
                    f"you typed it, or {SEARCH_AGAIN}.")
        more = f" Showing the first {MATCHES} of {len(found)}: {SEARCH_AGAIN} with more of the name to narrow it." \
            if len(found) > MATCHES else ""
        return f"Which pupil? These match {quoted}.{more}"

    def options(self, ctx: Context) -> tuple[Choice, ...]:
        assert self.slot is not None
        found = matches(ctx.pupils, ctx.value(self.slot.search) or "")
        return (*(Choice(PICKED + p.id, p.shown) for p in found[:MATCHES]), NOT_LISTED)


@dataclass(frozen=True)
class PupilYearQuestion(TextQuestion):
    """The year group or class of a pupil whose name was typed (no roster, or not on it)."""

    slot: Slot | None = None

    def text(self, ctx: Context) -> str:
        assert self.slot is not None
        name = " ".join((ctx.value(self.slot.search) or "").split())
        return f"Which year group or class is {name} in? Type it, or Skip."


def questions(slot: Slot) -> tuple[PupilSearchQuestion, PupilPickQuestion, PupilYearQuestion]:
    """The three questions that ask for one pupil."""

    def picking(ctx: Context) -> bool:
        return bool(ctx.pupils) and slot.searched(ctx)

    def typed(ctx: Context) -> bool:
        return slot.searched(ctx) and (not ctx.pupils or ctx.value(slot.pick) == NOT_LISTED.id)

    wording: Wording = ""
    return (
        PupilSearchQuestion(slot.search, wording, slot.applies, max_length=NAME_LENGTH, slot=slot),
        PupilPickQuestion(slot.pick, wording, picking, slot=slot),
        PupilYearQuestion(slot.year, wording, typed, input=InputKind.TEXT, max_length=40, skip=SKIP_YEAR,
                          skipped="Not given", slot=slot),
    )
