"""Do the approval requests' rows still say what the log recorded? (for `storage.walk`)

A request's row decides who may see it (everyone it was routed to) and what the requester is
told (approved or refused, and why), so editing it outside Safeguard could show a request to
someone it never reached, or turn a refusal into an approval. Each row must match its events:
made by whom, when, with what answers; passed on step by step to whom; decided by whom, when,
with what reasons; carried out by whom and when; reminded how often at its step. Whatever the
reference's prefix (AR-, or another kind's), requests are told apart by their events' kinds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.chains import chain_of
from storage.consistency import Fact, Mismatch
from storage.digests import text_digest
from storage.log import EventKind, canonical
from storage.models import ApprovalRequest, RequestStatus

MADE, PASSED_ON, REMINDED, DONE = (EventKind.REQUEST_MADE, EventKind.REQUEST_PASSED_ON, EventKind.REQUEST_REMINDED,
                                   EventKind.REQUEST_DONE)
DECISIONS = {EventKind.REQUEST_APPROVED: RequestStatus.APPROVED.value,
             EventKind.REQUEST_REFUSED: RequestStatus.REFUSED.value}
KINDS = frozenset({MADE, PASSED_ON, REMINDED, DONE, *DECISIONS})


@dataclass
class _Told:
    """What the log says of one request, in its order."""

    made: Fact | None = None
    passes: list[Fact] = field(default_factory=list)
    decision: Fact | None = None
    done: Fact | None = None
    reminded: list[Fact] = field(default_factory=list)
    first: Fact | None = None


def _data(fact: Fact) -> dict[str, Any]:
    return fact.data if isinstance(fact.data, dict) else {}


async def requests_mismatch(session: AsyncSession, facts: Sequence[Fact], chain: str) -> Mismatch | None:
    """The first request of `chain` (by reference) whose row no longer says what the log says, if any."""
    told: dict[str, _Told] = {}
    for fact in facts:
        if fact.kind not in KINDS or fact.report is None:
            continue
        story = told.setdefault(fact.report, _Told(first=fact))
        if fact.kind == MADE:
            story.made = story.made or fact
        elif fact.kind == PASSED_ON:
            story.passes.append(fact)
        elif fact.kind in DECISIONS:
            story.decision = fact
        elif fact.kind == DONE:
            story.done = fact
        else:
            story.reminded.append(fact)
    # Requests are few beside reports: all rows are read, and each kept to its reference's chain.
    rows = await session.execute(select(
        ApprovalRequest.reference, ApprovalRequest.requester, ApprovalRequest.created_at, ApprovalRequest.kind,
        ApprovalRequest.answers, ApprovalRequest.status, ApprovalRequest.step, ApprovalRequest.approver,
        ApprovalRequest.approver_role, ApprovalRequest.approvers, ApprovalRequest.reminders,
        ApprovalRequest.decided_at, ApprovalRequest.decided_by, ApprovalRequest.reasons, ApprovalRequest.done_at,
        ApprovalRequest.done_by,
    ).order_by(ApprovalRequest.reference))
    for row in rows:
        if chain_of(row.reference) != chain:
            continue
        found = _row_mismatch(row, told.pop(row.reference, None))
        if found is not None:
            return found
    gone = [story.first for story in told.values() if story.first is not None]
    if gone:
        first = min(gone, key=lambda f: f.seq)
        return Mismatch(first.seq, f"request {first.report} is missing from the requests table, so it was deleted "
                                   f"({first.label} is about it)")
    return None


def _row_mismatch(row: Any, story: _Told | None) -> Mismatch | None:
    ref = row.reference
    if story is None or story.made is None:
        return Mismatch(None, f"request {ref} has no request_made event in the log, so it was added outside Safeguard")
    made = story.made
    if (row.requester, row.created_at, row.kind) != (made.actor, made.at, _data(made).get("kind")):
        return Mismatch(made.seq, f"request {ref} was edited: who made it, when or its kind no longer match {made.label}")
    if text_digest(canonical(row.answers)) != _data(made).get("answers_digest"):
        return Mismatch(made.seq, f"request {ref} was edited: its answers no longer match their digest in {made.label}")
    decision = story.decision
    expected = DECISIONS[EventKind(decision.kind)] if decision is not None else RequestStatus.OPEN.value
    if row.status != expected:
        return Mismatch(decision.seq if decision else None,
                        f"request {ref} was edited: its status is {row.status!r} but the log makes it {expected!r}")
    return _route_mismatch(row, story, made) or _outcome_mismatch(row, story)


def _route_mismatch(row: Any, story: _Told, made: Fact) -> Mismatch | None:
    """The step, who it went to, and the reminders at this step, against the passing-on events."""
    ref = row.reference
    last_move = story.passes[-1] if story.passes else made
    if row.step != len(story.passes):
        return Mismatch(last_move.seq, f"request {ref} was edited: it is at step {row.step + 1}, but the log passed "
                                       f"it on {len(story.passes)} time(s) (the last move is {last_move.label})")
    routed = [_data(made).get("to"), *(_data(p).get("to") for p in story.passes)]
    # After approval the person who carries it out (from the school's config) may join them.
    extra = 1 if story.decision is not None and story.decision.kind == EventKind.REQUEST_APPROVED else 0
    approvers = list(row.approvers) if isinstance(row.approvers, list) else []
    if approvers[:len(routed)] != routed or len(approvers) > len(routed) + extra:
        return Mismatch(last_move.seq, f"request {ref} was edited: who it was routed to no longer matches the log "
                                       f"(the last routing is {last_move.label})")
    if row.status == RequestStatus.OPEN.value and (row.approver, row.approver_role) != (
        routed[-1], _data(last_move).get("to_role")
    ):
        return Mismatch(last_move.seq, f"request {ref} was edited: who holds it now no longer matches {last_move.label}")
    reminded = [f for f in story.reminded if _data(f).get("step") == row.step]
    if row.reminders != len(reminded):
        return Mismatch(reminded[-1].seq if reminded else last_move.seq,
                        f"request {ref} was edited: it counts {row.reminders} reminder(s) at its step, "
                        f"but the log has {len(reminded)}")
    return None


def _outcome_mismatch(row: Any, story: _Told) -> Mismatch | None:
    """Approved or refused, by whom, when and why; carried out by whom and when."""
    ref = row.reference
    decision = story.decision
    said = (row.decided_by, row.decided_at)
    if decision is None:
        if said != (None, None) or row.reasons is not None:
            return Mismatch(None, f"request {ref} says it was decided, but the log has no decision on it, "
                                  "so the request was edited")
    elif said != (decision.actor, decision.at) or text_digest(row.reasons or "") != _data(decision).get("reasons_digest"):
        return Mismatch(decision.seq, f"request {ref} was edited: who decided it, when or the reasons no longer "
                                      f"match {decision.label}")
    done = story.done
    if (row.done_by, row.done_at) != ((done.actor, done.at) if done else (None, None)):
        what = done.label if done else "the log, which has no record of it being carried out"
        return Mismatch(done.seq if done else None,
                        f"request {ref} was edited: who carried it out and when no longer match {what}")
    return None
