"""Reading one answer of a request form (routing.request_form): text, an address, names, a date, ticks.

Each refusal is one line that says what to type instead. An accepted answer comes back as the
string the request keeps (names one per line, a date as YYYY-MM-DD, ticked option ids joined
by commas).
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlsplit

from dialogs.prompts import Choice
from dialogs.validation import Invalid, match_choice, normalise
from routing.request_form import FieldKind, FormField, ticked

_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_NAME_BREAKS = re.compile(r"[,;\n]+")
DONE = Choice("done", "Done")


def read_answer(asked: FormField, typed: str) -> str | Invalid:
    """The answer to keep, or why it cannot stand (not for choices fields: see `tick`)."""
    if not typed:
        return Invalid(f"Please give the {asked.label[0].lower() + asked.label[1:]}: it cannot be empty.")
    if len(typed) > asked.max_length:
        return Invalid(f"That is {len(typed)} characters. Please keep it to {asked.max_length}.")
    if asked.kind is FieldKind.URL:
        if any(c.isspace() for c in typed):
            return Invalid("Please give one address, with no spaces, like https://example.org/page.")
        parts = urlsplit(typed)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname or "." not in parts.hostname:
            return Invalid("That is not a web address. Please give the full URL, starting http:// or https://.")
    if asked.kind is FieldKind.NAMES:
        return _names(asked, typed)
    if asked.kind is FieldKind.DATE:
        return _date(typed)
    return typed


def _names(asked: FormField, typed: str) -> str | Invalid:
    given: list[str] = []
    for name in (" ".join(each.split()) for each in _NAME_BREAKS.split(typed)):
        if name and name.casefold() not in {g.casefold() for g in given}:
            given.append(name)
    if len(given) < asked.minimum:
        return Invalid(f"Please name at least {asked.minimum} different people, separated by commas "
                       f"(you gave {len(given)}): the policy asks for at least {asked.minimum}.")
    return "\n".join(given)


def _date(typed: str) -> str | Invalid:
    key = normalise(typed)
    if found := _DMY.fullmatch(key):
        day, month, year = (int(g) for g in found.groups())
    elif found := _ISO.fullmatch(key):
        year, month, day = (int(g) for g in found.groups())
    else:
        return Invalid("Please type the date as dd/mm/yyyy, for example 11/01/2027.")
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return Invalid(f"There is no such date as {typed.strip()[:20]}. Please type it as dd/mm/yyyy.")


def options_of(asked: FormField, value: str) -> tuple[Choice, ...]:
    """A choices field's options as choices, each ticked one marked, then Done."""
    now = set(ticked(value))
    return tuple(Choice(o.id, f"[x] {o.label}" if o.id in now else f"[ ] {o.label}") for o in asked.options) + (DONE,)


def tick(asked: FormField, value: str, typed: str) -> tuple[str, bool] | Invalid:
    """A choices answer after `typed`: (the ticks now, whether the question is finished).

    One option (its id, its words or its number) toggles it and asks again; Done finishes; a
    list ("1,3" or "staff, members of the public") ticks exactly those and finishes.
    """
    plain = tuple(Choice(o.id, o.label) for o in asked.options)
    if "," in typed:
        picked: list[str] = []
        for part in (each for each in typed.split(",") if each.strip()):  # "1,3," is 1 and 3
            found = match_choice(part, plain)
            if found is None:
                return Invalid(f"{part.strip()[:30]!r} is not one of the options: type their numbers, like 1,3.")
            picked += [found.id] if found.id not in picked else []
        if not picked:
            return Invalid("Please tick at least one option, then press Done.")
        return ",".join(o.id for o in asked.options if o.id in picked), True
    found = match_choice(typed, (*plain, DONE)) or match_choice(typed, options_of(asked, value))
    if found is None:
        return Invalid("Tick an option by its number or words, or press Done.")
    if found.id == DONE.id:
        if not ticked(value):
            return Invalid("Please tick at least one option, then press Done.")
        return value, True
    now = set(ticked(value)) ^ {found.id}
    return ",".join(o.id for o in asked.options if o.id in now), False

