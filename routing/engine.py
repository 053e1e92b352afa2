"""decide(): who must hear about a report, under the school's policy and its people."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TypeVar

from routing.policy import Citation, Plan, Policy, Rule
from routing.report import Report
from routing.school import Person, School
from routing.vocabulary import FLAG_ORDER, SENIOR_SUBJECTS, SUBJECT_ROLES, Category, Flag, Subject, subject_for_roles

# For every preset: a child who may be at immediate risk is acknowledged within 15 minutes
# or escalated, day or night.
IMMEDIATE_RISK_MINUTES = 15
AROUND_THE_CLOCK = "around the clock"
SCHOOL_HOURS = "school hours"
# No policy gives a number of minutes for acknowledging a report (St Leonard's §2 says
# "immediately"): the preset's minutes are Safeguard's defaults, the school's to change.
DEADLINE_CHOICE = (
    "The school's own choice (no policy gives a time): Safeguard's default of {minutes} in {clock}; "
    "a policy file's ack_within_minutes or the config's cover changes it"
)
IMMEDIATE_RISK_CITATION = (
    "Statutory: KCSIE 2024 Part one: if a child is in immediate danger, a referral is made to "
    "children's social care and/or the police immediately; Safeguard has it acknowledged "
    f"within {IMMEDIATE_RISK_MINUTES} minutes or escalated"
)


class RoutingError(Exception):
    """The policy cannot route this report (no rule, or nobody left to own it)."""


@dataclass(frozen=True)
class Recipients:
    """The people a decision reaches, by person id."""

    owner: tuple[str, ...]
    informed: tuple[str, ...]
    escalation: tuple[str, ...]


@dataclass(frozen=True)
class Decision:
    """Who owns a report, who is told, the ladder, the deadline, and why."""

    owner: str
    informed: tuple[str, ...]
    escalation: tuple[str, ...]
    ack_within_minutes: int
    citations: tuple[str, ...]
    people: Recipients | None = None
    clock: str = SCHOOL_HOURS  # whether the deadline counts school hours only, or every minute
    subject: Subject | None = None  # who the report was routed as being about, from the people

    def as_json(self) -> dict[str, object]:
        """The decision in the shape `safeguard route` prints."""
        out: dict[str, object] = {
            "owner": self.owner,
            "informed": list(self.informed),
            "escalation": list(self.escalation),
            "ack_within_minutes": self.ack_within_minutes,
            "clock": self.clock,
            "citations": list(self.citations),
        }
        if self.subject is not None:
            out["subject"] = self.subject.value
        if self.people is not None:
            out["people"] = {
                "owner": list(self.people.owner),
                "informed": list(self.people.informed),
                "escalation": list(self.people.escalation),
            }
        return out


def decide(policy: Policy, report: Report, school: School | None = None, at: datetime | None = None) -> Decision:
    """Route `report`: the policy's rule, then its flags, then the school's cover, then leave out whoever it is about.

    `at` is when the report was made: the school's out-of-hours cover depends on it.
    """
    rule, fallback = _rule_for(policy, report.category)
    rule = rule.for_target(report.target)
    subject = effective_subject(policy, report, school)
    plan = _with_flags(policy, rule.for_subject(subject), report.flags)
    if school is not None and about_trust_person(school, report):
        # Routed as a concern about the head is (the same deadline, the DSL still told for a
        # child), but taken by the trust's own choice of role, never by anyone the CEO manages.
        subject = Subject.HEADTEACHER
        plan = _for_trust_person(_with_flags(policy, rule.for_subject(subject), report.flags), school)
    if fallback is not None:
        plan = replace(plan, citations=plan.citations + (fallback,))
    cover_set_deadline = False
    if school is not None:
        # A subject rule that hands the report to someone else (a concern about the headteacher
        # goes to the chair) keeps the policy's own ladder: the school's cover is for everyday reports.
        override = rule.subjects.get(subject)
        covered = _with_cover(plan, report, school, at, keep_ladder=override is not None and override.owner is not None)
        cover_set_deadline = any(c.kind == "choice" for c in covered.citations[len(plan.citations):])
        plan = covered
    clock = clock_for(report, school, at)
    if Flag.IMMEDIATE_RISK not in report.flags and not cover_set_deadline:
        minutes = _minutes_words(plan.ack_within_minutes)
        plan = replace(plan, citations=plan.citations + (Citation(
            text=DEADLINE_CHOICE.format(minutes=minutes, clock=clock), kind="choice"),))
    routed = replace(report, subject=subject)
    decision = _Resolver(policy, routed, school, original=report.subject).resolve(plan)
    return replace(decision, clock=clock, subject=subject if subject is not report.subject else None)


def about_trust_person(school: School, report: Report) -> bool:
    """Whether `report` names one of the school's trust's own people (the Chief Executive) as its subject."""
    if school.trust is None or report.subject_person is None:
        return False
    return any(p.id == report.subject_person for p in school.trust.people)


TRUST_PERSON_WORDS = ("Trust config ({trust}): a concern about one of the trust's own people is taken by the "
                      "{role}, as KCSIE 2024 Part four has the chair of governors take one about a headteacher")


def _for_trust_person(plan: Plan, school: School) -> Plan:
    """The plan for a report about a trust-level person: the trust's chosen role owns it, and nobody above it climbs."""
    assert school.trust is not None
    role = school.trust.about_trust_people
    words = TRUST_PERSON_WORDS.format(trust=school.trust.name, role=school.role_name(role))
    informed = tuple(r for r in plan.informed if r != role)
    return replace(plan, owner=role, informed=informed, escalation=(),
                   citations=(Citation(text=words, kind="config"),))


# Cyberbullying became a category of its own after schools had written policy files. Such a
# file's bullying reports go where they went before, as social media misuse, rather than to
# nobody; `policy check` still asks for a rule of their own.
# Self-referral came later still: a file without a rule for it routes a self-referral as a
# concern about that member of staff, which is what it is (KCSIE 2024 Part four, section two).
FALLBACKS = {Category.CYBERBULLYING: Category.MISUSE, Category.SELF_REFERRAL: Category.COLLEAGUE_CONCERN}
FALLBACK_WORDS = ("This policy has no rule for {category} reports, so they are routed as {fallback} reports are, "
                  "as they were before the category existed; give it a rule of its own")


def _rule_for(policy: Policy, category: Category) -> tuple[Rule, Citation | None]:
    """The policy's rule for `category`, or the one it falls back to, with a citation that says so."""
    rule = policy.rules.get(category)
    if rule is not None:
        return rule, None
    fallback = FALLBACKS.get(category)
    if fallback is None or fallback not in policy.rules:
        raise RoutingError(f"policy {policy.id} has no rule for {category.value} reports")
    words = FALLBACK_WORDS.format(category=category.value, fallback=fallback.value)
    return policy.rules[fallback], Citation(text=words, kind="choice")


def effective_subject(policy: Policy, report: Report, school: School | None) -> Subject:
    """Who the report is about, read from the people rather than the word the reporter chose.

    A named person's roles decide it (a report about the headteacher is one, whatever
    "subject" says: never the softer route). Without a name, a role held by someone who also
    holds a more senior one routes as the senior one: a concern about Mersham's DSL is a
    concern about its headteacher. With a school config that is read from its people; without
    one, from the roles the policy says one person holds.
    """
    if school is not None and report.subject_person is not None:
        person = school.person(report.subject_person)
        held = set(person.roles) if person is not None else set()
        named = subject_for_roles(held)
        return named if named is not Subject.STAFF else report.subject
    roles = SUBJECT_ROLES.get(report.subject)
    if not roles:
        return report.subject
    if school is not None:
        held = {r for role in roles for p in school.holders(role) for r in p.roles}
    else:
        held = set(policy.held_with(roles))
    senior = subject_for_roles(held | set(roles))
    return senior if senior is not Subject.STAFF else report.subject


def clock_for(report: Report, school: School | None, at: datetime | None) -> str:
    """Whether a report's deadlines count every minute or only school hours.

    A child at immediate risk cannot wait for Monday, and a school's out-of-hours cover is
    there to answer out of hours; every other clock runs in school hours (term time, the
    config's hours), unless the config says `clock: always`.
    """
    if Flag.IMMEDIATE_RISK in report.flags:
        return AROUND_THE_CLOCK
    if school is None:
        return SCHOOL_HOURS
    if school.clock == AROUND_THE_CLOCK:
        return AROUND_THE_CLOCK
    out_of_hours = at is not None and not school.calendar.in_school_hours(at)
    if out_of_hours and any(c.out_of_hours and report.category in c.categories for c in school.cover):
        return AROUND_THE_CLOCK
    return SCHOOL_HOURS


def due_at(school: School, clock: str, start: datetime, minutes: int) -> datetime:
    """When `minutes` on this clock run out, counted from `start`."""
    if clock == AROUND_THE_CLOCK:
        return start + timedelta(minutes=minutes)
    return school.calendar.add_school_minutes(start, minutes)


def _minutes_words(minutes: int) -> str:
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour" + ("s" if hours != 1 else "")
    return f"{minutes} minutes"


def _with_cover(plan: Plan, report: Report, school: School, at: datetime | None, *, keep_ladder: bool) -> Plan:
    """The plan with the school's cover rules for this category (and time) applied, in config order."""
    for cover in school.cover:
        if report.category not in cover.categories:
            continue
        if cover.out_of_hours and (at is None or school.calendar.in_school_hours(at)):
            continue
        when = "out of school hours" if cover.out_of_hours else "always"
        changes = []
        if cover.ack_within_minutes is not None:
            minutes = cover.ack_within_minutes
            if Flag.IMMEDIATE_RISK in report.flags:
                minutes = min(minutes, IMMEDIATE_RISK_MINUTES)  # a child at immediate risk: 15 minutes, whatever the school sets
            plan = replace(plan, ack_within_minutes=minutes)
            changes.append(f"acknowledge within {minutes} minutes")
        if cover.escalation is not None and not keep_ladder:
            ladder = tuple(_unique(r for r in cover.escalation if r != plan.owner))
            plan = replace(plan, escalation=ladder)
            changes.append("ladder " + " > ".join(school.policy.role_name(r) for r in ladder))
        if changes:
            citation = Citation(text=f"School config ({school.name}), cover {when}: {'; '.join(changes)}",
                                kind="choice" if cover.ack_within_minutes is not None else "config")
            plan = replace(plan, citations=plan.citations + (citation,))
    return plan


def _with_flags(policy: Policy, plan: Plan, flags: frozenset[Flag]) -> Plan:
    owner, ack = plan.owner, plan.ack_within_minutes
    informed, ladder = list(plan.informed), list(plan.escalation)
    citations = list(plan.citations)
    for flag in FLAG_ORDER:
        if flag not in flags:
            continue
        rule = policy.flags.get(flag)
        if rule is not None:
            if rule.owner is not None and rule.owner != owner:
                # The previous owner still needs to know: the flag changes who leads.
                informed.insert(0, owner)
                owner = rule.owner
            if rule.escalation is not None:
                # The flag's ladder comes first; the rule's follows, so a report about the
                # headteacher keeps the rungs its own rule gave it.
                ladder = list(rule.escalation) + ladder
            informed.extend(rule.inform)
            ack = min(ack, rule.ack_within_minutes or ack)
            citations.extend(rule.citations)
        if flag is Flag.IMMEDIATE_RISK:
            ack = min(ack, IMMEDIATE_RISK_MINUTES)
            citations.append(Citation(text=IMMEDIATE_RISK_CITATION))
    return Plan(
        owner=owner,
        informed=tuple(_unique(r for r in informed if r != owner)),
        escalation=tuple(_unique(r for r in ladder if r != owner)),
        ack_within_minutes=ack,
        citations=tuple(citations),
    )


@dataclass
class _Resolver:
    """Leaves out whoever the report is about, and keeps governors off cases they must not handle."""

    policy: Policy
    report: Report
    school: School | None
    original: Subject | None = None  # the subject as reported, if routing read a more senior one
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        subjects = {self.report.subject, self.original or self.report.subject}
        subject_roles = frozenset(r for s in subjects for r in SUBJECT_ROLES.get(s, frozenset()))
        self.subject_roles = subject_roles
        # Without a school config only roles are known, so every role the policy says the
        # subject's holder also holds is left out too (Mersham: headteacher and DSL).
        self.excluded_roles = self.policy.held_with(subject_roles)
        self.excluded_people: frozenset[str] = frozenset()
        if self.school is not None:
            if self.report.subject_person is not None:
                self.excluded_people = frozenset({self.report.subject_person})
            else:
                # The people the report is about: those holding the role it names (a report
                # about the DSL leaves out the DSL, not every headteacher of a co-headship).
                named = SUBJECT_ROLES.get(self.original or self.report.subject, frozenset())
                self.excluded_people = frozenset(p.id for role in named for p in self.school.holders(role))
        # KCSIE: governors oversee through counts; they handle only cases about senior adults.
        self.governors_may_handle = self.report.subject in SENIOR_SUBJECTS

    def eligible(self, role: str) -> tuple[Person, ...]:
        """The people who may hear of this report through `role` (school mode)."""
        assert self.school is not None
        return tuple(p for p in self.school.holders(role) if p.id not in self.excluded_people)

    def available(self, role: str) -> bool:
        if not self.governors_may_handle and self.policy.oversees(role):
            return False
        if self.school is None:
            return role not in self.excluded_roles
        return bool(self.eligible(role))

    def why_not(self, role: str) -> str:
        """Why `role` cannot hear of this report, for the decision's citations."""
        if not self.governors_may_handle and self.policy.oversees(role):
            return "oversees through counts and never handles a case that is not about a senior adult (KCSIE)"
        if self.school is None:
            return "is, or is held by, the subject of this report"
        if role in self.subject_roles:
            return "is the subject of this report"
        if self.school.holders(role):
            return "is held only by the person this report is about"
        return f"is held by nobody at {self.school.name}"

    def resolve(self, plan: Plan) -> Decision:
        name = self.school.role_name if self.school is not None else self.policy.role_name
        chain = [plan.owner, *plan.escalation]
        owner = next((r for r in chain if self.available(r)), None)
        if owner is None:
            reasons = "; ".join(f"{name(r)} {self.why_not(r)}" for r in chain)
            raise RoutingError(
                f"nobody is left to own a {self.report.category.value} report about "
                f"{self.report.subject.value}: {reasons}"
            )
        if owner != plan.owner:
            self.notes.append(
                f"{name(plan.owner)} {self.why_not(plan.owner)}: ownership passes down the ladder to {name(owner)}"
            )
        # Without a config, a role the policy says the owner also holds adds nobody (Mersham:
        # the headteacher owns a report, so "the DSL" on its ladder is the same person).
        same = self.policy.held_with(frozenset({owner})) if self.school is None else frozenset({owner})
        ladder = [r for r in chain[chain.index(owner) + 1 :] if self.available(r)]
        informed = [r for r in (self._stand_in(role, owner) for role in plan.informed) if r is not None]
        informed = _unique(r for r in informed if r not in same)
        ladder = _unique(r for r in ladder if r not in same)
        citations = _unique([c.text for c in plan.citations] + self.notes)
        return Decision(
            owner=owner,
            informed=tuple(informed),
            escalation=tuple(ladder),
            ack_within_minutes=plan.ack_within_minutes,
            citations=tuple(citations),
            people=self._people(owner, informed, ladder),
        )

    def _stand_in(self, role: str, owner: str) -> str | None:
        """`role` if it may be told, else its deputy (the DSL's deputy stands in for the DSL)."""
        if self.available(role):
            return role
        deputy = self.policy.roles[role].deputy if role in self.policy.roles else None
        if deputy is None or not self.available(deputy):
            return None
        if deputy != owner:
            name = self.school.role_name if self.school is not None else self.policy.role_name
            self.notes.append(f"{name(role)} {self.why_not(role)}: {name(deputy)} is told instead")
        return deputy

    def _people(self, owner: str, informed: list[str], ladder: list[str]) -> Recipients | None:
        if self.school is None:
            return None
        owners = [p.id for p in self.eligible(owner)]
        return Recipients(
            owner=tuple(owners),
            informed=tuple(_unique(p.id for r in informed for p in self.eligible(r) if p.id not in owners)),
            escalation=tuple(_unique(p.id for r in ladder for p in self.eligible(r) if p.id not in owners)),
        )


T = TypeVar("T")


def _unique(items: Iterable[T]) -> list[T]:
    seen: list[T] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen
