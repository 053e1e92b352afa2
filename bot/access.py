"""Who may see or act on a report, decided here and nowhere else (DESIGN rule 5)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from storage.models import Recipient, RecipientKind, Report


class Action(StrEnum):
    """What a person can do to a report."""

    VIEW = "view"
    ACKNOWLEDGE = "acknowledge"
    NOTE = "note"
    RECORD_ACTION = "record_action"
    CLOSE = "close"
    LADO = "lado"  # record that the LADO was consulted about an allegation


def may(person_id: str, action: Action, report: Report, recipients: Iterable[Recipient]) -> bool:
    """Whether `person_id` may do `action` to `report`.

    Only the people a report was routed to (its owner and those informed) and those the
    escalation ladder has reached may see or act on it. A rung of the ladder not yet
    reached is not routed to anyone, so its holder may not. The person a report is about
    never may, even should a stale config have routed it to them (DESIGN rule 1).
    Every action asks the same entitlement today; `action` is here so that a narrower
    rule has one place to go.
    """
    if person_id == report.subject_person:
        return False
    return any(
        r.person_id == person_id and (r.kind != RecipientKind.ESCALATION.value or r.escalated_at is not None)
        for r in recipients
    )
