"""A request form's fields as a preset sets them out: text, an address, ticked options, names, a date.

A field may be asked only when an earlier answer ticks an option (St Leonard's appendix C asks
how parents' consent is obtained only "if contributors include pupils"). Answers are kept as
strings: ticked options as their ids joined by commas, names one per line, a date as YYYY-MM-DD,
so a stored request reads the same whatever the field kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from routing.yamlfields import IDENTIFIER, Fields

MAX_ANSWER = 1000  # a form's box: long enough for risks and control measures, short enough to read on a phone


class FieldKind(StrEnum):
    """What a form field takes."""

    URL = "url"  # one http(s) address
    TEXT = "text"
    CHOICES = "choices"  # any of the options, ticked (the form's checkboxes)
    NAMES = "names"  # people's names, at least `minimum` different ones
    DATE = "date"  # a day, like 2027-01-11


@dataclass(frozen=True)
class Option:
    """One checkbox of a field: a stable id kept in the answer, and its label."""

    id: str
    label: str


@dataclass(frozen=True)
class AskedIf:
    """The field is asked only when the answer to `field` ticks `option`."""

    field: str
    option: str


@dataclass(frozen=True)
class FormField:
    """One box of the form, as the policy's appendix has it."""

    id: str
    label: str
    kind: FieldKind = FieldKind.TEXT
    max_length: int = MAX_ANSWER
    options: tuple[Option, ...] = ()
    minimum: int = 0  # for names: how many different people at least
    asked_if: AskedIf | None = None

    def applies(self, answers: Mapping[str, str]) -> bool:
        """Whether the form asks this field, given the answers so far."""
        if self.asked_if is None:
            return True
        return self.asked_if.option in ticked(answers.get(self.asked_if.field, ""))

    def shown(self, value: str) -> str:
        """An answer as a person reads it: ticked options by label, names on one line."""
        if self.kind is FieldKind.CHOICES:
            labels = {o.id: o.label for o in self.options}
            return "; ".join(labels.get(each, each) for each in ticked(value)) or "none"
        if self.kind is FieldKind.NAMES:
            return "; ".join(names(value))
        if self.kind is FieldKind.DATE:
            try:
                when = date.fromisoformat(value)
            except ValueError:
                return value
            return f"{when.day} {when:%B} {when.year}"
        return value


def ticked(value: str) -> list[str]:
    """The option ids a stored choices answer holds."""
    return [each for each in value.split(",") if each]


def names(value: str) -> list[str]:
    """The names a stored names answer holds."""
    return [each.strip() for each in value.splitlines() if each.strip()]


def asked(fields: tuple[FormField, ...], answers: Mapping[str, str]) -> list[FormField]:
    """The fields the form asks, given the answers so far, in order."""
    return [f for f in fields if f.applies(answers)]


def read_fields(block: Fields) -> tuple[FormField, ...]:
    """The `fields:` mapping of a request kind, each checked (a condition must name an earlier option)."""
    form: list[FormField] = []
    for key, value in block.data.items():
        if not isinstance(key, str) or not IDENTIFIER.match(key):
            raise block.error(f"{key!r} is not a field id (lower case letters, digits, _)")
        one = block.nested(value, key)
        one.only(("label", "kind", "max_length", "options", "minimum", "asked_if"))
        kind = one.string("kind", FieldKind.TEXT.value)
        if kind not in set(FieldKind):
            raise one.error(f"unknown field kind {kind!r}; allowed: {', '.join(FieldKind)}", "kind")
        options = _options(one) if kind == FieldKind.CHOICES else ()
        if kind != FieldKind.CHOICES and "options" in one.data:
            raise one.error("only a choices field has options", "options")
        minimum = one.integer("minimum") or 0
        if kind != FieldKind.NAMES and minimum:
            raise one.error("only a names field has a minimum", "minimum")
        form.append(FormField(key, one.string("label"), FieldKind(kind), one.integer("max_length") or MAX_ANSWER,
                              options, minimum, _asked_if(one, form)))
    if not form:
        raise block.error("a form needs at least one field")
    return tuple(form)


def _options(one: Fields) -> tuple[Option, ...]:
    raw = one.child("options")
    options: list[Option] = []
    for key in raw.data:
        if not isinstance(key, str) or not IDENTIFIER.match(key):
            raise raw.error(f"{key!r} is not an option id (lower case letters, digits, _)")
        options.append(Option(key, raw.string(key)))
    if len(options) < 2:
        raise one.error("a choices field needs at least two options", "options")
    return tuple(options)


def _asked_if(one: Fields, earlier: list[FormField]) -> AskedIf | None:
    if one.data.get("asked_if") is None:
        return None
    condition = one.child("asked_if")
    if len(condition.data) != 1:
        raise condition.error("give one earlier field and the option it must tick, like {contributors: pupils}")
    field_id, option = next(iter(condition.data.items()))
    before = {f.id: f for f in earlier}
    if field_id not in before or before[field_id].kind is not FieldKind.CHOICES:
        raise condition.error(f"{field_id!r} is not an earlier choices field of this form")
    if option not in {o.id for o in before[field_id].options}:
        raise condition.error(f"{field_id} has no option {option!r}", str(field_id))
    return AskedIf(str(field_id), str(option))
