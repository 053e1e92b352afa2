"""`policy explain`: the routing table a headteacher can read and sign off."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from routing.check import NAMED_SUBJECTS, Combination
from routing.engine import DEADLINE_CHOICE, IMMEDIATE_RISK_MINUTES, Decision, RoutingError, decide
from routing.policy import Policy
from routing.report import Report
from routing.requests import explain_requests
from routing.school import School
from routing.vocabulary import CATEGORY_LABELS, FLAG_LABELS, FLAG_ORDER, TARGET_LABELS, Category, Flag, Subject, Target

# How the table names who a report is about; role subjects take the policy's own names.
SUBJECT_WORDS = {
    Subject.PUPIL: "a pupil",
    Subject.PARENT: "a parent or carer",
    Subject.STAFF: "a member of staff",
    Subject.GOVERNOR: "a governor",
    Subject.OTHER: "someone else",
    Subject.UNKNOWN: "not known",
}
_DEADLINE_PREFIX = DEADLINE_CHOICE.split("{", 1)[0]


def explain(policy: Policy, school: School | None = None, combinations: Iterable[Combination] | None = None) -> str:
    """The whole table as plain text: one block per report type, subjects with the same routing together.

    With `combinations` (those the report dialog can produce), each report type lists only
    the people a reporter can say it is about.
    """
    shown = _subjects(combinations)
    lines = [f"Routing table: {policy.name}"]
    if school is not None:
        lines.append(f"School: {school.name} (people from its config)")
    lines.append("")
    for category in Category:
        lines.append(f"{CATEGORY_LABELS[category]} [{category.value}]")
        # Cyberbullying is routed by who is bullied as well as by who is doing it: a block each.
        targets: tuple[Target | None, ...] = tuple(Target) if category is Category.CYBERBULLYING else (None,)
        for target in targets:
            indent = "" if target is None else "  "
            if target is not None:
                lines.append(f"  When {TARGET_LABELS[target]} is bullied [target: {target.value}]:")
            for subjects, decision in _grouped(policy, category, school, shown.get(category, tuple(Subject)), target):
                lines.extend(indent + line for line in _block(policy, school, subjects, decision))
        lines.append("")
    lines.append("When the reporter says... (applies on top of the table above)")
    lines.extend(_flag_lines(policy))
    lines += ["", *explain_requests(policy.requests, policy.role_name, school)]
    lines += ["", *_rules(policy, school), "", "Signed off by the headteacher: ____________________   Date: ____________"]
    return "\n".join(lines) + "\n"


def _subjects(combinations: Iterable[Combination] | None) -> dict[Category, tuple[Subject, ...]]:
    if combinations is None:
        return {}
    found: dict[Category, list[Subject]] = {}
    for combo in combinations:
        for subject in NAMED_SUBJECTS if combo.named else (combo.subject,):
            if subject not in found.setdefault(combo.category, []):
                found[combo.category].append(subject)
    return {c: tuple(s for s in Subject if s in found[c]) for c in found}


def _grouped(policy: Policy, category: Category, school: School | None, subjects: Iterable[Subject],
             target: Target | None = None) -> list[tuple[list[Subject], Decision | str]]:
    groups: list[tuple[list[Subject], Decision | str]] = []
    for subject in subjects:
        decision: Decision | str
        try:
            # Grouped by where the report goes, not by which subject the engine read it as.
            decision = decide(policy, Report(category, subject, target=target), school)
            decision = Decision(decision.owner, decision.informed, decision.escalation, decision.ack_within_minutes,
                                decision.citations, decision.people, decision.clock)
        except RoutingError as exc:
            decision = f"NOBODY: {exc} (run `safeguard policy check`)"
        for grouped, seen in groups:
            if seen == decision:
                grouped.append(subject)
                break
        else:
            groups.append(([subject], decision))
    return groups


def _about(policy: Policy, subject: Subject) -> str:
    if subject in SUBJECT_WORDS:
        return SUBJECT_WORDS[subject]
    return f"the {policy.role_name(subject.value)}" if subject.value in policy.roles else subject.value


def _block(policy: Policy, school: School | None, subjects: list[Subject], decision: Decision | str) -> Iterator[str]:
    yield f"  About {'; '.join(_about(policy, s) for s in subjects)}:"
    if isinstance(decision, str):
        yield f"    {decision}"
        return

    reached = set() if decision.people is None else {
        *decision.people.owner, *decision.people.informed, *decision.people.escalation
    }

    def who(role: str) -> str:
        """The role's name, and with a school config the people it reaches."""
        name = policy.role_name(role)
        if school is None:
            return name
        people = [p.name for p in school.holders(role) if p.id in reached]
        return f"{name} ({', '.join(people) or 'nobody'})"

    yield (f"    Owner: {who(decision.owner)}, to acknowledge within {_minutes(decision.ack_within_minutes)} "
           f"of {decision.clock}" if decision.clock != "around the clock" else
           f"    Owner: {who(decision.owner)}, to acknowledge within {_minutes(decision.ack_within_minutes)}, "
           "day or night")
    yield f"    Also told at once: {', '.join(who(r) for r in decision.informed) or 'nobody else'}"
    yield f"    If not acknowledged in time: {' -> '.join(who(r) for r in decision.escalation) or 'nobody'}"
    for citation in decision.citations:
        if not citation.startswith(_DEADLINE_PREFIX):  # said once, under "Deadlines", below
            yield f"    Because: {citation}"


def _flag_lines(policy: Policy) -> Iterator[str]:
    name = policy.role_name
    for flag in FLAG_ORDER:
        rule = policy.flags.get(flag)
        effects = []
        if rule is not None and rule.owner:
            effects.append(f"{name(rule.owner)} owns it")
        if rule is not None and rule.inform:
            effects.append(f"also told: {', '.join(name(r) for r in rule.inform)}")
        if rule is not None and rule.escalation:
            effects.append(f"ladder: {' -> '.join(name(r) for r in rule.escalation)}")
        minutes = rule.ack_within_minutes if rule is not None else None
        if flag is Flag.IMMEDIATE_RISK:
            minutes = min(minutes or IMMEDIATE_RISK_MINUTES, IMMEDIATE_RISK_MINUTES)
            effects.append(f"acknowledged within {_minutes(minutes)}, day or night")
        elif minutes:
            effects.append(f"acknowledged within {_minutes(minutes)}")
        yield f"  {FLAG_LABELS[flag]} [{flag.value}]: {'; '.join(effects) or 'no change'}"
        for citation in rule.citations if rule is not None else ():
            yield f"    Because: {citation.text}"


def _rules(policy: Policy, school: School | None) -> list[str]:
    """What holds for every row: who is left out, who never handles a case, how deadlines count."""
    clock = "school hours" if school is None or school.clock == "school hours" else "every hour"
    lines = [
        "Whoever a report is about is never told of it, checked against people, not only roles;",
        "ownership then passes down the ladder, and someone only told is replaced by their deputy.",
        "A child's case never reaches a governor: governors oversee through the weekly figures, and",
        "appear on a ladder only for reports about the headteacher or another senior adult.",
        "Past the last rung, everyone asked and the DSL are reminded until someone acknowledges.",
        "",
        "Deadlines: no policy gives a time to acknowledge a report, so the times above are the",
        "school's own choice (Safeguard's defaults; a policy file's ack_within_minutes or the config's",
        f"cover changes them). They count {clock} only: term time, the config's school_hours, no",
        "weekends, bank holidays or school holidays. A child at immediate risk is acknowledged within",
        f"{IMMEDIATE_RISK_MINUTES} minutes, day or night, or escalated (KCSIE 2024 Part one: act immediately).",
    ]
    for group in policy.combined_roles:
        names = " and ".join(policy.role_name(r) for r in sorted(group))
        if school is None:
            lines += ["", f"This policy has one person as {names}:",
                      "a report about either is routed as one about the more senior role, and reaches neither.",
                      "With a school config, routing follows the people in it instead."]
        elif len({frozenset(p.id for p in school.holders(r)) for r in group}) > 1:
            lines += ["", f"This policy has one person as {names}; at {school.name} they are",
                      "different people, and the table above follows the people."]
    return lines


def _minutes(minutes: int) -> str:
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour" + ("s" if hours != 1 else "")
    return f"{minutes} minutes"
