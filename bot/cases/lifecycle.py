"""A report's life after Send: stored, routed, alerted, acknowledged, noted, closed; every step logged.

Nothing here knows which chat app it serves. Each operation runs in one transaction, so a
change, the event that records it and any notice it causes commit together or not at all.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cases import handover_words, intake, messages
from bot.cases.access import Action, may
from bot.cases import reporter as reporters
from bot.cases.reporter import is_anonymous, is_reporter, reporter_address
from bot.app import STORE_ERRORS, App
from dialogs import Reply, ReportDraft, Tone
from dialogs.prompts import error
from dialogs.validation import Invalid, clean_text, normalise
from routing.engine import Decision, RoutingError, decide, due_at
from routing.report import Report as RoutingReport
from routing.vocabulary import Category, Flag, Subject, Target
from storage import escalations
from storage import reports as store
from storage.alerts import queue_alert
from storage.log import EventKind, append_event, events_for
from storage.models import NoteKind, NoticeKind, Recipient, RecipientKind, Report, RoutingDecision
from storage.reports import NewRecipient
from storage.sealed_reporters import new_handle

log = logging.getLogger(__name__)

ROUTE_ERRORS: tuple[type[Exception], ...] = (*STORE_ERRORS, RoutingError)
# SG-2026-0042 at a school alone; SG-BPA-2026-0042 at a school of a trust (its code, 2 to 5 characters).
REFERENCE = re.compile(r"^SG-(?:[A-Z][A-Z0-9]{1,4}-)?\d{4}-\d{4,}$")
LADO_WORKING_DAYS = 1
READ_ONLY = frozenset({Action.VIEW, Action.PROGRESS, Action.EXPORT, Action.SCREENSHOTS})
NOTE_LENGTH = 2000
REASON_LENGTH = 2000
VERBS = {
    Action.VIEW: "see",
    Action.PROGRESS: "see",
    Action.ACKNOWLEDGE: "acknowledge",
    Action.NOTE: "add a note to",
    Action.RECORD_ACTION: "record an action on",
    Action.CLOSE: "close",
    Action.LADO: "record the LADO consultation for",
    Action.EXPORT: "export",
    Action.REASSIGN: "reassign",
    Action.REOPEN: "reopen",
    Action.SCREENSHOTS: "see the screenshots of",
    Action.ASK: "ask the reporter of",
    Action.ANSWER: "answer about",
    Action.ADD: "add to",
}


@dataclass(frozen=True)
class Result:
    """What an action on a report did: the reply for the person, and whether it changed anything."""

    reply: Reply
    changed: bool = False


# An action runs under the report's own school (App.at): its policy, its people, its role names.
Act = Callable[[App, AsyncSession, Report, list[Recipient]], Awaitable[Result]]


def parse_reference(text: str) -> str | Invalid:
    """A report reference as staff type it (any case, stray spaces), or why it is not one."""
    reference = "".join(text.split()).upper()
    if REFERENCE.match(reference):
        return reference
    shown = " ".join(text.split())[:40]
    return Invalid(f"{shown!r} is not a report reference; they look like SG-2026-0042." if shown
                   else "Which report? Give its reference, like SG-2026-0042.")


async def submit(app: App, *, reporter_id: str, channel: str, report: ReportDraft, anonymous: bool = False,
                 ends_draft: bool = False) -> list[Reply]:
    """Store the report (ending the reporter's draft), route it, and queue its alerts; nothing to say yet.

    Storing comes first, in a transaction that routing is not part of (shared with the reports sent
    at the same moment, bot/cases/intake.py): nobody is told "sent" before the report is
    committed, and a routing failure never loses it. Routing queues the reporter's receipt with
    the alerts: the outbox tells them where it went, once, even if the server dies before it
    could answer. If routing fails, the report is kept, the reporter is told at once to go to
    the DSL directly, and `route_unrouted` retries it (and then sends the receipt).

    Sent `anonymous`ly (dialogs/anonymity.py), the report, its events and its outbox rows name a
    random handle instead of the reporter, and store no channel; the one link back to them is
    sealed under the relay key (storage/sealed_reporters.py), in the same transaction.

    Sent from the dialog (`ends_draft`), it is stored only if its draft is still there to end:
    a second Send of the same draft, on this server or another, stores nothing.
    """
    report = report.by(reporter_id)  # a self-referral is about its reporter
    named = app.person(report.subject_person) if report.subject_person is not None else None
    subject = report.routing_report(named.roles if named is not None else ()).subject
    if anonymous and not reporters.may_go_unnamed(app, report.category, subject):
        return [error(reporters.NOT_ANONYMOUS)]  # never sent with a name they asked to keep out
    stored_as = new_handle() if anonymous else reporter_id
    try:
        # Stored, then routed, with the reports sent at the same moment (bot/cases/intake.py).
        reference = await intake.store_sent(intake.Sending(app, reporter_id, channel, report, subject, stored_as, anonymous,
                                                           ends_draft))
    except intake.AlreadySent:
        return [intake.ALREADY_SENT]  # the other Send stored it and will tell them where it went
    except STORE_ERRORS as exc:
        reporters.log_not_stored(exc, reporter_id, channel, anonymous=anonymous)
        return [messages.not_saved(app, reporter_id, reporters.retry_choices(anonymous))]
    app.metrics.report_received(app.school.key, report.category.value)  # stored: received, routed or not yet
    try:
        await intake.route_stored(app, reference, _route_in)
    except ROUTE_ERRORS:
        log.exception("could not route %s", reference)
        return [messages.saved_not_routed(app, reporter_id, reference)]
    app.reports_queued += 1  # after the commit: a round that starts from now on finds the alerts
    return []


@dataclass(frozen=True)
class Routed:
    """Where a report went: its owner's role and the time it must be acknowledged by."""

    reference: str
    owner_role: str
    deadline: datetime | None


async def route(app: App, reference: str) -> Routed:
    """Route a stored report with the school's policy and queue an alert for everyone it names.

    Routing a report that already has its decision changes nothing, so this is safe to retry.
    """
    async with app.sessions.begin() as session:
        return await _route_in(app, session, reference)


async def _route_in(app: App, session: AsyncSession, reference: str) -> Routed:
    """Route a stored report in the caller's transaction (see `route`)."""
    report = await store.get_report(session, reference)
    if report is None:
        raise store.ReportNotFound(reference)
    existing, _ = await store.get_routing(session, report)
    if existing is not None:
        return Routed(reference, existing.owner_role, report.ack_deadline)
    app = app.at(report.school)  # under the report's own school's policy, people and calendar
    # The time it was reported decides whether the school's out-of-hours cover applies.
    decision = decide(app.school.policy, as_routed(report), app.school, at=report.created_at)
    recipients = _recipients(app, decision)
    now = app.now()
    # KCSIE Part four: an allegation that may meet the harm threshold is discussed with the
    # LADO within one working day; the clock skips weekends and bank holidays.
    lado_due = app.school.calendar.add_working_days(report.created_at, LADO_WORKING_DAYS) if report.allegation else None
    # Only a child at immediate risk (or the school's out-of-hours cover) runs the clock
    # around the clock; every other deadline counts school hours (routing.engine.clock_for).
    due = due_at(app.school, decision.clock, report.created_at, decision.ack_within_minutes)
    await store.record_routing(
        session, now=now, report=report, decision_json=decision.as_json(), recipients=recipients,
        lado_due_at=lado_due, ack_deadline=due,
    )
    for person in recipients:
        if person.kind is RecipientKind.ESCALATION:
            continue  # the ladder hears only if the deadline passes (issue 6)
        channel = app.channel_for(person.person_id)
        if channel is None:
            log.warning("%s: %s cannot be reached on any running channel", reference, person.person_id)
            continue
        await queue_alert(session, now=now, report=report, person_id=person.person_id, channel=channel)
    # The reporter's receipt, where they reported from, with the alerts: it is never read
    # before the routing it tells them of, and it goes even if the server dies before answering.
    reporter = await reporter_address(app, session, report)
    if reporter is not None:
        await queue_alert(session, now=now, report=report, person_id=reporter.person, channel=reporter.channel,
                          kind=NoticeKind.RECEIPT)
    return Routed(reference, decision.owner, report.ack_deadline)


async def route_unrouted(app: App) -> list[str]:
    """Route every report stored but never routed (say, the database failed between the two)."""
    async with app.sessions() as session:
        waiting = list(await session.scalars(
            select(Report.reference)
            .where(~Report.id.in_(select(RoutingDecision.report_id)))
            .where(*(() if app.trust.alone else (Report.school.in_([s.key for s in app.trust.schools]),)))
            .order_by(Report.id)
        ))
    routed = []
    for reference in waiting:
        try:
            await route(app, reference)
        except RoutingError:
            log.exception("could not route %s", reference)
            continue
        routed.append(reference)
    return routed


async def acknowledge(app: App, person_id: str, reference_text: str) -> Result:
    """Acknowledge a report routed to this person; the reporter hears of it."""
    async def act(app: App, session: AsyncSession, report: Report, recipients: list[Recipient]) -> Result:
        now = app.now()
        if report.acknowledged_at is not None:
            return Result(_already_acknowledged(app, report))
        change = await store.acknowledge(session, now=now, report_ref=report.reference, person_id=person_id)
        report = change.report
        if not change.changed:  # a colleague (or a second tap) got there first
            return Result(_already_acknowledged(app, report))
        told = await _tell_reporter(app, session, report, person_id, NoticeKind.ACKNOWLEDGED)
        return Result(Reply(f"You acknowledged {report.reference} at {app.local(now)}.{told}", tone=Tone.DONE),
                      changed=True)

    return await _on_report(app, person_id, reference_text, Action.ACKNOWLEDGE, act)


async def add_note(app: App, person_id: str, reference_text: str, text: str, *, kind: NoteKind = NoteKind.NOTE) -> Result:
    """Add a note, or the action taken (appendix B), to a report routed to this person."""
    action = Action.RECORD_ACTION if kind is NoteKind.ACTION else Action.NOTE

    async def act(app: App, session: AsyncSession, report: Report, recipients: list[Recipient]) -> Result:
        cleaned = clean_text(text, NOTE_LENGTH)
        if isinstance(cleaned, Invalid):
            return Result(error(f"Nothing was added to {report.reference}. {cleaned.reason}"))
        await store.add_note(session, now=app.now(), report=report, kind=kind, author=person_id, text=cleaned)
        done = "Action recorded on" if kind is NoteKind.ACTION else "Note added to"
        return Result(Reply(f"{done} {report.reference}.", tone=Tone.DONE), changed=True)

    return await _on_report(app, person_id, reference_text, action, act)


async def close(app: App, person_id: str, reference_text: str, decision: str, reason: str) -> Result:
    """Close a report with the decision taken and the reason for it; without both it stays open."""
    async def act(app: App, session: AsyncSession, report: Report, recipients: list[Recipient]) -> Result:
        if report.closed_at is not None:
            return Result(Reply(f"{report.reference} is already closed.", tone=Tone.DONE))
        chosen = close_decision(decision)
        if chosen is None:
            listed = "; ".join(f"{key} ({label})" for key, label in messages.CLOSE_DECISIONS.items())
            return Result(error(f"{report.reference} is still open: say which decision was taken, then the "
                                f"reason for it. Decisions: {listed}."))
        cleaned = clean_text(reason, REASON_LENGTH)
        if isinstance(cleaned, Invalid):
            return Result(error(f"{report.reference} is still open: give the reason for the decision. {cleaned.reason}"))
        change = await store.close_report(session, now=app.now(), report_ref=report.reference, person_id=person_id,
                                          decision=chosen, reason=cleaned)
        if not change.changed:
            return Result(Reply(f"{report.reference} is already closed.", tone=Tone.DONE))
        if chosen == "lado" and report.lado_due_at is not None:
            # Closing as referred to the LADO is the consultation, if none was recorded before.
            await escalations.record_lado_consulted(session, now=app.now(), report=report, person_id=person_id)
        label = messages.CLOSE_DECISIONS[chosen]
        # The reporter hears that it is closed, never the decision or the reason (the case is the owner's).
        told = await _tell_reporter(app, session, change.report, person_id, NoticeKind.CLOSED)
        return Result(Reply(f"{report.reference} is closed: {label}.{told}", tone=Tone.DONE), changed=True)

    return await _on_report(app, person_id, reference_text, Action.CLOSE, act)


async def lado_consulted(app: App, person_id: str, reference_text: str) -> Result:
    """Record that the LADO was consulted about an allegation (KCSIE Part four); the log keeps when."""
    async def act(app: App, session: AsyncSession, report: Report, recipients: list[Recipient]) -> Result:
        if report.lado_due_at is None:
            return Result(error(f"{report.reference} is not handled as an allegation, so it has no LADO "
                                "consultation to record."))
        now = app.now()
        if not await escalations.record_lado_consulted(session, now=now, report=report, person_id=person_id):
            refreshed = await store.get_report(session, report.reference)
            by = refreshed.lado_consulted_by if refreshed is not None else None
            at = refreshed.lado_consulted_at if refreshed is not None else None
            said = f" by {app.name(by)} at {app.local(at)}" if by is not None and at is not None else ""
            return Result(Reply(f"The LADO consultation for {report.reference} was already recorded{said}.",
                                tone=Tone.DONE))
        late = "" if now <= report.lado_due_at else " It was recorded after the working day had passed; the log says so."
        return Result(Reply(f"LADO consultation recorded for {report.reference} at {app.local(now)}.{late}",
                            tone=Tone.DONE), changed=True)

    return await _on_report(app, person_id, reference_text, Action.LADO, act)


def close_decision(text: str) -> str | None:
    """The decision id `text` names (by id or label, any case), if any."""
    key = normalise(text).replace(" ", "_")
    for ident, label in messages.CLOSE_DECISIONS.items():
        if key in (ident, normalise(label).replace(" ", "_")):
            return ident
    return None


async def view(app: App, person_id: str, reference_text: str) -> Result:
    """Everything about a report for someone it was routed to, its progress for its reporter; logged either way."""
    async def act(app: App, session: AsyncSession, report: Report, recipients: list[Recipient]) -> Result:
        full = may(person_id, Action.VIEW, report, recipients)
        # Only its reporter follows a report's progress without viewing it: the log names them as the
        # report does (a report sent without a name: its handle, so the log never says who sent it).
        await append_event(session, now=app.now(), actor=person_id if full else report.reporter, kind=EventKind.VIEWED,
                           report_ref=report.reference, data={} if full else {"scope": Action.PROGRESS.value})
        if not full:
            return Result(messages.progress_for_reporter(app, report, recipients), changed=True)
        notes = await store.notes_for(session, report)
        history = await events_for(session, report.reference)
        labels = handover_words.note_labels(app, history)  # reasons for reassigning and reopening
        return Result(messages.report_view(app, report, recipients, notes, history, labels), changed=True)

    # Everyone who may view a report may follow its progress, so the weaker right opens the door.
    return await _on_report(app, person_id, reference_text, Action.PROGRESS, act, refused_as=Action.VIEW)


async def open_reports(app: App, person_id: str) -> list[Report]:
    """The reports still open that reached this person, oldest first."""
    async with app.sessions() as session:
        reached = await store.open_reports_for(session, person_id)
        # bot.cases.access has the last word, so a list never names a report that /view would refuse.
        return [report for report in reached
                if may(person_id, Action.VIEW, report, (await store.get_routing(session, report))[1])]


async def _on_report(
    app: App, person_id: str, reference_text: str, action: Action, act: Act, *, refused_as: Action | None = None
) -> Result:
    """Run `act` on a report if this person may do `action` to it; otherwise refuse and log the attempt (as `refused_as`)."""
    reference = parse_reference(reference_text)
    if isinstance(reference, Invalid):
        return Result(error(reference.reason))
    recognised = False
    named = False  # known to be sent with its reporter's name (read before anything can fail after)
    try:
        async with app.sessions.begin() as session:
            report = await store.get_report(session, reference)
            named = report is not None and not is_anonymous(report)
            recipients = [] if report is None else (await store.get_routing(session, report))[1]
            # Sent without a name: its reporter is known again by the sealed link alone (bot/cases/reporter.py).
            recognised = report is not None and is_anonymous(report) and await is_reporter(app, session, report,
                                                                                          person_id)
            if report is not None and may(person_id, action, report, recipients, reporter=recognised or None):
                if report.erased_at is not None and action not in READ_ONLY:
                    return erased(report.reference)
                return await act(app.at(report.school), session, report, recipients)
    except STORE_ERRORS:
        # Whoever asked is not named beside a report that was (or, unread, may have been) sent without a
        # name: it may be its own reporter, and this line would tie them to it.
        log.exception("%s by %s on %s failed", action.value, person_id if named else "someone", reference)
        return Result(error("Safeguard cannot reach its database just now, so nothing was changed. "
                            "Please try again in a minute."))
    # A refusal of its own anonymous reporter is logged under the report's handle, never their id.
    actor = report.reporter if recognised and report is not None else person_id
    return await refuse(app, actor, refused_as or action, reference)


# For the other modules of a report's life (bot/cases/handover.py): one door, one refusal.
on_report = _on_report


def erased(reference: str) -> Result:
    """Its words were erased under the school's retention rules: nothing more is added to the skeleton."""
    return Result(error(f"{reference} is closed and its words were erased under the school's retention rules, so "
                        "nothing more can be recorded on it."))


async def refuse(app: App, person_id: str, action: Action, reference: str) -> Result:
    """Refuse `action` on a report (existing or not: the same words), after logging the attempt.

    The refusal is logged in a transaction of its own, since nothing else changes. A
    reference with no report is logged too (under that reference), so probing shows. If
    the log cannot be written (the database locked, full or gone since the report was
    read), the person is still refused, politely, and the failure left in the server's log.
    """
    try:
        async with app.sessions.begin() as session:
            await append_event(session, now=app.now(), actor=person_id, kind=EventKind.REFUSED,
                               report_ref=reference, data={"action": action.value})
    except STORE_ERRORS:
        log.exception("could not log that %s was refused %s on %s", person_id, action.value, reference)
    return Result(messages.refused(reference, VERBS[action]))


async def _tell_reporter(app: App, session: AsyncSession, report: Report, person_id: str, kind: NoticeKind) -> str:
    """Queue news of `report` for its reporter (unless they did it themselves); what to add to the doer's reply."""
    reporter = await reporter_address(app, session, report)
    if reporter is None or reporter.chat_user == person_id:
        return ""
    now = app.now()
    queued = await queue_alert(session, now=now, report=report, person_id=reporter.person, channel=reporter.channel,
                               kind=kind)
    if queued.queued_at != now:
        # Told before: acknowledged again by the owner it was reassigned to, or closed again once reopened.
        # The reporter hears of neither (bot/cases/handover.py): the first news stands.
        return ""
    return " The person who reported it has been told."


def _already_acknowledged(app: App, report: Report) -> Reply:
    assert report.acknowledged_at is not None and report.acknowledged_by is not None
    return Reply(f"{report.reference} was already acknowledged by {app.name(report.acknowledged_by)} "
                 f"at {app.local(report.acknowledged_at)}.", tone=Tone.DONE)


def as_routed(report: Report) -> RoutingReport:
    """The stored report as the policy engine reads it."""
    return RoutingReport(
        Category(report.category), Subject(report.subject),
        frozenset(Flag(flag) for flag in report.flags), report.subject_person,
        None if report.target is None else Target(report.target),
    )


def _recipients(app: App, decision: Decision) -> list[NewRecipient]:
    """Each person the decision names, with the role they hear through, owners first."""
    people = decision.people
    assert people is not None, "routing with a school config names people"
    out = [NewRecipient(p, decision.owner, RecipientKind.OWNER) for p in people.owner]
    for ids, roles, kind in (
        (people.informed, decision.informed, RecipientKind.INFORMED),
        (people.escalation, decision.escalation, RecipientKind.ESCALATION),
    ):
        for person_id in ids:
            person = app.person(person_id)
            held = person.roles if person is not None else ()
            role = next((r for r in roles if r in held), roles[0])
            out.append(NewRecipient(person_id, role, kind))
    return out
