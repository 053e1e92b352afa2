"""Requests that pass through approval steps (a blocked site unblocked, a school social media account).

A preset lists each kind its policy sets out under `requests:`: the form's fields and the steps
that approve it, each step a role (and who approves instead when the requester holds it), all
as data, so a second kind is a block of YAML, not code. Routing a request is pure: who approves
a step, given the school's people and who asked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from routing.request_form import MAX_ANSWER, FieldKind, FormField, read_fields
from routing.yamlfields import IDENTIFIER, Fields

if TYPE_CHECKING:
    from typing import Protocol

    from routing.policy import Citation
    from routing.school import Person, School

    class CitationReader(Protocol):
        """Reads a `cite:` list (routing.loader's reader)."""

        def read(self, fields: Fields, *, required: bool) -> tuple[Citation, ...]: ...

REFERENCE_PREFIX = re.compile(r"^[A-Z]{2,3}$")  # AR, SM: never SG, a report's


class StepKind(StrEnum):
    """What a step's approver can do: pass the request on to the next step, or decide it."""

    REVIEW = "review"  # pass on or refuse (the online safety officer, St Leonard's §9)
    APPROVE = "approve"  # approve or refuse (the headteacher, St Leonard's §9)
    # Approve the part `approves` names and pass it on, or refuse (St Leonard's appendix C: the
    # communications officer approves the aims, content and brand before the headteacher's final approval).
    ENDORSE = "endorse"


@dataclass(frozen=True)
class Step:
    """One approval step: the role that acts, and who acts instead when the requester holds that role."""

    role: str
    kind: StepKind
    instead: str | None
    citations: tuple[Citation, ...]
    instead_citations: tuple[Citation, ...] = ()
    approves: str = ""  # for an endorse step: the part it approves ("the aims, content and brand use")


@dataclass(frozen=True)
class RequestKind:
    """A kind of request a policy sets out: its form, its approval steps, and its clock."""

    id: str
    title: str
    command: str  # the chat command that starts it (/unblock)
    fields: tuple[FormField, ...]
    steps: tuple[Step, ...]
    act_within_minutes: int
    citations: tuple[Citation, ...]
    # Who records the outcome once approved (the online safety officer unblocks the site), if anyone.
    done_by: str | None = None
    done_label: str = ""
    reference_prefix: str = "AR"  # AR-2026-0001; AR-BPA-2026-0001 in a trust


@dataclass(frozen=True)
class Approver:
    """Who acts on a step for one request: a person, the role they act in, and why if not the step's own role."""

    person: Person
    role: str
    instead_of: str | None = None  # the step's role, when the requester holds it and someone else acts


class NoApprover(Exception):
    """Nobody but the requester holds the step's role (or its stand-in): the config must name someone."""


def approver(school: School, step: Step, requester: str) -> Approver:
    """Who acts on `step` for a request by `requester`: never the requester themself.

    A request by the holder of the step's role goes to the step's `instead` role: nobody
    approves their own request (the same rule that keeps a concern from the person it is about).
    """
    for role, instead_of in ((step.role, None), (step.instead, step.role)):
        if role is None:
            continue
        for person in school.holders(role):
            if person.id != requester:
                return Approver(person, role, instead_of)
    raise NoApprover(f"nobody but the requester holds {step.role}" + (f" or {step.instead}" if step.instead else ""))


def read_requests(top: Fields, cite: CitationReader) -> dict[str, RequestKind]:
    """The `requests:` block of a policy file (none: the policy sets out no such procedure)."""
    if top.data.get("requests") is None:
        return {}
    block = top.child("requests")
    kinds: dict[str, RequestKind] = {}
    for key, value in block.data.items():
        if not isinstance(key, str) or not IDENTIFIER.match(key):
            raise block.error(f"{key!r} is not a request kind id (lower case letters, digits, _)")
        kinds[key] = _kind(key, block.nested(value, key), cite)
    return kinds


def _kind(kind_id: str, fields: Fields, cite: CitationReader) -> RequestKind:
    fields.only(("title", "command", "fields", "steps", "act_within_minutes", "cite", "done_by", "done_label",
                 "reference_prefix"))
    read = cite.read
    form = read_fields(fields.child("fields"))
    prefix = fields.string("reference_prefix", "AR")
    if not REFERENCE_PREFIX.match(prefix) or prefix == "SG":
        raise fields.error(f"{prefix!r} is not a reference prefix: two or three capital letters, not SG",
                           "reference_prefix")
    raw_steps = fields.data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise fields.error("needs at least one approval step", "steps")
    steps: list[Step] = []
    for index, raw in enumerate(raw_steps):
        step = fields.nested(raw, f"steps[{index}]")
        step.only(("role", "kind", "instead", "cite", "instead_cite", "approves"))
        kind = step.string("kind")
        if kind not in set(StepKind):
            raise step.error(f"unknown step kind {kind!r}; allowed: {', '.join(StepKind)}", "kind")
        approves = step.string("approves") if kind == StepKind.ENDORSE else ""
        if kind != StepKind.ENDORSE and "approves" in step.data:
            raise step.error("only an endorse step names the part it approves", "approves")
        instead = step.optional_string("instead")
        instead_citations = read(Fields({"cite": step.data.get("instead_cite")}, step.where, step.path), required=True) \
            if instead is not None else ()
        steps.append(Step(step.string("role"), StepKind(kind), instead, read(step, required=True), instead_citations,
                          approves))
    if steps[-1].kind is not StepKind.APPROVE:
        raise fields.error("the last step must approve or refuse", "steps")
    return RequestKind(
        id=kind_id, title=fields.string("title"), command=fields.string("command"), fields=tuple(form),
        steps=tuple(steps), act_within_minutes=fields.integer("act_within_minutes") or 240,
        citations=read(fields, required=True), done_by=fields.optional_string("done_by"),
        done_label=fields.optional_string("done_label") or "", reference_prefix=prefix,
    )


def request_problems(kinds: dict[str, RequestKind], known_roles: set[str], school: School | None = None) -> list[tuple[str, str]]:
    """(where, problem) for each step naming an unknown role, or, with a school, one nobody can act on."""
    problems: list[tuple[str, str]] = []
    prefixes: dict[str, str] = {}
    for kind in kinds.values():
        if kind.reference_prefix in prefixes:
            problems.append((f"requests.{kind.id}.reference_prefix", f"{kind.reference_prefix} is "
                             f"{prefixes[kind.reference_prefix]}'s prefix too: each kind needs its own"))
        prefixes[kind.reference_prefix] = kind.id
        for index, step in enumerate(kind.steps):
            where = f"requests.{kind.id}.steps[{index}]"
            for role in (step.role, step.instead):
                if role is not None and role not in known_roles:
                    problems.append((where, f"names role {role!r}, which the policy does not define"))
            if school is None:
                continue
            # Someone with no role asks; then each holder of the step's role asks for themself.
            for requester in ("", *(p.id for p in school.holders(step.role))):
                try:
                    approver(school, step, requester)
                except NoApprover:
                    who = f"a request by {requester}" if requester else "a request"
                    problems.append((where, f"{who} reaches nobody: nobody else holds {step.role}"
                                            + (f" or {step.instead}" if step.instead else "")))
        if kind.done_by is not None and kind.done_by not in known_roles:
            problems.append((f"requests.{kind.id}.done_by", f"names role {kind.done_by!r}, which the policy does not define"))
        elif kind.done_by is not None and school is not None and not school.holders(kind.done_by):
            problems.append((f"requests.{kind.id}.done_by", f"nobody holds {kind.done_by} to carry it out"))
    return problems


def explain_requests(kinds: dict[str, RequestKind], role_name: Callable[[str], str], school: School | None = None) -> list[str]:
    """The requests block of `policy explain`: each kind's steps, who acts on them, and why."""
    if not kinds:
        return ["Requests: this policy sets out no request procedures (such as asking for a blocked",
                "site to be unblocked, or for a new social media site); /unblock and /socialmedia answer",
                "that they are not part of the school's policy."]
    lines = ["Requests (each step goes to the role named, never to the person who asked)"]

    def who(role: str) -> str:
        if school is None:
            return role_name(role)
        return f"{role_name(role)} ({', '.join(p.name for p in school.holders(role)) or 'nobody'})"

    for kind in kinds.values():
        lines.append(f"{kind.title} [{kind.id}], started with {kind.command}, references {kind.reference_prefix}-YEAR-NNNN:")
        lines.append(f"  Form: {'; '.join(f.label for f in kind.fields)}")
        for index, step in enumerate(kind.steps, 1):
            verb = {StepKind.REVIEW: "reviews it, then passes it on or refuses it",
                    StepKind.ENDORSE: f"approves {step.approves} and passes it on, or refuses it, with reasons",
                    StepKind.APPROVE: "approves or refuses it, with reasons"}[step.kind]
            lines.append(f"  Step {index}: {who(step.role)} {verb}; each step to act on within "
                         f"{kind.act_within_minutes // 60} school hours, then reminded")
            lines += [f"    Because: {c.text}" for c in step.citations]
            if step.instead is not None:
                lines.append(f"    When the {role_name(step.role)} asks: {who(step.instead)} instead")
                lines += [f"    Because: {c.text}" for c in step.instead_citations]
        if kind.done_by is not None:
            lines.append(f"  Once approved: {who(kind.done_by)} records when {kind.done_label}")
        lines += [f"  Because: {c.text}" for c in kind.citations]
    return lines
