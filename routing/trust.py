"""A trust's config: its own people and its schools, each an ordinary school config under its own policy.

One deployment serves every school of a multi-academy trust. A school config used alone is a
deployment of one school, read exactly as before; `load_deployment` reads either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from routing.policy import Policy
from routing.school import PERSON_ID, SLACK_USER_ID, TRUST_ROLES, Person, School, TrustLink, read_school
from routing.yamlfields import Fields, InputError, load_yaml

SCHOOL_ID = re.compile(r"^[a-z][a-z0-9]{1,4}$")  # 2 to 5: SG-ABCDE-2026-0001 fits a reference column
DEFAULT_ABOUT_TRUST_PEOPLE = "chair_of_trustees"


@dataclass(frozen=True)
class Trust:
    """The schools one deployment serves, and the trust's own people (none for a school alone)."""

    name: str
    schools: tuple[School, ...]
    people: tuple[Person, ...] = ()
    timezone: str = "Europe/London"
    alone: bool = True  # a single school config, not a trust file: references stay SG-2026-0001

    def school(self, school_id: str) -> School | None:
        """The school with this short code (or, alone, the one school whatever is asked)."""
        if self.alone:
            return self.schools[0]
        return next((s for s in self.schools if s.id == school_id.lower()), None)

    def schools_of(self, person_id: str) -> tuple[School, ...]:
        """The schools where `person_id` works (an executive head or a shared DSL works at two)."""
        return self._schools_of.get(person_id, ())

    def person(self, person_id: str) -> Person | None:
        """A trust-level person, or the first school's record of a member of staff."""
        found = next((p for p in self.people if p.id == person_id), None)
        if found is not None:
            return found
        return next((s.person(person_id) for s in self.schools if s.person(person_id) is not None), None)

    def holders(self, role: str) -> tuple[Person, ...]:
        """The trust's own people who hold `role` (the trust safeguarding lead, the Chief Executive)."""
        return tuple(p for p in self.people if role in p.roles)

    @cached_property
    def _schools_of(self) -> dict[str, tuple[School, ...]]:
        found: dict[str, list[School]] = {}
        for school in self.schools:
            for person in school.people:
                found.setdefault(person.id, []).append(school)
        return {person_id: tuple(schools) for person_id, schools in found.items()}


def load_deployment(path: Path) -> Trust:
    """A trust file (it has `trust:`) with all its schools, or one school config standing alone."""
    data = load_yaml(path)
    top = Fields(data, str(path))
    if "trust" not in top.data:
        school = read_school(top, path)
        return Trust(name=school.name, schools=(school,), timezone=school.timezone)
    return _read_trust(top, path)


def choose_school(deployment: Trust, school_id: str | None, *, option: str = "--school") -> School:
    """The school a one-school command acts on: the only one, or the one `--school` names."""
    if deployment.alone:
        if school_id is not None and school_id.lower() != deployment.schools[0].key.lower():
            raise InputError(f"{option} {school_id}: this config is one school ({deployment.name}), not a trust; "
                             f"leave {option} out")
        return deployment.schools[0]
    codes = ", ".join(s.key for s in deployment.schools)
    if school_id is None:
        raise InputError(f"{deployment.name} is a trust of {len(deployment.schools)} schools: "
                         f"say which with {option} (one of {codes})")
    school = deployment.school(school_id)
    if school is None:
        raise InputError(f"{option} {school_id}: no such school in {deployment.name}; its schools are {codes}")
    return school


def _read_trust(top: Fields, path: Path) -> Trust:
    top.only(("trust", "timezone", "people", "about_trust_people", "schools"))
    name = top.string("trust")
    timezone = top.string("timezone", "Europe/London")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise top.error(f"unknown timezone {timezone!r}; use an IANA name such as Europe/London", "timezone") from None
    entries = _school_entries(top)
    loaded = [(fields, code, _load_member(fields, path)) for fields, code in entries]
    policies = [school.policy for _, _, school in loaded]
    people = _trust_people(top, policies)
    about = top.string("about_trust_people", DEFAULT_ABOUT_TRUST_PEOPLE)
    if not any(about in p.roles for p in people):
        raise top.error(f"nobody among the trust's people holds {about!r}, who takes a concern about the "
                        "Chief Executive or another of the trust's own people; give someone that role",
                        "about_trust_people")
    link = TrustLink(name=name, people=people, about_trust_people=about)
    schools = tuple(replace(school, id=code, trust=link) for _, code, school in loaded)
    _same_people(top, people, [(str(fields.data["config"]), school) for (fields, _, _), school in zip(loaded, schools)])
    for (fields, _, _), school in zip(loaded, schools):
        _roles_held(fields, school)
    return Trust(name=name, schools=schools, people=people, timezone=timezone, alone=False)


def _school_entries(top: Fields) -> list[tuple[Fields, str]]:
    raw = top.data.get("schools")
    if not isinstance(raw, list) or not raw:
        raise top.error("expected a list of schools, each with id and config", "schools")
    seen: dict[str, int] = {}
    entries = []
    for index, entry in enumerate(raw):
        fields = top.nested(entry, f"schools[{index}]")
        fields.only(("id", "config"))
        code = fields.string("id")
        if not SCHOOL_ID.match(code):
            raise fields.error(f"{code!r} is not a school code: 2 to 5 lower case letters and digits, "
                               "starting with a letter (it is shown in references, e.g. SG-BPA-2026-0001)", "id")
        if code in seen:
            raise fields.error(f"{code!r} is already the id of schools[{seen[code]}]", "id")
        seen[code] = index
        fields.string("config")
        entries.append((fields, code))
    return entries


def _load_member(fields: Fields, trust_path: Path) -> School:
    """One school's config, its path relative to the trust file; any fault in it names both files."""
    config = Path(fields.string("config"))
    if not config.is_absolute():
        config = trust_path.parent / config
    if not config.is_file():
        raise fields.error(f"{config}: no such file", "config")
    try:
        return read_school(Fields(load_yaml(config), str(config)), config)
    except InputError as exc:
        raise fields.error(f"this school's config is not valid: {exc}", "config") from None


def _trust_people(top: Fields, policies: list[Policy]) -> tuple[Person, ...]:
    raw = top.data.get("people")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise top.error("expected a list of people, each with id, name and roles", "people")
    # A trust person may hold a trust role, or a role some school's policy defines (BPET's
    # Chair of the Trust Board is its chair_of_governors), held for every school without one.
    known = dict(TRUST_ROLES)
    for policy in policies:
        for role in policy.roles:
            known.setdefault(role, role)
    people: list[Person] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(raw):
        fields = top.nested(entry, f"people[{index}]")
        fields.only(("id", "name", "roles", "slack", "teams", "email"))
        person = Person(id=fields.string("id"), name=fields.string("name"), roles=fields.identifiers("roles", []),
                        slack=fields.optional_string("slack"), teams=fields.optional_string("teams"),
                        email=fields.optional_string("email"))
        if not PERSON_ID.match(person.id):
            raise fields.error(f"{person.id!r} is not an id (lower case letters, digits, '.', '_', '-')", "id")
        if person.id in seen:
            raise fields.error(f"{person.id!r} is already used by people[{seen[person.id]}]", "id")
        if person.slack is not None and not SLACK_USER_ID.match(person.slack):
            raise fields.error(f"{person.slack!r} is not a Slack user id (like U012AB3CD)", "slack")
        for role in person.roles:
            if role not in known:
                raise fields.error(f"unknown role {role!r}; a trust's people hold {', '.join(TRUST_ROLES)} "
                                   "or a role one of its schools' policies defines", "roles")
        seen[person.id] = index
        people.append(person)
    return tuple(people)


def _same_people(top: Fields, trust_people: tuple[Person, ...], schools: list[tuple[str, School]]) -> None:
    """One id is one person across the trust: the same name everywhere, and one id per Slack or Teams account."""
    names: dict[str, tuple[str, str]] = {p.id: (p.name, "the trust's people") for p in trust_people}
    # An account is a Slack user id within its workspace, a Teams id within its tenant: the same
    # string in two schools' workspaces (or tenants) is two accounts. Unnamed, it is the deployment's one.
    accounts: dict[tuple[str, str], list[tuple[str | None, tuple[str, str]]]] = {}
    for person in trust_people:
        for kind in ("slack", "teams"):
            value = getattr(person, kind)
            if value is not None:
                accounts.setdefault((kind, value.lower()), []).append((None, (person.id, "the trust's people")))
    for config, school in schools:
        for index, person in enumerate(school.people):
            where = f"{config}: people[{index}]"
            first = names.get(person.id)
            if first is not None and first[0] != person.name:
                raise InputError(f"{where}.name: id {person.id!r} is {first[0]!r} in {first[1]} but {person.name!r} "
                                 "here; one id is one person across the trust (give one of them another id)")
            names.setdefault(person.id, (person.name, config))
            for kind in ("slack", "teams"):
                value = getattr(person, kind)
                if value is None:
                    continue
                scope = school.slack_team if kind == "slack" else school.teams_tenant
                seen = accounts.setdefault((kind, value.lower()), [])
                owner = next((o for where_seen, o in seen if None in (where_seen, scope) or where_seen == scope),
                             (person.id, config))
                seen.append((scope, (person.id, config)))
                if owner[0] != person.id:
                    raise InputError(f"{where}.{kind}: {value!r} is {owner[0]!r} in {owner[1]} but {person.id!r} "
                                     "here; the same account is one person, so give them the same id in both")


def _roles_held(fields: Fields, school: School) -> None:
    """Every role the school's policy routes to is held at the school or by the trust's people."""
    for role in sorted(needed_roles(school.policy)):
        if not school.holders(role):
            raise fields.error(f"policy {school.policy.id} routes reports to the {school.role_name(role)} "
                               f"({role}), and nobody at {school.name} or among the trust's people holds it", "config")


def needed_roles(policy: Policy) -> frozenset[str]:
    """Every role a policy may hand a report to, tell of one, or escalate one to."""
    roles: set[str] = set()
    for rule in policy.rules.values():
        for each in (rule, *rule.targets.values()):
            roles |= {each.plan.owner, *each.plan.informed, *each.plan.escalation}
            for override in each.subjects.values():
                roles |= {r for r in (override.owner,) if r is not None}
                roles |= set(override.informed or ()) | set(override.escalation or ())
    for flag in policy.flags.values():
        roles |= {r for r in (flag.owner,) if r is not None} | set(flag.inform) | set(flag.escalation or ())
    return frozenset(roles)


__all__ = ["Trust", "choose_school", "load_deployment", "needed_roles"]
