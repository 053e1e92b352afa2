"""A report as the engine sees it, and reading one from the JSON other tools send."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from routing.school import School
from routing.vocabulary import SUBJECT_ROLES, Category, Flag, Subject, Target, allowed, subject_for_roles
from routing.yamlfields import InputError

REPORT_KEYS = ("category", "subject", "subject_person", "flags", "target")


@dataclass(frozen=True)
class Report:
    """What routing needs to know about a report: no names, no free text."""

    category: Category
    subject: Subject
    flags: frozenset[Flag] = frozenset()
    subject_person: str | None = None
    target: Target | None = None  # who is being bullied (cyberbullying only); None reads as a pupil


def parse_report(data: object, school: School | None = None) -> Report:
    """Check a decoded JSON report; `subject_person` needs a school to look the person up."""
    if not isinstance(data, Mapping):
        raise InputError(f"report: expected a JSON object with {', '.join(REPORT_KEYS)}")
    for key in data:
        if key not in REPORT_KEYS:
            raise InputError(f"report: unknown field {key!r}; allowed: {', '.join(REPORT_KEYS)}")
    category = _enum(Category, data.get("category"), "category")
    flags = _flags(data.get("flags", []))
    target = _target(category, data.get("target"))
    person_id = data.get("subject_person")
    if person_id is None:
        if data.get("subject") is None:
            raise InputError(f"report: subject: missing; allowed: {allowed(Subject)}")
        return Report(category, _enum(Subject, data["subject"], "subject"), flags, target=target)
    if school is None:
        raise InputError("report: subject_person: a person can only be named with --config SCHOOL.yaml")
    if not isinstance(person_id, str) or school.person(person_id) is None:
        known = ", ".join(p.id for p in school.people)
        raise InputError(f"report: subject_person: no person {person_id!r} in {school.name}; people: {known}")
    person = school.person(person_id)
    assert person is not None
    named = subject_for_roles(person.roles)
    if data.get("subject") is None:
        subject = named
    else:
        subject = _enum(Subject, data["subject"], "subject")
        # A subject that contradicts the person's roles is refused, not guessed: routing the
        # words would send a concern about the headteacher to the headteacher as "staff", and
        # quietly routing the roles instead would hide the caller's mistake.
        if not _fits(subject, named, person.roles):
            raise InputError(
                f"report: subject is {subject.value} but {person_id!r} holds "
                f"{', '.join(person.roles) or 'no roles'}, so the report is about the {named.value.replace('_', ' ')}"
                if named is not Subject.STAFF else
                f"report: subject is {subject.value} but {person_id!r} is a member of staff "
                f"(holds: {', '.join(person.roles) or 'no roles'})"
            )
    return Report(category, subject, flags, person_id, target)


def _target(category: Category, value: object) -> Target | None:
    if value is None:
        return None
    if category is not Category.CYBERBULLYING:
        raise InputError(f"report: target: only a cyberbullying report says who is being bullied, not {category.value}")
    return _enum(Target, value, "target")


def _fits(subject: Subject, named: Subject, roles: tuple[str, ...]) -> bool:
    """Whether `subject` may be said of a person whose most senior role makes them `named`."""
    if subject is named:
        return True
    if subject is Subject.GOVERNOR and named is Subject.STAFF:
        return True  # a named governor need not be the governor lead
    needed = SUBJECT_ROLES.get(subject)
    # Naming a role the person holds is fine (routing reads the most senior one anyway);
    # a subject without a role (staff, pupil, parent, other) is softer than the roles they hold.
    return bool(needed and needed & set(roles))


_E = TypeVar("_E", Category, Subject, Target)


def _enum(enum: type[_E], value: object, field: str) -> _E:
    if value is None:
        raise InputError(f"report: {field}: missing; allowed: {allowed(enum)}")
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return enum(value)
    except ValueError:
        raise InputError(f"report: {field}: unknown {field} {value!r}; allowed: {allowed(enum)}") from None


def _flags(value: object) -> frozenset[Flag]:
    if not isinstance(value, list):
        raise InputError(f"report: flags: expected a list of flags ({allowed(Flag)})")
    flags = set()
    for item in value:
        try:
            flags.add(Flag(item))
        except (ValueError, TypeError):
            raise InputError(f"report: flags: unknown flag {item!r}; allowed: {allowed(Flag)}") from None
    return frozenset(flags)
