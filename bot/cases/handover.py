"""A report changing hands: reassigned by its owner or the DSL to another role holder, or reopened once closed.

Who may do either is bot.cases.access's to say (Action.REASSIGN, Action.REOPEN). To whom a
report may go is decided here, from the routing decision and the school config: someone
holding a role the policy gives such reports to (its owner's, those told, the ladder, and
the school's safeguarding and online-safety roles), never the person it is about, never its
reporter, never a governor on a case that is not about a senior adult (KCSIE). The reporter
is told of neither: the case is its owner's to manage.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App
from bot.cases import handover_words, lifecycle
from bot.cases.access import Action, is_about
from bot.cases.lifecycle import REASON_LENGTH, Result, as_routed
from dialogs import Reply, Tone
from dialogs.prompts import error
from dialogs.validation import Invalid, clean_text
from routing.engine import clock_for, due_at
from routing.school import Person
from routing.vocabulary import SENIOR_SUBJECTS, Role, Subject
from storage import handover as store_handover
from storage.alerts import queue_alert
from storage.models import NoticeKind, Recipient, RecipientKind, Report, RoutingDecision

log = logging.getLogger(__name__)

# Roles that handle cases at every school, whatever a report's routing named: a report can
# always be handed to the school's safeguarding leads, its headteacher or its online safety officer.
HANDLING_ROLES = (Role.DSL.value, Role.DEPUTY_DSL.value, Role.HEADTEACHER.value, Role.ONLINE_SAFETY_OFFICER.value)


@dataclass(frozen=True)
class Candidate:
    """Someone a report may be reassigned to, and the role they would own it in."""

    person: Person
    role: str
    role_name: str = ""  # the role as the report's own school names it (in a trust, schools name roles apart)


def owner_roles(app: App, report: Report, decision: RoutingDecision | None) -> list[str]:
    """The roles a report like this may be owned in: those its routing named, then the school's handling roles."""
    named = [decision.owner_role, *decision.informed, *decision.escalation] if decision is not None else []
    roles = dict.fromkeys([*(str(role) for role in named), *HANDLING_ROLES])
    # KCSIE: governors oversee through counts; they handle only cases about senior adults.
    senior = Subject(report.subject) in SENIOR_SUBJECTS
    return [role for role in roles if senior or not app.school.policy.oversees(role)]


def why_not(app: App, report: Report, recipients: Sequence[Recipient], decision: RoutingDecision | None,
            person: Person) -> str | None:
    """Why `report` may not be reassigned to `person`; None if it may."""
    if is_about(person, report):
        return f"it is about {person.name}, and nobody is ever given a report about themselves."
    if person.id == report.reporter:
        return f"{person.name} reported it; it goes to someone who can look at it afresh."
    if any(r.person_id == person.id and r.kind == RecipientKind.OWNER.value for r in recipients):
        return f"{person.name} owns it already."
    roles = owner_roles(app, report, decision)
    if not any(role in person.roles for role in roles):
        if any(app.school.policy.oversees(role) for role in person.roles):
            return (f"{person.name} is a governor: governors oversee through counts and handle only reports about "
                    "the headteacher or other senior adults (KCSIE).")
        listed = ", ".join(dict.fromkeys(app.role_name(role) for role in roles))
        return f"{person.name} holds no role that reports like this one go to ({listed})."
    if app.channel_for(person.id) is None:
        return f"{person.name} cannot be reached on any channel Safeguard runs, so they would never see it."
    return None


def candidates(app: App, report: Report, recipients: Sequence[Recipient], decision: RoutingDecision | None) -> list[Candidate]:
    """Everyone `report` may be reassigned to, by role (the order `owner_roles` gives), then as the config lists them."""
    found: dict[str, Candidate] = {}
    for role in owner_roles(app, report, decision):
        for person in app.school.holders(role):
            if person.id not in found and why_not(app, report, recipients, decision, person) is None:
                found[person.id] = Candidate(person, role, app.role_name(role))
    return list(found.values())


def find_person(app: App, text: str) -> Person | None:
    """The person `text` names: their id in the school config, or their full name (any case)."""
    wanted = " ".join(text.split()).casefold()
    return app.person(wanted) or next((p for p in app.school.people if p.name.casefold() == wanted), None)


async def choices(app: App, person_id: str, reference_text: str) -> list[Candidate] | Result:
    """Whom this person may reassign a report to, or why they cannot (a refusal is logged)."""
    found: list[Candidate] = []

    async def act(app: App, session: AsyncSession, report: Report, recipients: list[Recipient]) -> Result:
        if report.closed_at is not None:
            return Result(_closed(report))
        decision = await session.get(RoutingDecision, report.id)
        found.extend(candidates(app, report, recipients, decision))
        if not found:
            return Result(error(f"Nobody else at {app.school.name} can be given {report.reference}."))
        return Result(Reply("", tone=Tone.DONE))

    result = await lifecycle.on_report(app, person_id, reference_text, Action.REASSIGN, act)
    return found if found else result


async def reassign(app: App, person_id: str, reference_text: str, to_text: str, reason: str) -> Result:
    """Give a report to another owner, with the reason (kept, and its digest logged); they are alerted, the clock restarts."""
    async def act(app: App, session: AsyncSession, report: Report, recipients: list[Recipient]) -> Result:
        if report.closed_at is not None:
            return Result(_closed(report))
        shown = " ".join(to_text.split())[:60]
        if not shown:
            return Result(error(f"{report.reference} was not reassigned: say who should own it (their Safeguard id, "
                                "like rpatel, or their full name), then the reason."))
        person = find_person(app, shown)
        if person is None:
            return Result(error(f"{report.reference} was not reassigned: nobody in {app.school.name}'s staff list "
                                f"is called {shown!r}. Give their Safeguard id (like rpatel) or their full name."))
        decision = await session.get(RoutingDecision, report.id)
        problem = why_not(app, report, recipients, decision, person)
        if problem is not None or decision is None:
            return Result(error(f"{report.reference} was not reassigned: {problem or 'it has not been routed yet.'}"))
        cleaned = clean_text(reason, REASON_LENGTH)
        if isinstance(cleaned, Invalid):
            return Result(error(f"{report.reference} was not reassigned: give the reason for handing it over. "
                                f"{cleaned.reason}"))
        role = next(role for role in owner_roles(app, report, decision) if role in person.roles)
        now = app.now()
        # The new owner gets as long as the routing gave the first, on the same clock.
        deadline = due_at(app.school, clock_for(as_routed(report), app.school, report.created_at), now,
                          decision.ack_within_minutes)
        before = [r.person_id for r in recipients if r.kind == RecipientKind.OWNER.value]
        seq = await store_handover.reassign(session, now=now, report=report, by=person_id, to=person.id, role=role,
                                            reason=cleaned, ack_deadline=deadline)
        if seq is None:
            return Result(_closed(report))
        channel = app.channel_for(person.id)
        if channel is not None:  # why_not checked it can be reached
            # Its own round: someone told of the report before has had round 0's alert already.
            await queue_alert(session, now=now, report=report, person_id=person.id, channel=channel,
                              kind=NoticeKind.ALERT, round=seq)
        stays = ("You stay told of it: you can still view it and add notes." if person_id in before else
                 f"{_names(app, before)} stay{'s' if len(before) == 1 else ''} told of it." if before else "")
        log.info("%s reassigned by %s to %s", report.reference, person_id, person.id)
        return Result(Reply(
            f"{report.reference} is now {person.name}'s ({app.role_name(role)}) to acknowledge by {app.local(deadline)}; "
            f"they have been alerted. {stays} The person who reported it is not told.".replace("  ", " "),
            tone=Tone.DONE), changed=True)

    return await lifecycle.on_report(app, person_id, reference_text, Action.REASSIGN, act)


async def reopen(app: App, person_id: str, reference_text: str, reason: str) -> Result:
    """Open a closed report again, with the reason (kept, and its digest logged); its owner is told, its reporter is not."""
    async def act(app: App, session: AsyncSession, report: Report, recipients: list[Recipient]) -> Result:
        if report.closed_at is None:
            return Result(error(f"{report.reference} is not closed, so there is nothing to reopen."))
        cleaned = clean_text(reason, REASON_LENGTH)
        if isinstance(cleaned, Invalid):
            return Result(error(f"{report.reference} is still closed: give the reason for reopening it. {cleaned.reason}"))
        now = app.now()
        decision = await session.get(RoutingDecision, report.id)
        deadline = None if decision is None else due_at(
            app.school, clock_for(as_routed(report), app.school, report.created_at), now, decision.ack_within_minutes)
        seq = await store_handover.reopen(session, now=now, report=report, by=person_id, reason=cleaned,
                                          closing=handover_words.closing_words(app, report), ack_deadline=deadline)
        if seq is None:
            return Result(error(f"{report.reference} is not closed, so there is nothing to reopen."))
        owners = list(dict.fromkeys(r.person_id for r in recipients
                                    if r.kind == RecipientKind.OWNER.value and r.person_id != person_id))
        told = []
        for owner in owners:
            channel = app.channel_for(owner)
            if channel is not None:
                await queue_alert(session, now=now, report=report, person_id=owner, channel=channel,
                                  kind=NoticeKind.REOPENED, round=seq)
                told.append(owner)
        state = ("acknowledged, still open" if report.acknowledged_at is not None else
                 f"open, to be acknowledged by {app.local(deadline)}" if deadline is not None else "open")
        said = f" Its owner, {_names(app, told)}, has been told." if told else ""
        return Result(Reply(f"{report.reference} is reopened: {state}.{said} The person who reported it is not told.",
                            tone=Tone.DONE), changed=True)

    return await lifecycle.on_report(app, person_id, reference_text, Action.REOPEN, act)


def _closed(report: Report) -> Reply:
    return error(f"{report.reference} is closed: the DSL or a deputy can reopen it first, then it can be reassigned.")


def _names(app: App, ids: Sequence[str]) -> str:
    names = [app.name(person_id) for person_id in ids]
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)
