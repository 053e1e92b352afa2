"""`policy check`: everything that could send a report to nobody, to the person it is about, or to a governor who must not handle it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import combinations, product

from routing.engine import FALLBACKS, Decision, RoutingError, about_trust_person, decide, effective_subject
from routing.policy import Policy, Rule
from routing.report import Report
from routing.requests import request_problems
from routing.school import TRUST_ROLES, School
from routing.vocabulary import SENIOR_SUBJECTS, SUBJECT_ROLES, Category, Flag, Subject, Target, subject_for_roles


@dataclass(frozen=True)
class Finding:
    """One problem, with where it is."""

    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


@dataclass(frozen=True)
class Combination:
    """A report a reporter can make: its category, who it is about, its flags.

    `named` means the reporter names a member of staff, whose roles then decide the subject;
    `subject` is then what the reporter's words say (staff).
    """

    category: Category
    subject: Subject
    flags: frozenset[Flag] = frozenset()
    named: bool = False
    target: Target | None = None  # who is being bullied, in a cyberbullying report


FLAG_SETS: tuple[frozenset[Flag], ...] = tuple(
    frozenset(combo) for size in range(len(Flag) + 1) for combo in combinations(Flag, size)
)
# The subjects a named member of staff can turn out to be, by the roles they hold.
NAMED_SUBJECTS = (Subject.STAFF, Subject.HEADTEACHER, Subject.CHAIR_OF_GOVERNORS, Subject.DSL,
                  Subject.DEPUTY_DSL, Subject.GOVERNOR)


def every_combination() -> tuple[Combination, ...]:
    """Every category, subject and set of flags, whether or not a reporter can make it, and each naming someone."""
    return tuple(
        Combination(c, s, f, named, t)
        for c in Category for t in _targets(c) for f in FLAG_SETS
        for s, named in (*((s, False) for s in Subject), (Subject.STAFF, True))
    )


def _targets(category: Category) -> tuple[Target | None, ...]:
    return (None, *Target) if category is Category.CYBERBULLYING else (None,)


def rule_variants(rule: Rule) -> Iterator[tuple[str, Rule]]:
    """A rule and each of its rules by who is being bullied, with where each is in the policy file."""
    where = f"rules.{rule.category.value}"
    yield where, rule
    for target, variant in rule.targets.items():
        yield f"{where}.targets.{target.value}", variant


def check_policy(policy: Policy, combinations: Iterable[Combination] | None = None) -> list[Finding]:
    """Findings about the policy alone: missing rules, unknown roles, empty ladders, conflicts.

    `combinations` are the reports to route (by default every one); `safeguard policy check`
    passes those the report dialog can produce.
    """
    findings = list(_undefined_roles(policy))
    findings += [Finding(where, problem) for where, problem in request_problems(policy.requests, _known_roles(policy))]
    for category in Category:
        found = policy.rules.get(category)
        if found is None:
            fallback = FALLBACKS.get(category)
            meanwhile = (f"are routed as {fallback.value} reports until the policy has a rule for them"
                         if fallback is not None and fallback in policy.rules else "have no owner")
            findings.append(Finding(f"rules.{category.value}", f"missing: {category.value} reports {meanwhile}"))
            continue
        for (base, rule), subject in product(rule_variants(found), Subject):
            if effective_subject(policy, Report(category, subject), None) is not subject:
                continue  # routed by the rule for a more senior role the same person holds
            plan = rule.for_subject(subject)
            where = base + (f".subjects.{subject.value}" if subject in rule.subjects else "")
            if not plan.escalation:
                findings.append(Finding(where, "the escalation ladder is empty"))
            conflict = policy.held_with(SUBJECT_ROLES.get(subject, frozenset()))
            if plan.owner in conflict:
                findings.append(Finding(
                    where,
                    f"a report about {subject.value} would be owned by {plan.owner}, who is its subject "
                    f"(add an override under rules.{category.value}.subjects.{subject.value})",
                ))
            if subject not in SENIOR_SUBJECTS:
                for role in _governors(policy, [plan.owner, *plan.informed, *plan.escalation]):
                    findings.append(Finding(where, f"{role} would handle a report about {subject.value}; governors "
                                                   "oversee through counts and handle only cases about senior adults"))
    for flag, flag_rule in policy.flags.items():
        for role in _governors(policy, [*(r for r in (flag_rule.owner,) if r), *flag_rule.inform,
                                        *(flag_rule.escalation or ())]):
            findings.append(Finding(f"flags.{flag.value}", f"{role} would handle every report with this flag, "
                                                           "children's cases included"))
    if findings:
        return _unique(findings)
    for combo in combinations or every_combination():
        subjects = NAMED_SUBJECTS if combo.named else (combo.subject,)
        for subject in subjects:
            report = Report(combo.category, subject, combo.flags, target=combo.target)
            findings.extend(_routing_findings(policy, report, None, f"{_kind(combo)} about {subject.value}"))
    return _unique(findings)


def check_school(school: School, combinations: Iterable[Combination] | None = None) -> list[Finding]:
    """Findings about the policy, plus the school's people: unheld roles, nobody left to own, assumptions broken."""
    policy = school.policy
    combos = tuple(combinations or every_combination())
    findings = check_policy(policy, combos)
    for role in policy.roles.values():
        if not school.holders(role.id):
            findings.append(Finding("people", f"nobody holds {role.id} ({role.name})"))
    if findings:
        return findings
    # A preset's assumption the people contradict is worth knowing, but routing follows the
    # people, so the check goes on to route every report with them.
    findings.extend(_assumptions(school))
    findings.extend(Finding(where, problem) for where, problem in request_problems(
        policy.requests, _known_roles(policy), school) if "reaches nobody" in problem or "nobody holds" in problem)
    for combo in combos:
        if not combo.named:
            findings.extend(_routing_findings(
                policy, Report(combo.category, combo.subject, combo.flags, target=combo.target), school,
                f"{_kind(combo)} about {combo.subject.value}"))
            continue
        # Most staff hold no role. Routing a report about one of them reads only their roles and
        # leaves out their id, which no role's holders include: it comes out the same for each of
        # them, so it is worked out once and said of each (`safeguard serve` checks every school
        # of a trust at start, and a school of 150 staff made this most of the wait).
        no_role: list[str] | None = None
        for person in school.people:
            report = Report(combo.category, subject_for_roles(person.roles), combo.flags, person.id, combo.target)
            where = f"{_kind(combo)} about {person.id}{_with_flags(report)}"
            if person.roles or about_trust_person(school, report):
                findings.extend(Finding(where, problem) for problem in _routing_problems(policy, report, school))
                continue
            if no_role is None:
                no_role = _routing_problems(policy, report, school)
            findings.extend(Finding(where, problem) for problem in no_role)
    return _unique(findings)


def _kind(combo: Combination) -> str:
    """The report's kind as findings name it: its category, and who is bullied where that is said."""
    return combo.category.value + (f" of {combo.target.value}" if combo.target is not None else "")


def _assumptions(school: School) -> Iterator[Finding]:
    """Where the policy says one person holds several roles and the school's people differ."""
    policy = school.policy
    for group in policy.combined_roles:
        holders = {role: {p.id for p in school.holders(role)} for role in sorted(group)}
        if len({frozenset(ids) for ids in holders.values()}) > 1:
            who = "; ".join(f"{role}: {', '.join(sorted(ids)) or 'nobody'}" for role, ids in holders.items())
            yield Finding("people", f"policy {policy.id} assumes one person holds {' and '.join(sorted(group))}, "
                                    f"but here they differ ({who}); routing follows the people, so check the "
                                    "policy's wording still fits your school")


def _governors(policy: Policy, roles: list[str]) -> list[str]:
    return [r for r in dict.fromkeys(roles) if policy.oversees(r)]


def _routing_findings(policy: Policy, report: Report, school: School | None, where: str) -> list[Finding]:
    return [Finding(where + _with_flags(report), problem) for problem in _routing_problems(policy, report, school)]


def _with_flags(report: Report) -> str:
    return f" with {', '.join(sorted(report.flags))}" if report.flags else ""


def _routing_problems(policy: Policy, report: Report, school: School | None) -> list[str]:
    """What is wrong with how `report` is routed: a routing error, an empty ladder, no citation, the subject told."""
    try:
        decision = decide(policy, report, school)
    except RoutingError as exc:
        return [str(exc)]
    problems = []
    if not decision.escalation:
        problems.append("the escalation ladder is empty once the subject is left out")
    if not decision.citations:
        problems.append("the decision cites no policy section")
    problems.extend(_subject_reached(policy, report, decision))
    return problems


def _subject_reached(policy: Policy, report: Report, decision: Decision) -> Iterator[str]:
    """Nobody is told of a concern about themselves, checked again on the outcome."""
    roles = {decision.owner, *decision.informed, *decision.escalation}
    if decision.people is None:
        for role in roles & policy.held_with(SUBJECT_ROLES.get(report.subject, frozenset())):
            yield f"the decision reaches {role}, the subject of the report"
    elif report.subject_person is not None:
        people = decision.people
        if report.subject_person in {*people.owner, *people.informed, *people.escalation}:
            yield f"the decision reaches {report.subject_person}, the subject of the report"


def _known_roles(policy: Policy) -> set[str]:
    """Roles a step may name: the policy's own, and the trust's (BPET's Chief Executive)."""
    return set(policy.roles) | set(TRUST_ROLES)


def _undefined_roles(policy: Policy) -> Iterator[Finding]:
    def named(where: str, roles: tuple[str, ...] | list[str]) -> Iterator[Finding]:
        for role in roles:
            if role not in policy.roles:
                yield Finding(where, f"role {role!r} is not defined under roles")

    for where, rule in (v for found in policy.rules.values() for v in rule_variants(found)):
        plan = rule.plan
        yield from named(where, [plan.owner, *plan.informed, *plan.escalation])
        for subject, o in rule.subjects.items():
            roles = [r for r in (o.owner,) if r] + list(o.informed or ()) + list(o.escalation or ())
            yield from named(f"{where}.subjects.{subject.value}", roles)
    for flag, f in policy.flags.items():
        yield from named(f"flags.{flag.value}", [r for r in (f.owner,) if r] + list(f.inform) + list(f.escalation or ()))
    for index, group in enumerate(policy.combined_roles):
        yield from named(f"combined_roles[{index}]", sorted(group))
    for role in policy.roles.values():
        yield from named(f"roles.{role.id}.deputy", [role.deputy] if role.deputy else [])


def grouped(findings: Iterable[Finding], *, shown: int = 6) -> list[str]:
    """Findings grouped by cause, one line each: the problem, then where it shows (the first few)."""
    groups: dict[str, list[str]] = {}
    for finding in findings:
        groups.setdefault(finding.problem, []).append(finding.where)
    lines = []
    for problem, places in groups.items():
        if len(places) == 1:
            lines.append(f"{places[0]}: {problem}")
            continue
        more = f" and {len(places) - shown} more" if len(places) > shown else ""
        lines.append(f"{problem}: {len(places)} reports: {'; '.join(places[:shown])}{more}")
    return lines


def _unique(findings: list[Finding]) -> list[Finding]:
    return list(dict.fromkeys(findings))
