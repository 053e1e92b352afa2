"""`policy check`: everything that could send a report to nobody, or to the person it is about."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import combinations

from routing.engine import Decision, RoutingError, decide
from routing.policy import Policy
from routing.report import Report
from routing.school import School
from routing.vocabulary import SUBJECT_ROLES, Category, Flag, Subject, subject_for_roles


@dataclass(frozen=True)
class Finding:
    """One problem, with where it is."""

    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


FLAG_SETS: tuple[frozenset[Flag], ...] = tuple(
    frozenset(combo) for size in range(len(Flag) + 1) for combo in combinations(Flag, size)
)


def check_policy(policy: Policy) -> list[Finding]:
    """Findings about the policy alone: missing rules, unknown roles, empty ladders, conflicts."""
    findings = list(_undefined_roles(policy))
    for category in Category:
        rule = policy.rules.get(category)
        if rule is None:
            findings.append(Finding(f"rules.{category.value}", f"missing: {category.value} reports have no owner"))
            continue
        for subject in Subject:
            plan = rule.for_subject(subject)
            where = f"rules.{category.value}" + (f".subjects.{subject.value}" if subject in rule.subjects else "")
            if not plan.escalation:
                findings.append(Finding(where, "the escalation ladder is empty"))
            conflict = policy.held_with(SUBJECT_ROLES.get(subject, frozenset()))
            if plan.owner in conflict:
                findings.append(Finding(
                    where,
                    f"a report about {subject.value} would be owned by {plan.owner}, who is its subject "
                    f"(add an override under rules.{category.value}.subjects.{subject.value})",
                ))
    if findings:
        return _unique(findings)
    for report in _every_report():
        findings.extend(_routing_findings(policy, report, None, f"{report.category.value} about {report.subject.value}"))
    return _unique(findings)


def check_school(school: School) -> list[Finding]:
    """Findings about the policy, plus the school's people: unheld roles, nobody left to own."""
    policy = school.policy
    findings = check_policy(policy)
    for role in policy.roles.values():
        if not school.holders(role.id):
            findings.append(Finding("people", f"nobody holds {role.id} ({role.name})"))
    if findings:
        return findings
    for report in _every_report():
        findings.extend(_routing_findings(policy, report, school, f"{report.category.value} about {report.subject.value}"))
    for person in school.people:
        for category in Category:
            for flags in FLAG_SETS:
                report = Report(category, subject_for_roles(person.roles), flags, person.id)
                found = _routing_findings(policy, report, school, f"{category.value} about {person.id}")
                if found:
                    # One finding per person and category is enough to act on.
                    findings.extend(found)
                    break
    return _unique(findings)


def _routing_findings(policy: Policy, report: Report, school: School | None, where: str) -> list[Finding]:
    flags = f" with {', '.join(sorted(report.flags))}" if report.flags else ""
    try:
        decision = decide(policy, report, school)
    except RoutingError as exc:
        return [Finding(where + flags, str(exc))]
    problems = []
    if not decision.escalation:
        problems.append("the escalation ladder is empty once the subject is left out")
    if not decision.citations:
        problems.append("the decision cites no policy section")
    problems.extend(_subject_reached(policy, report, decision))
    return [Finding(where + flags, p) for p in problems]


def _subject_reached(policy: Policy, report: Report, decision: Decision) -> Iterator[str]:
    """Rule 1, checked again on the outcome: the engine must never reach the subject."""
    roles = {decision.owner, *decision.informed, *decision.escalation}
    if decision.people is None:
        for role in roles & policy.held_with(SUBJECT_ROLES.get(report.subject, frozenset())):
            yield f"the decision reaches {role}, the subject of the report"
    elif report.subject_person is not None:
        people = decision.people
        if report.subject_person in {*people.owner, *people.informed, *people.escalation}:
            yield f"the decision reaches {report.subject_person}, the subject of the report"


def _undefined_roles(policy: Policy) -> Iterator[Finding]:
    def named(where: str, roles: tuple[str, ...] | list[str]) -> Iterator[Finding]:
        for role in roles:
            if role not in policy.roles:
                yield Finding(where, f"role {role!r} is not defined under roles")

    for category, rule in policy.rules.items():
        plan = rule.plan
        yield from named(f"rules.{category.value}", [plan.owner, *plan.informed, *plan.escalation])
        for subject, o in rule.subjects.items():
            roles = [r for r in (o.owner,) if r] + list(o.informed or ()) + list(o.escalation or ())
            yield from named(f"rules.{category.value}.subjects.{subject.value}", roles)
    for flag, f in policy.flags.items():
        yield from named(f"flags.{flag.value}", [r for r in (f.owner,) if r] + list(f.inform) + list(f.escalation or ()))
    for index, group in enumerate(policy.combined_roles):
        yield from named(f"combined_roles[{index}]", sorted(group))
    for role in policy.roles.values():
        yield from named(f"roles.{role.id}.deputy", [role.deputy] if role.deputy else [])


def _every_report() -> Iterator[Report]:
    for category in Category:
        for subject in Subject:
            for flags in FLAG_SETS:
                yield Report(category, subject, flags)


def _unique(findings: list[Finding]) -> list[Finding]:
    return list(dict.fromkeys(findings))
