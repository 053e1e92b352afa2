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


# A preview of each kind of message both channels send (so none escapes the check by not being sent).
EVERY_KIND = ("a question about your report", "please read this message", "important", "check your report",
              "has been received", "new report for you to acknowledge", "you can't act on that report",
              "an update", "now acknowledged", "your report was acknowledged", "escalated report",
              "a report still to acknowledge", "needs something recorded", "could not be delivered",
              "weekly digest", "haven't finished")


def leaks(previews: Iterable[str], words: list[str]) -> list[tuple[str, str]]:
    """Each (preview, word) where a preview carries a forbidden word, case aside."""
    return [(shown, word) for shown in previews for word in words if word.casefold() in shown.casefold()]


def check(previews: list[str], app: App, typed: tuple[str, ...], kinds: tuple[str, ...] = EVERY_KIND) -> None:
    """Every preview is Safeguard's, none carries a forbidden word, and each kind of message was among them."""
    assert leaks(previews, forbidden(app, *typed)) == []
    assert all(p.startswith("Safeguard: ") for p in previews), previews
    said = "\n".join(previews)
    for kind in kinds:
        assert kind in said, f"no {kind!r} among {sorted(set(previews))}"
