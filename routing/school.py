"""A school's config: its policy, its timezone, and the people who hold each role."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from routing.loader import DEFAULT_PRESET, UnknownPolicy, resolve_policy
from routing.policy import Policy
from routing.retention import Retention, read_retention
from routing.vocabulary import Category, allowed
from routing.workdays import DAYS, REGIONS, Calendar, SchoolHours
from routing.yamlfields import Fields, InputError, load_yaml

PERSON_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# A Slack workspace's id (T...; an Enterprise Grid organisation's is E...), as Slack shows it.
SLACK_TEAM_ID = re.compile(r"^[TE][A-Z0-9]{2,}$")
# A Microsoft Entra tenant id: a GUID.
TENANT_ID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


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
class DigestTime:
    """When the weekly digest goes to the governor lead: a day of the week (0 is Monday) and a local time."""

    day: int = 0
    at: time = time(8, 0)


@dataclass(frozen=True)
class Cover:
    """A school's own deadline or ladder for some categories, always or only outside school hours.

    For example out-of-hours cover: overnight a pupil disclosure goes up the ladder to the
    deputy DSL on call sooner than the policy's daytime deadline.
    """

    categories: frozenset[Category]
    out_of_hours: bool = False
    ack_within_minutes: int | None = None
    escalation: tuple[str, ...] | None = None


@dataclass(frozen=True)
class School:
    """A school's config, with its policy loaded."""

    name: str
    policy: Policy
    timezone: str
    people: tuple[Person, ...]
    calendar: Calendar = field(default_factory=Calendar)
    digest: DigestTime = field(default_factory=DigestTime)
    cover: tuple[Cover, ...] = ()
    clock: str = "school hours"  # or "around the clock": how every deadline but immediate risk counts
    # In a trust (routing.trust): the school's short code, shown in its references, and the trust.
    id: str | None = None
    trust: TrustLink | None = None
    # The Slack workspace (team id) the school's staff use, when a trust's schools each have their
    # own: its events reach only this school's people, and its alerts go with that workspace's bot.
    slack_team: str | None = None
    # The Microsoft 365 tenant the school's staff sign in to, when a trust's schools are in several.
    teams_tenant: str | None = None
    # How long closed reports are kept before their words are erased (routing/retention.py).
    retention: Retention = field(default_factory=Retention)

    @property
    def key(self) -> str:
        """What the school's rows are stored under: its code in a trust, its name when it stands alone."""
        return self.id if self.id is not None else self.name

    @property
    def reference_prefix(self) -> str:
        """How its references start: SG-BPA in a trust (unique across the trust), SG alone."""
        return f"SG-{self.id.upper()}" if self.id is not None else "SG"

    @property
    def everyone(self) -> tuple[Person, ...]:
        """The school's own people, then the trust's (a report can be about the Chief Executive)."""
        if self.trust is None:
            return self.people
        own = {p.id for p in self.people}
        return self.people + tuple(p for p in self.trust.people if p.id not in own)

    def person(self, person_id: str) -> Person | None:
        """The person with this id, at the school or, in a trust, among the trust's people."""
        return self._by_id.get(person_id)

    def holders(self, role: str) -> tuple[Person, ...]:
        """Everyone at the school who holds `role`, in config order; in a trust, the trust's holders when nobody here does.

        BPET §11.0 sends a concern about a headteacher to the Chief Executive, whom a school's
        own config does not list: the trust's people hold such roles for all its schools.
        """
        own = self._holders.get(role, ())
        if own or self.trust is None:
            return own
        return tuple(p for p in self.trust.people if role in p.roles)

    def role_name(self, role: str) -> str:
        """A role as the school's policy names it, or as the trust does for its own roles."""
        if role not in self.policy.roles and role in TRUST_ROLES:
            return TRUST_ROLES[role]
        return self.policy.role_name(role)

    @cached_property
    def _by_id(self) -> dict[str, Person]:
        return {p.id: p for p in reversed(self.everyone)}

    @cached_property
    def _holders(self) -> dict[str, tuple[Person, ...]]:
        by_role: dict[str, list[Person]] = {}
        for person in self.people:
            for role in person.roles:
                by_role.setdefault(role, []).append(person)
        return {role: tuple(people) for role, people in by_role.items()}


# Roles a trust's own people hold across its schools. A school's policy may route to a role held
# at trust level (BPET's chief_executive); these three are the trust's whatever the policy says.
TRUST_ROLES = {
    "chief_executive": "Chief Executive",
    "trust_safeguarding_lead": "Trust safeguarding lead",
    "chair_of_trustees": "Chair of the Trust Board",
}


@dataclass(frozen=True)
class TrustLink:
    """What a school in a trust knows of the trust: its name, its people, and who takes a concern about them."""

    name: str
    people: tuple[Person, ...]
    # The role that takes a concern about one of the trust's own people (the Chief Executive):
    # the chair of the trust board, as KCSIE Part four has the chair of governors take one about a head.
    about_trust_people: str


def load_school(path: Path) -> School:
    """Read a school config and the policy it names, checking every field."""
    return read_school(Fields(load_yaml(path), str(path)), path)


def read_school(top: Fields, path: Path) -> School:
    """A school config already parsed from `path` (a trust reads its schools' files through this too)."""
    top.only(("school", "policy", "timezone", "bank_holidays", "school_hours", "holidays", "clock", "digest", "cover",
              "slack_team", "teams_tenant", "retention", "people"))
    try:
        policy = resolve_policy(top.string("policy", DEFAULT_PRESET), relative_to=path.parent)
    except UnknownPolicy as exc:
        raise top.error(str(exc), "policy") from None
    timezone = top.string("timezone", "Europe/London")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise top.error(f"unknown timezone {timezone!r}; use an IANA name such as Europe/London", "timezone") from None
    region = top.string("bank_holidays", "england")
    if region not in REGIONS:
        raise top.error(f"unknown bank holidays {region!r}; use one of: {', '.join(REGIONS)}", "bank_holidays")
    calendar = Calendar(timezone=timezone, region=region, hours=_school_hours(top), closed=_holidays(top))
    clock = top.string("clock", "school_hours")
    if clock not in CLOCKS:
        raise top.error(f"{clock!r}: use {' or '.join(CLOCKS)}", "clock")
    return School(name=top.string("school"), policy=policy, timezone=timezone, people=_people(top, policy),
                  calendar=calendar, digest=_digest(top), cover=_cover(top, policy), clock=CLOCKS[clock],
                  slack_team=_slack_team(top), teams_tenant=_teams_tenant(top), retention=read_retention(top))


def _slack_team(top: Fields) -> str | None:
    """The school's Slack workspace id, if given: T0123ABCD, as Slack's workspace settings show it."""
    team = top.optional_string("slack_team")
    if team is not None and not SLACK_TEAM_ID.match(team):
        raise top.error(f"{team!r} is not a Slack workspace id (like T0123ABCD: upper-case letters and digits, "
                        "starting with T)", "slack_team")
    return team


def _teams_tenant(top: Fields) -> str | None:
    """The school's Microsoft 365 tenant id, if given (a GUID), in lower case as Teams sends it."""
    tenant = top.optional_string("teams_tenant")
    if tenant is not None and not TENANT_ID.match(tenant):
        raise top.error(f"{tenant!r} is not a tenant id (a GUID like 72f988bf-86f1-41af-91ab-2d7cd011db47, "
                        "the Tenant ID on the Microsoft Entra admin centre's Overview page)", "teams_tenant")
    return tenant.lower() if tenant is not None else None


# The config's words for how deadlines count (routing.engine.clock_for says which reports differ).
CLOCKS = {"school_hours": "school hours", "always": "around the clock"}


def _entries(top: Fields, key: str, expected: str, keys: tuple[str, ...]) -> list[Fields]:
    """The entries of an optional list of mappings (none when it is absent), each allowed only `keys`."""
    raw = top.data.get(key)
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise top.error(f"expected a list of {expected}", key)
    entries = [top.nested(entry, f"{key}[{index}]") for index, entry in enumerate(raw)]
    for fields in entries:
        fields.only(keys)
    return entries


def _holidays(top: Fields) -> tuple[tuple[date, date], ...]:
    """The school's own holidays (half terms, the summer), each a first and last day, both closed."""
    spans = []
    for fields in _entries(top, "holidays", "holidays, each {from: YYYY-MM-DD, to: YYYY-MM-DD}", ("from", "to")):
        first, last = _date(fields, "from"), _date(fields, "to")
        if last < first:
            raise fields.error(f"ends on {last}, before it starts on {first}", "to")
        spans.append((first, last))
    return tuple(spans)


def _date(fields: Fields, key: str) -> date:
    value = fields.data.get(key)
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise fields.error(f"{value!r} is not a date; write it as YYYY-MM-DD", key) from None


def _clock_time(fields: Fields, key: str, default: str) -> time:
    value = fields.data.get(key, default)
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 17:30 as sexagesimal 1050: minutes since midnight.
        value = f"{value // 60}:{value % 60:02d}"
    text = str(value).strip()
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", text)
    if match is None:
        raise fields.error(f"{text!r} is not a time of day; write it as 24-hour HH:MM, e.g. {default!r}", key)
    return time(int(match[1]), int(match[2]))


def _day(fields: Fields, value: object, key: str) -> int:
    word = str(value).strip().lower()
    for index, day in enumerate(DAYS):
        if word in (day, day[:3]):
            return index
    raise fields.error(f"{value!r} is not a day of the week; use one of: {', '.join(DAYS)}", key)


def _school_hours(top: Fields) -> SchoolHours:
    if top.data.get("school_hours") is None:
        return SchoolHours()
    fields = top.child("school_hours")
    fields.only(("days", "start", "end"))
    raw_days = fields.data.get("days", list(DAYS[:5]))
    if not isinstance(raw_days, list) or not raw_days:
        raise fields.error("expected a list of days, e.g. [monday, tuesday, wednesday, thursday, friday]", "days")
    start, end = _clock_time(fields, "start", "08:00"), _clock_time(fields, "end", "18:00")
    if end <= start:
        raise fields.error(f"ends at {end:%H:%M}, not after it starts at {start:%H:%M}", "end")
    return SchoolHours(days=frozenset(_day(fields, d, "days") for d in raw_days), start=start, end=end)


def _digest(top: Fields) -> DigestTime:
    if top.data.get("digest") is None:
        return DigestTime()
    fields = top.child("digest")
    fields.only(("day", "time"))
    return DigestTime(day=_day(fields, fields.data.get("day", "monday"), "day"), at=_clock_time(fields, "time", "08:00"))


def _cover(top: Fields, policy: Policy) -> tuple[Cover, ...]:
    rules = []
    for fields in _entries(top, "cover", "cover rules, each with categories and a deadline or a ladder",
                           ("categories", "when", "ack_within_minutes", "escalation")):
        categories = []
        for name in fields.identifiers("categories"):
            try:
                categories.append(Category(name))
            except ValueError:
                raise fields.error(f"unknown category {name!r}; allowed: {allowed(Category)}", "categories") from None
        when = fields.string("when", "always")
        if when not in ("always", "out_of_hours"):
            raise fields.error(f"{when!r}: use always or out_of_hours", "when")
        ladder = fields.identifiers("escalation") if "escalation" in fields.data else None
        for role in ladder or ():
            if role not in policy.roles:
                raise fields.error(f"unknown role {role!r}; policy {policy.id} defines: {', '.join(policy.roles)}",
                                   "escalation")
        minutes = fields.integer("ack_within_minutes")
        if minutes is None and ladder is None:
            raise fields.error("says nothing to change: give ack_within_minutes, escalation, or both")
        rules.append(Cover(frozenset(categories), when == "out_of_hours", minutes, ladder))
    return tuple(rules)


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


__all__ = ["Cover", "DigestTime", "InputError", "Person", "School", "TrustLink", "load_school", "read_school"]
