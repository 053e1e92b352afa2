"""Drafts left alone: one reminder after half an hour idle, discarded after a day."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from dialogs.prompts import CANCEL, CARRY_ON, InputKind, Reply, Tone
from dialogs.state import Draft, utc

REMIND_AFTER = timedelta(minutes=30)
EXPIRE_AFTER = timedelta(hours=24)


def needs_reminder(draft: Draft, now: datetime) -> bool:
    """Idle for REMIND_AFTER, not expired, and not reminded since the reporter last answered."""
    idle = utc(now) - draft.updated_at
    reminded = draft.reminded_at is not None and draft.reminded_at >= draft.updated_at
    return REMIND_AFTER <= idle < EXPIRE_AFTER and not reminded


def mark_reminded(draft: Draft, now: datetime) -> Draft:
    """The draft with its reminder recorded; idle time still counts from the last answer."""
    return replace(draft, reminded_at=utc(now))


def is_expired(draft: Draft, now: datetime) -> bool:
    """Idle for EXPIRE_AFTER: the caller discards it (nothing was sent)."""
    return utc(now) - draft.updated_at >= EXPIRE_AFTER


def reminder() -> Reply:
    """The nudge for an unfinished report; Carry on re-shows the question (handle() takes it at any step)."""
    return Reply(
        "You have a report you haven't finished. Carry on where you left off?",
        tone=Tone.QUESTION,
        input=InputKind.CHOICE,
        choices=(CARRY_ON, CANCEL),
    )


def expired() -> Reply:
    """What to say when an unfinished report is discarded."""
    return Reply("Your unfinished report was discarded after 24 hours. Nothing was sent.", tone=Tone.DONE)
