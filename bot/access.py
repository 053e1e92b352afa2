"""Who may see or act on a report, and who may export the log: decided here and nowhere else.

| party                                     | view, acknowledge, note, record action, close, LADO | export its log  | export the whole log   |
|-------------------------------------------|------------------------------------------------------|-----------------|------------------------|
| its owner, anyone informed                | yes                                                  | yes             | if they are the DSL    |
| a ladder rung it has escalated to         | yes                                                  | yes             | if they are the DSL    |
| a ladder rung not yet reached             | no                                                   | if the DSL      | if they are the DSL    |
| the DSL, when it was not routed to them   | no                                                   | yes             | yes                    |
| the person it is about, whatever roles    | no                                                   | no              | only without it        |
| its reporter, unless also a recipient     | no (they hear only that it was acknowledged)         | if the DSL      | if they are the DSL    |
| anyone else                               | no                                                   | no              | no                     |

`may` answers the first column, `may_export_report` and `may_export_log` the others. Each
refusal is logged by whoever asked: bot/lifecycle.py (and bot/teams/invoke.py's card
refresh, through it) for the chat actions, bot/log_export.py for `safeguard log export`.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from routing.school import Person
from routing.vocabulary import SUBJECT_ROLES, Role, Subject
from storage.models import Recipient, RecipientKind, Report

# KCSIE 2024 Annex C: the DSL keeps the school's child protection files; St Leonard's §2: the DSL
# maintains the log of abuse relating to the school. (BPET §2 gives that log to its Head of
# Marketing and Communications, but it is a log of comments on the school's accounts, not of
# safeguarding reports, so that role gets no part of this one.) Deputies act for the DSL when a
# report reaches them, but the lead responsibility, and so the whole record, stays with the DSL.
# At Mersham the headteacher is the DSL and so oversees the log through that role.
OVERSEERS = frozenset({Role.DSL.value})


class Action(StrEnum):
    """What a person can do to a report."""

    VIEW = "view"
    ACKNOWLEDGE = "acknowledge"
    NOTE = "note"
    RECORD_ACTION = "record_action"
    CLOSE = "close"
    LADO = "lado"  # record that the LADO was consulted about an allegation
    EXPORT = "export"  # `safeguard log export --report`: the report's events, on this person's authority


def may(person_id: str, action: Action, report: Report, recipients: Iterable[Recipient]) -> bool:
    """Whether `person_id` may do `action` to `report`, as someone it was routed to.

    Only the people a report was routed to (its owner and those informed) and those the
    escalation ladder has reached may see or act on it (DESIGN rule 5). A rung of the
    ladder not yet reached has not been told, so its holder may not. The person a report
    is about never may, checked by person whatever roles they hold, even should a stale
    config have routed it to them (DESIGN rule 1). The reporter is not a recipient: they
    hear that it was acknowledged, never what was done (St Leonard's §8 hands the case to
    the headteacher or DSL), unless it was also routed to them.

    Every action asks the same entitlement. Closing included: neither DESIGN nor the
    policies keep it to the owner (St Leonard's §8 has the DSL, who is informed of pupil
    misuse the headteacher owns, "manage concerns" too), so anyone told may close.
    """
    if person_id == report.subject_person:
        return False
    return any(
        r.person_id == person_id and (r.kind != RecipientKind.ESCALATION.value or r.escalated_at is not None)
        for r in recipients
    )


def oversees(person: Person) -> bool:
    """Whether `person` holds a role entitled to the whole safeguarding record (see OVERSEERS)."""
    return bool(OVERSEERS & set(person.roles))


def is_about(person: Person, report: Report) -> bool:
    """Whether `report` is about `person` (DESIGN rule 1), judged as routing judged it.

    A report naming its subject is about that person alone. One that names only a role
    ("the headteacher") is about everyone who now holds that role: if the role has
    changed hands since, leaving the new holder out errs on the side of rule 1.
    """
    if report.subject_person is not None:
        return report.subject_person == person.id
    roles = SUBJECT_ROLES.get(Subject(report.subject), frozenset())
    return bool(roles & set(person.roles))


def may_export_report(person: Person, report: Report | None, recipients: Iterable[Recipient]) -> bool:
    """Whether `person`'s authority covers exporting one report's events (`report` None: no such report).

    The log holds no report's words (free text goes in only as digests), so exporting a
    report's events shows less than viewing it: whoever may view it may export it, and so
    may the DSL, who may export the whole log. Never the person it is about (rule 1). A
    reference with no report is exported (empty) only for the DSL, so that anyone else is
    answered alike whether or not the report exists.
    """
    if report is None:
        return oversees(person)
    if is_about(person, report):
        return False
    return oversees(person) or may(person.id, Action.EXPORT, report, recipients)


def may_export_log(person: Person) -> bool:
    """Whether `person`'s authority covers exporting the whole log; the reports about them are then left out."""
    return oversees(person)
