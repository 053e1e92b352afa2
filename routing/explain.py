"""`policy explain`: the routing table a headteacher can read and sign off."""

from __future__ import annotations

from collections.abc import Iterator

from routing.engine import IMMEDIATE_RISK_MINUTES, Decision, RoutingError, decide
from routing.policy import Policy
from routing.report import Report
from routing.school import School
from routing.vocabulary import CATEGORY_LABELS, FLAG_LABELS, FLAG_ORDER, Category, Flag, Subject


def explain(policy: Policy, school: School | None = None) -> str:
    """The whole table as plain text: one block per report type, subjects with the same routing together."""
    lines = [f"Routing table: {policy.name}"]
    if school is not None:
        lines.append(f"School: {school.name} (people from its config)")
    lines.append("")
    for category in Category:
        lines.append(f"{CATEGORY_LABELS[category]} [{category.value}]")
        for subjects, decision in _grouped(policy, category, school):
            lines.extend(_block(policy, school, subjects, decision))
        lines.append("")
    lines.append("When the reporter says... (applies on top of the table above)")
    lines.extend(_flag_lines(policy))
    lines += [
        "",
        "Nobody is ever told about a concern about themselves: whoever a report is about is left",
        "out of every list, and ownership passes down the ladder.",
        "",
        "Signed off by the headteacher: ____________________   Date: ____________",
    ]
    return "\n".join(lines) + "\n"


def _grouped(policy: Policy, category: Category, school: School | None) -> list[tuple[list[Subject], Decision | str]]:
    groups: list[tuple[list[Subject], Decision | str]] = []
    for subject in Subject:
        decision: Decision | str
        try:
            decision = decide(policy, Report(category, subject), school)
        except RoutingError as exc:
            decision = f"NOBODY: {exc} (run `safeguard policy check`)"
        for subjects, seen in groups:
            if seen == decision:
                subjects.append(subject)
                break
        else:
            groups.append(([subject], decision))
    return groups


def _block(policy: Policy, school: School | None, subjects: list[Subject], decision: Decision | str) -> Iterator[str]:
    yield f"  About: {', '.join(s.value for s in subjects)}"
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

    yield f"    Owner: {who(decision.owner)}, to acknowledge within {_minutes(decision.ack_within_minutes)}"
    yield f"    Also told: {', '.join(who(r) for r in decision.informed) or 'nobody else'}"
    yield f"    If not acknowledged: {' -> '.join(who(r) for r in decision.escalation)}"
    for citation in decision.citations:
        yield f"    Source: {citation}"


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
        if minutes:
            effects.append(f"acknowledged within {_minutes(minutes)}")
        yield f"  {FLAG_LABELS[flag]} [{flag.value}]: {'; '.join(effects) or 'no change'}"
        for citation in rule.citations if rule is not None else ():
            yield f"    Source: {citation.text}"


def _minutes(minutes: int) -> str:
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour" + ("s" if hours != 1 else "")
    return f"{minutes} minutes"
