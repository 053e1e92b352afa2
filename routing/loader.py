"""Loading policies from YAML: the five presets by name, or a school's own file by path."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from routing.policy import Citation, FlagRule, Override, Plan, Policy, RoleDef, Rule, Section
from routing.requests import read_requests
from routing.vocabulary import OVERSIGHT_ROLES, Category, Flag, Subject, Target, allowed
from routing.yamlfields import IDENTIFIER, Fields, InputError, load_yaml

PRESET_DIR = Path(__file__).parent / "presets"
DEFAULT_PRESET = "st-leonards"
PRESETS = ("st-leonards", "principal-slt", "bpet", "mersham", "perryfields")

_PLAN_KEYS = ("owner", "informed", "escalation", "ack_within_minutes", "cite")


def resolve_policy(name_or_path: str, *, relative_to: Path | None = None) -> Policy:
    """A preset by name, or a policy file by path (relative paths from `relative_to`)."""
    if name_or_path in PRESETS:
        return load_policy(PRESET_DIR / f"{name_or_path}.yaml", policy_id=name_or_path)
    path = Path(name_or_path)
    if relative_to is not None and not path.is_absolute():
        path = relative_to / path
    if path.suffix in (".yaml", ".yml") or path.exists():
        return load_policy(path)
    raise UnknownPolicy(f"unknown policy {name_or_path!r}: not a preset ({', '.join(PRESETS)}) nor a policy file")


class UnknownPolicy(InputError):
    """A policy name that is neither a preset nor a file."""


def load_policy(path: Path, *, policy_id: str | None = None) -> Policy:
    """Read and check the structure of one policy file."""
    top = Fields(load_yaml(path), str(path))
    top.only(("id", "name", "source", "seed", "roles", "combined_roles", "sections", "rules", "flags", "requests"),
             anchors=True)
    source = top.string("source")
    sections = _sections(top)
    cite = _CitationReader(source, sections)
    rules: dict[Category, Rule] = {}
    rules_fields = top.child("rules")
    for key, value in rules_fields.data.items():
        category = _member(Category, key, rules_fields)
        rules[category] = _rule(category, rules_fields.nested(value, str(key)), cite)
    flags: dict[Flag, FlagRule] = {}
    if top.data.get("flags") is not None:
        flags_fields = top.child("flags")
        for key, value in flags_fields.data.items():
            flag = _member(Flag, key, flags_fields)
            flags[flag] = _flag_rule(flags_fields.nested(value, str(key)), cite)
    return Policy(
        id=policy_id or top.optional_string("id") or path.stem,
        name=top.string("name"),
        source=source,
        seed=top.optional_string("seed"),
        roles=_roles(top),
        rules=rules,
        flags=flags,
        combined_roles=_combined(top),
        sections=sections,
        requests=read_requests(top, cite),
    )


def _roles(top: Fields) -> dict[str, RoleDef]:
    roles_fields = top.child("roles")
    roles: dict[str, RoleDef] = {}
    for key, value in roles_fields.data.items():
        if not isinstance(key, str) or not IDENTIFIER.match(key):
            raise roles_fields.error(f"{key!r} is not a role id (lower case letters, digits, _)")
        role = roles_fields.nested(value, key)
        role.only(("name", "deputy", "oversight"))
        oversight = role.data.get("oversight", key in OVERSIGHT_ROLES)
        if not isinstance(oversight, bool):
            raise role.error(f"expected true or false, found {oversight!r}", "oversight")
        roles[key] = RoleDef(id=key, name=role.string("name"), deputy=role.optional_string("deputy"),
                             oversight=oversight)
    if not roles:
        raise roles_fields.error("defines no roles")
    return roles


def _combined(top: Fields) -> tuple[frozenset[str], ...]:
    raw = top.data.get("combined_roles") or []
    if not isinstance(raw, list):
        raise top.error("expected a list of role lists", "combined_roles")
    groups = []
    for index, group in enumerate(raw):
        holder = Fields({"roles": group}, top.where, f"combined_roles[{index}]")
        roles = holder.identifiers("roles")
        if len(roles) < 2:
            raise holder.error("a combined group needs at least two roles")
        groups.append(frozenset(roles))
    return tuple(groups)


def _sections(top: Fields) -> dict[str, Section]:
    if top.data.get("sections") is None:
        return {}
    sections_fields = top.child("sections")
    sections: dict[str, Section] = {}
    for key, value in sections_fields.data.items():
        section = sections_fields.nested(value, str(key))
        section.only(("title", "heading"))
        title = section.string("title")
        sections[str(key)] = Section(id=str(key), title=title, heading=section.string("heading", title))
    return sections


def _rule(category: Category, fields: Fields, cite: _CitationReader, *, nested: bool = False) -> Rule:
    # Only a category's own rule may split by who is being bullied; a target's rule may not split again.
    fields.only((*_PLAN_KEYS, "subjects") if nested else (*_PLAN_KEYS, "subjects", "targets"))
    plan = Plan(
        owner=fields.string("owner"),
        informed=fields.identifiers("informed", []),
        escalation=fields.identifiers("escalation"),
        ack_within_minutes=fields.integer("ack_within_minutes") or _missing(fields, "ack_within_minutes"),
        citations=cite.read(fields, required=True),
    )
    subjects: dict[Subject, Override] = {}
    if fields.data.get("subjects") is not None:
        subjects_fields = fields.child("subjects")
        for key, value in subjects_fields.data.items():
            subject = _member(Subject, key, subjects_fields)
            sub = subjects_fields.nested(value, str(key))
            sub.only(_PLAN_KEYS)
            subjects[subject] = Override(
                owner=sub.optional_string("owner"),
                informed=sub.identifiers("informed") if "informed" in sub.data else None,
                escalation=sub.identifiers("escalation") if "escalation" in sub.data else None,
                ack_within_minutes=sub.integer("ack_within_minutes"),
                citations=cite.read(sub, required=True),
            )
    targets: dict[Target, Rule] = {}
    if fields.data.get("targets") is not None:
        if category is not Category.CYBERBULLYING:
            raise fields.error("only the cyberbullying rule can route by who is being bullied", "targets")
        targets_fields = fields.child("targets")
        for key, value in targets_fields.data.items():
            target = _member(Target, key, targets_fields)
            targets[target] = _rule(category, targets_fields.nested(value, str(key)), cite, nested=True)
    return Rule(category=category, plan=plan, subjects=subjects, targets=targets)


def _flag_rule(fields: Fields, cite: _CitationReader) -> FlagRule:
    fields.only(("owner", "inform", "escalation", "ack_within_minutes", "cite"))
    return FlagRule(
        owner=fields.optional_string("owner"),
        inform=fields.identifiers("inform", []),
        escalation=fields.identifiers("escalation") if "escalation" in fields.data else None,
        ack_within_minutes=fields.integer("ack_within_minutes"),
        citations=cite.read(fields, required=True),
    )


class _CitationReader:
    """Turns `cite:` entries into the sentences a headteacher reads when signing off."""

    def __init__(self, source: str, sections: dict[str, Section]) -> None:
        self.source = source
        self.sections = sections

    def read(self, fields: Fields, *, required: bool) -> tuple[Citation, ...]:
        raw = fields.data.get("cite")
        if raw is None and not required:
            return ()
        if not isinstance(raw, list) or not raw:
            raise fields.error("needs at least one citation: the policy section it rests on", "cite")
        return tuple(self._one(fields.nested(entry, f"cite[{i}]")) for i, entry in enumerate(raw))

    def _one(self, entry: Fields) -> Citation:
        if "choice" in entry.data:
            # Where the policy is silent and no statute decides it either (how fast, who next):
            # the preset's default, which the school may change, and never dressed up as policy.
            entry.only(("choice",))
            return Citation(
                text=f"The school's own choice ({self.source} is silent; Safeguard's default): {entry.string('choice')}",
                kind="choice",
            )
        if "statutory" in entry.data:
            entry.only(("statutory", "says"))
            return Citation(
                text=(
                    f"Statutory default ({self.source} is silent): "
                    f"{entry.string('statutory')}: {entry.string('says')}"
                ),
                kind="statutory",
            )
        entry.only(("section", "quote"))
        section_id = entry.string("section")
        quote = entry.string("quote")
        section = self.sections.get(section_id)
        if section is None:
            known = ", ".join(self.sections) or "none"
            raise entry.error(f"unknown section {section_id!r}; sections defined: {known}", "section")
        label = section_id if section_id == section.title else f"{section_id} {section.title}"
        return Citation(text=f'{self.source}, {label}: "{quote}"', section=section_id, quote=quote)


_E = TypeVar("_E", Category, Subject, Flag, Target)


def _member(enum: type[_E], key: object, fields: Fields) -> _E:
    try:
        if not isinstance(key, str):
            raise ValueError(key)
        return enum(key)
    except ValueError:
        raise fields.error(f"unknown {enum.__name__.lower()} {key!r}; allowed: {allowed(enum)}") from None


def _missing(fields: Fields, key: str) -> int:
    raise fields.error("missing", key)
