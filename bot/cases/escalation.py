"""Escalation: a deadline passes unacknowledged, so the next rung of the ladder is alerted and the owner reminded.

Each step runs in one transaction: the report's step guard, the rung marked as reached (so
bot.cases.access lets them act), the alerts and reminders queued in the outbox, and the event that
logs it. The clocks live on the report rows (`next_escalation_at`, `lado_due_at`), so a server
that was down catches up at its next start: each report due escalates once, and its next
step is counted from then. The reporter is never told who failed to respond.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import STORE_ERRORS, App
from bot.cases.lifecycle import as_routed
from bot.cases.messages import waited_words
from routing.engine import clock_for, due_at
from routing.vocabulary import Role
from storage import escalations
from storage import reports as store
from storage.alerts import queue_alert
from storage.log import SYSTEM, EventKind, append_event, timestamp
from storage.models import NoticeKind, Recipient, RecipientKind, Report

log = logging.getLogger(__name__)

# At most this many steps per round, so one round cannot hold the scheduler for long.
ROUND_LIMIT = 200


@dataclass(frozen=True)
class Step:
    """One escalation step taken: who was newly alerted (the rung, by role), and who was reminded."""

    reference: str
    step: int
    role: str | None  # None once the ladder is used up: then everyone already asked is reminded
    alerted: tuple[str, ...]
    reminded: tuple[str, ...]


async def escalate_due(app: App) -> list[Step]:
    """Take every escalation step that has fallen due, each once; what was done."""
    return await _each_due(app, escalations.next_due, _escalate, "escalation")


async def remind_lado_due(app: App) -> list[str]:
    """Remind the owners of allegations whose working day for consulting the LADO has passed; the references."""
    steps = await _each_due(app, escalations.next_lado_due, _remind_lado, "lado_reminder")
    return [step.reference for step in steps]


Finder = Callable[..., Awaitable[Report | None]]
Taker = Callable[[App, AsyncSession, Report, datetime], Awaitable[Step | None]]


async def _each_due(app: App, find: Finder, take: Taker, kind: str) -> list[Step]:
    """One transaction per due report, so one that fails cannot hold back the rest; each step taken is counted as `kind`."""
    now = app.now()
    done: list[Step] = []
    tried: set[int] = set()
    while len(tried) < ROUND_LIMIT:
        try:
            async with app.sessions.begin() as session:
                report = await find(session, now=now, skip=tried)
                if report is None:
                    break
                tried.add(report.id)
                # Under the report's own school: its policy's ladder, its calendar, its people.
                step = await take(app.at(report.school), session, report, now)
        except STORE_ERRORS:
            # Nothing of this step was committed; the report is still due and goes next round.
            log.exception("an escalation round stopped: the database failed")
            break
        if step is not None:
            done.append(step)
            app.metrics.escalated(report.school, kind)
    return done


async def _escalate(app: App, session: AsyncSession, report: Report, now: datetime) -> Step | None:
    decision, recipients = await store.get_routing(session, report)
    if decision is None:
        return None
    step = report.escalation_step + 1
    # Each rung gets as long as the owner had (the routing decision's deadline) before the next,
    # on the same clock: school hours, unless a child is at immediate risk.
    clock = clock_for(as_routed(report), app.school, report.created_at)
    next_at = due_at(app.school, clock, now, decision.ack_within_minutes)
    if not await escalations.take_step(session, report=report, step=step, next_at=next_at):
        return None  # another scheduler took this step
    asked = [r for r in recipients if r.kind == RecipientKind.OWNER.value or r.escalated_at is not None]
    waiting = [r for r in recipients if r.kind == RecipientKind.ESCALATION.value and r.escalated_at is None]
    rung = [r for r in waiting if r.role == waiting[0].role] if waiting else []
    waited = waited_words(now - report.created_at)
    dsl: list[Recipient] = []
    if not rung:
        # Past the last rung the DSL, who leads on every child's case (KCSIE Part one), hears it
        # again even if only told of it or on a rung already passed; the digest counts these rounds.
        dsl = [r for r in recipients if r.role == Role.DSL.value and r not in asked]
        await escalations.mark_reached(session, now=now, rung=[r for r in dsl if r.kind == RecipientKind.ESCALATION.value])
    reminded = await _queue(app, session, report, [*asked, *dsl], NoticeKind.REMINDER, now, round=step)
    if rung:
        await escalations.mark_reached(session, now=now, rung=rung)
        alerted = await _queue(app, session, report, rung, NoticeKind.ALERT, now)
        role: str | None = rung[0].role
        kind = EventKind.ESCALATED
        data: dict[str, object] = {"step": step, "role": role, "to": [r.person_id for r in rung]}
    else:
        alerted, role, kind = (), None, EventKind.REMINDED
        data = {"step": step, "ladder_used_up": True, "dsl_realerted": sorted({r.person_id for r in dsl} & set(reminded))}
    data |= {"reminded": list(reminded), "waited": waited, "deadline": _when(report.ack_deadline)}
    await append_event(session, now=now, actor=SYSTEM, kind=kind, report_ref=report.reference, data=data)
    log.warning("%s not acknowledged after %s: step %d, %s", report.reference, waited, step,
                f"escalated to {role}" if role else "ladder used up, reminders sent")
    return Step(report.reference, step, role, alerted, reminded)


async def _remind_lado(app: App, session: AsyncSession, report: Report, now: datetime) -> Step | None:
    if not await escalations.take_lado_reminder(session, now=now, report=report):
        return None
    _, recipients = await store.get_routing(session, report)
    owners = [r for r in recipients if r.kind == RecipientKind.OWNER.value]
    if report.acknowledged_by is not None and report.acknowledged_by not in {r.person_id for r in owners}:
        # Whoever took the case on (say, a deputy after escalation) is its owner in practice.
        owners += [r for r in recipients if r.person_id == report.acknowledged_by][:1]
    reminded = await _queue(app, session, report, owners, NoticeKind.LADO, now)
    return Step(report.reference, 0, None, (), reminded)


async def _queue(
    app: App, session: AsyncSession, report: Report, people: Sequence[Recipient], kind: NoticeKind, now: datetime,
    *, round: int = 0,
) -> tuple[str, ...]:
    """Queue `kind` for each person on their channel; the ids of those it could be queued for."""
    queued = []
    for person in dict.fromkeys(r.person_id for r in people):
        channel = app.channel_for(person)
        if channel is None:
            log.warning("%s: %s cannot be reached on any running channel", report.reference, person)
            continue
        await queue_alert(session, now=now, report=report, person_id=person, channel=channel, kind=kind, round=round)
        queued.append(person)
    return tuple(queued)


def _when(at: datetime | None) -> str | None:
    return timestamp(at) if at is not None else None
