"""A school's config: its policy, its timezone, and the people who hold each role."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from routing.loader import DEFAULT_PRESET, UnknownPolicy, resolve_policy
from routing.policy import Policy
from routing.yamlfields import Fields, InputError, load_yaml

PERSON_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Person:
    """A member of staff or a governor, with the roles they hold and their chat ids."""

    id: str
    name: str
    roles: tuple[str, ...] = ()
    slack: str | None = None
    teams: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class School:
    """A school's config, with its policy loaded."""

    name: str
    policy: Policy
    timezone: str
    people: tuple[Person, ...]

    def person(self, person_id: str) -> Person | None:
        """The person with this id, if any."""
        return next((p for p in self.people if p.id == person_id), None)

    def holders(self, role: str) -> tuple[Person, ...]:
        """Everyone who holds `role`, in config order."""
        return self._holders.get(role, ())

    @cached_property
    def _holders(self) -> dict[str, tuple[Person, ...]]:
        by_role: dict[str, list[Person]] = {}
        for person in self.people:
            for role in person.roles:
                by_role.setdefault(role, []).append(person)
        return {role: tuple(people) for role, people in by_role.items()}


def load_school(path: Path) -> School:
    """Read a school config and the policy it names, checking every field."""
    top = Fields(load_yaml(path), str(path))
    top.only(("school", "policy", "timezone", "people"))
    try:
        policy = resolve_policy(top.string("policy", DEFAULT_PRESET), relative_to=path.parent)
    except UnknownPolicy as exc:
        raise top.error(str(exc), "policy") from None
    timezone = top.string("timezone", "Europe/London")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise top.error(f"unknown timezone {timezone!r}; use an IANA name such as Europe/London", "timezone") from None
    return School(name=top.string("school"), policy=policy, timezone=timezone, people=_people(top, policy))


def _people(top: Fields, policy: Policy) -> tuple[Person, ...]:
    raw = top.data.get("people")
    if not isinstance(raw, list) or not raw:
        raise top.error("expected a list of people, each with id, name and roles", "people")
    people: list[Person] = []
    seen: dict[str, dict[str, int]] = {"id": {}, "slack": {}, "teams": {}, "email": {}}
    for index, entry in enumerate(raw):
        fields = top.nested(entry, f"people[{index}]")
        fields.only(("id", "name", "roles", "slack", "teams", "email"))
        person = Person(
            id=fields.string("id"),
            name=fields.string("name"),
            roles=fields.identifiers("roles", []),
            slack=fields.optional_string("slack"),
            teams=fields.optional_string("teams"),
            email=fields.optional_string("email"),
        )
        _check_person(fields, person, policy)
        for key in seen:
            value = getattr(person, key)
            if value is None:
                continue
            if value.lower() in seen[key]:
                first = seen[key][value.lower()]
                raise fields.error(f"{value!r} is already used by people[{first}]", key)
            seen[key][value.lower()] = index
        people.append(person)
    return tuple(people)


def _check_person(fields: Fields, person: Person, policy: Policy) -> None:
    if not PERSON_ID.match(person.id):
        raise fields.error(f"{person.id!r} is not an id (lower case letters, digits, '.', '_', '-')", "id")
    for role in person.roles:
        if role not in policy.roles:
            defined = ", ".join(policy.roles)
            raise fields.error(f"unknown role {role!r}; policy {policy.id} defines: {defined}", "roles")
    if person.slack is not None and not SLACK_USER_ID.match(person.slack):
        raise fields.error(f"{person.slack!r} is not a Slack user id (like U012AB3CD)", "slack")
    if person.email is not None and not EMAIL.match(person.email):
        raise fields.error(f"{person.email!r} is not an email address", "email")


__all__ = ["InputError", "Person", "School", "load_school"]
