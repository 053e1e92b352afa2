"""decide(): who must hear about a report, under the school's policy and its people."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TypeVar

from routing.policy import Citation, Plan, Policy
from routing.report import Report
from routing.school import Person, School
from routing.vocabulary import FLAG_ORDER, SUBJECT_ROLES, Flag

# Rule 3 of the brief, for every preset: a child who may be at immediate risk is
# acknowledged within 15 minutes or escalated.
IMMEDIATE_RISK_MINUTES = 15
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

    def as_json(self) -> dict[str, object]:
        """The decision in the shape `safeguard route` prints."""
        out: dict[str, object] = {
            "owner": self.owner,
            "informed": list(self.informed),
            "escalation": list(self.escalation),
            "ack_within_minutes": self.ack_within_minutes,
            "citations": list(self.citations),
        }
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
    rule = policy.rules.get(report.category)
    if rule is None:
        raise RoutingError(f"policy {policy.id} has no rule for {report.category.value} reports")
    plan = _with_flags(policy, rule.for_subject(report.subject), report.flags)
    if school is not None:
        # A subject rule that hands the report to someone else (a concern about the headteacher
        # goes to the chair) keeps the policy's own ladder: the school's cover is for everyday reports.
        override = rule.subjects.get(report.subject)
        plan = _with_cover(plan, report, school, at, keep_ladder=override is not None and override.owner is not None)
    return _Resolver(policy, report, school).resolve(plan)


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
                minutes = min(minutes, IMMEDIATE_RISK_MINUTES)  # rule 3 holds whatever the school sets
            plan = replace(plan, ack_within_minutes=minutes)
            changes.append(f"acknowledge within {minutes} minutes")
        if cover.escalation is not None and not keep_ladder:
            ladder = tuple(_unique(r for r in cover.escalation if r != plan.owner))
            plan = replace(plan, escalation=ladder)
            changes.append("ladder " + " > ".join(school.policy.role_name(r) for r in ladder))
        if changes:
            citation = Citation(text=f"School config ({school.name}), cover {when}: {'; '.join(changes)}")
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
                ladder = list(rule.escalation)
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
    """Applies rule 1 (nobody is told about a concern about themselves) to a plan."""

    policy: Policy
    report: Report
    school: School | None
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        subject_roles = SUBJECT_ROLES.get(self.report.subject, frozenset())
        # Without a school config only roles are known, so every role the policy says the
        # subject's holder also holds is left out too (Mersham: headteacher and DSL).
        self.excluded_roles = self.policy.held_with(subject_roles)
        self.excluded_people: frozenset[str] = frozenset()
        if self.school is not None:
            if self.report.subject_person is not None:
                self.excluded_people = frozenset({self.report.subject_person})
            else:
                self.excluded_people = frozenset(
                    p.id for role in subject_roles for p in self.school.holders(role)
                )

    def eligible(self, role: str) -> tuple[Person, ...]:
        """The people who may hear of this report through `role` (school mode)."""
        assert self.school is not None
        return tuple(p for p in self.school.holders(role) if p.id not in self.excluded_people)

    def available(self, role: str) -> bool:
        if self.school is None:
            return role not in self.excluded_roles
        return bool(self.eligible(role))

    def why_not(self, role: str) -> str:
        """Why `role` cannot hear of this report, for the decision's citations."""
        if self.school is None:
            return "is, or is held by, the subject of this report"
        if role in SUBJECT_ROLES.get(self.report.subject, frozenset()):
            return "is the subject of this report"
        if self.school.holders(role):
            return "is held only by the person this report is about"
        return f"is held by nobody at {self.school.name}"

    def resolve(self, plan: Plan) -> Decision:
        name = self.policy.role_name
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
        ladder = [r for r in chain[chain.index(owner) + 1 :] if self.available(r)]
        informed = [r for r in (self._stand_in(role, owner) for role in plan.informed) if r is not None]
        informed = _unique(r for r in informed if r != owner)
        ladder = _unique(r for r in ladder if r != owner)
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
            name = self.policy.role_name
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
