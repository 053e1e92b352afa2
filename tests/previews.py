"""What no notification preview may carry, for the tests that read every one the bot sent."""

from __future__ import annotations

from collections.abc import Iterable

from bot.app import App
from routing.vocabulary import CATEGORY_LABELS, FLAG_LABELS, Category, Flag

# Words that say what a report is about (its category, its flags, how it is handled).
DETAIL_WORDS = ("disclos", "misuse", "friend", "colleague", "inappropriate", "illegal", "imagery", "immediate",
                "risk", "allegation", "lado", "child", "pupil", "parent", "harm", "abuse", "police", "999")


def forbidden(app: App, *typed: str) -> list[str]:
    """Everyone's name (whole, first and last), what was typed, and every category and flag word."""
    words: list[str] = list(typed)
    for person in app.school.people:
        words += [person.name, *person.name.split()]
    words += [CATEGORY_LABELS[c] for c in Category] + [FLAG_LABELS[f] for f in Flag]
    words += [c.value.replace("_", " ") for c in Category] + [f.value.replace("_", " ") for f in Flag]
    return [*words, *DETAIL_WORDS]


def leaks(previews: Iterable[str], words: list[str]) -> list[tuple[str, str]]:
    """Each (preview, word) where a preview carries a forbidden word, case aside."""
    return [(shown, word) for shown in previews for word in words if word.casefold() in shown.casefold()]
