"""A school's routing policy as data: roles, one rule per category, flag rules, citations."""

from __future__ import annotations

from dataclasses import dataclass, field

from routing.requests import RequestKind
from routing.vocabulary import OVERSIGHT_ROLES, Category, Flag, Subject, Target


@dataclass(frozen=True)
class Citation:
    """Where a rule comes from: a quoted phrase of a policy section, or a statutory default."""

    text: str
    section: str | None = None
    quote: str | None = None
    kind: str = "policy"  # "policy" (a quoted section), "statutory" or "choice" (the school's own)


@dataclass(frozen=True)
class Section:
    """A section of the policy document, as its heading stands in the text."""

    id: str
    title: str
    heading: str


@dataclass(frozen=True)
class RoleDef:
    """A role with the name this policy uses, and who stands in when it must be left out."""

    id: str
    name: str
    deputy: str | None = None
    oversight: bool = False  # a governor or trust executive: oversees, never handles a child's case


@dataclass(frozen=True)
class Plan:
    """Who owns a report, who is told, the ladder and the deadline, before any exclusion."""

    owner: str
    informed: tuple[str, ...]
    escalation: tuple[str, ...]
    ack_within_minutes: int
    citations: tuple[Citation, ...]


@dataclass(frozen=True)
class Override:
    """Changes a rule makes for one subject; None keeps the category's value."""

    owner: str | None = None
    informed: tuple[str, ...] | None = None
    escalation: tuple[str, ...] | None = None
    ack_within_minutes: int | None = None
    citations: tuple[Citation, ...] = ()


@dataclass(frozen=True)
class FlagRule:
    """What a flag does: a new owner, more people told, a new ladder, a tighter deadline."""

    owner: str | None = None
    inform: tuple[str, ...] = ()
    escalation: tuple[str, ...] | None = None
    ack_within_minutes: int | None = None
    citations: tuple[Citation, ...] = ()


@dataclass(frozen=True)
class Rule:
    """The routing for one report category, with per-subject overrides."""

    category: Category
    plan: Plan
    subjects: dict[Subject, Override] = field(default_factory=dict)
    # Cyberbullying: the rule for a member of staff or the school being bullied; the rule's own
    # plan is for a pupil (and for a report that does not say, so a child's case is never missed).
    targets: dict[Target, Rule] = field(default_factory=dict)

    def for_target(self, target: Target | None) -> Rule:
        """The rule for a report about bullying of `target` (this rule where it has none of its own)."""
        return self.targets.get(target, self) if target is not None else self

    def for_subject(self, subject: Subject) -> Plan:
        """The plan for a report about `subject`.

        An override that changes the owner brings its own citations only: the rule's would
        justify the owner it replaces. Otherwise its citations follow the rule's.
        """
        override = self.subjects.get(subject)
        if override is None:
            return self.plan
        base = self.plan
        return Plan(
            owner=override.owner or base.owner,
            informed=base.informed if override.informed is None else override.informed,
            escalation=base.escalation if override.escalation is None else override.escalation,
            ack_within_minutes=override.ack_within_minutes or base.ack_within_minutes,
            citations=override.citations if override.owner else base.citations + override.citations,
        )


@dataclass(frozen=True)
class Policy:
    """A whole policy preset or file."""

    id: str
    name: str
    source: str
    roles: dict[str, RoleDef]
    rules: dict[Category, Rule]
    flags: dict[Flag, FlagRule] = field(default_factory=dict)
    combined_roles: tuple[frozenset[str], ...] = ()
    sections: dict[str, Section] = field(default_factory=dict)
    seed: str | None = None
    # Requests the policy sets out (routing.requests): a blocked site unblocked; none at Mersham.
    requests: dict[str, RequestKind] = field(default_factory=dict)

    def role_name(self, role: str) -> str:
        """The name this policy gives a role (its id if the policy does not define it)."""
        found = self.roles.get(role)
        return found.name if found else role

    def oversees(self, role: str) -> bool:
        """Whether `role` oversees rather than handles cases (a governor, a trust's executive)."""
        found = self.roles.get(role)
        return found.oversight if found else role in OVERSIGHT_ROLES

    def held_with(self, roles: frozenset[str]) -> frozenset[str]:
        """`roles` plus every role the policy says the same person holds with one of them."""
        result = set(roles)
        for group in self.combined_roles:
            if group & roles:
                result |= group
        return frozenset(result)
