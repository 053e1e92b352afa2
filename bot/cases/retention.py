"""How long a school keeps its closed reports, and what happens when that time is up.

The scheduler erases what is due (`erase_due`); `safeguard records` shows what is coming and lets
the DSL or the headteacher place and lift legal holds and record a hand-off, and the DSL list a
member of staff's reports for a subject access request. Who may is bot.cases.access's to say;
every step and every refusal is logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import load_only

from bot.app import STORE_ERRORS, App
from bot.cases.access import HOLD, SUBJECT_ACCESS, in_subject_access, may_hold, may_list_reports_of
from bot.cases.log_export import school_chain
from routing.retention import Rule
from routing.school import Person, School
from routing.yamlfields import InputError
from storage import reports as store
from storage import retention as rows
from storage.chains import chain_of
from storage.log import EventKind, append_event
from storage.models import Recipient, Report

log = logging.getLogger(__name__)
ROUND_LIMIT = 200  # erasures per scheduler round, so one round cannot hold the scheduler for long
REASON_LENGTH = 2000


@dataclass(frozen=True)
class Due:
    """A closed report and when its words are due to be erased (references and categories only)."""

    reference: str
    category: str
    closed_at: datetime
    due_at: datetime
    rule: Rule
    held: bool


def due_of(school: School, report: rows.Closed) -> Due:
    """When `report`'s words are due to be erased under `school`'s rules, counted from closing (or the later hand-off)."""
    rule = school.retention.rule_for(report.category, report.close_decision, handed_on=report.handed_on_at is not None)
    start = max(report.closed_at, report.handed_on_at) if report.handed_on_at is not None else report.closed_at
    return Due(report.reference, report.category, report.closed_at, rule.period.after(start), rule, report.held)


async def coming(sessions: async_sessionmaker[AsyncSession], school: School, *, now: datetime,
                 until: datetime) -> list[Due]:
    """The school's closed reports due for erasure by `until` (held ones too, marked), soonest first."""
    async with sessions() as session:
        closed = await rows.closed_unerased(session, [school.key])
    due = [due_of(school, report) for report in closed]
    return sorted((d for d in due if d.due_at <= until), key=lambda d: (d.due_at, d.reference))


async def erase_due(app: App) -> list[str]:
    """Erase every report now due at each school of the deployment, each once, in a transaction of its own."""
    now = app.now()
    erased: list[str] = []
    for view in app.views():
        school = view.school
        # Nothing closed more recently than the shortest rule can be due: those are not read at all.
        cutoff = now - timedelta(days=school.retention.shortest.least_days)
        try:
            async with app.sessions() as session:
                closed = await rows.closed_unerased(session, [school.key], closed_by=cutoff)
        except STORE_ERRORS:
            log.exception("could not read the reports due for erasure at %s; tried again next round", school.key)
            continue
        for due, report in ((due_of(school, r), r) for r in closed):
            if len(erased) >= ROUND_LIMIT:
                return erased
            if due.held or due.due_at > now:
                continue
            try:
                async with app.sessions.begin() as session:
                    done = await rows.erase(session, now=now, report_id=report.id, rule=due.rule.name)
            except STORE_ERRORS:
                log.exception("could not erase %s; it is tried again next round", report.reference)
                continue
            if done is not None:  # None: another server erased it first, or a hold came in meanwhile
                log.info("%s erased under retention (%s)", report.reference, due.rule.name)
                erased.append(report.reference)
    return erased


def _one_line(value: str, option: str, hint: str) -> str:
    """What was typed for `option` on one line; refused in one line if empty or too long."""
    text = " ".join(value.split())
    if not text:
        raise InputError(f"{option}: {hint}")
    if len(text) > REASON_LENGTH:
        raise InputError(f"{option}: at most {REASON_LENGTH} characters")
    return text


class RecordsRefused(InputError):
    """The named person may not do this to the report (or it is not there); the attempt is in the log."""


async def hold(sessions: async_sessionmaker[AsyncSession], school: School, person: Person, reference: str, *,
               reason: str, now: datetime) -> None:
    """Place a legal hold on a report: nothing under hold is erased."""
    text = _one_line(reason, "--reason", "say why the report is held (an inquiry's request, a claim); it is kept encrypted")
    async with sessions.begin() as session:
        report = await _entitled(session, school, person, reference)
        if report is not None:
            if report.erased_at is not None:
                raise InputError(f"{reference}: its words were erased under retention on "
                                 f"{report.erased_at:%Y-%m-%d}; there is nothing left to hold")
            standing = await rows.active_hold(session, report.id)
            if standing is not None:
                raise InputError(f"{reference} is already under a legal hold, placed on {standing.held_at:%Y-%m-%d}")
            await rows.hold(session, now=now, report=report, by=person.id, reason=text)
            return
    await _refuse(sessions, school, person, reference, now)


async def release(sessions: async_sessionmaker[AsyncSession], school: School, person: Person, reference: str, *,
                  now: datetime) -> None:
    """Lift the legal hold on a report; its retention rule applies again from the next scheduler round."""
    async with sessions.begin() as session:
        report = await _entitled(session, school, person, reference)
        if report is not None:
            standing = await rows.active_hold(session, report.id)
            if standing is None:
                raise InputError(f"{reference} is not under a legal hold, so there is nothing to release")
            await rows.release(session, now=now, report=report, row=standing, by=person.id)
            return
    await _refuse(sessions, school, person, reference, now)


async def hand_on(sessions: async_sessionmaker[AsyncSession], school: School, person: Person, reference: str, *,
                  to: str, now: datetime) -> None:
    """Record that a report was handed on to a record kept elsewhere (its shorter rule then applies)."""
    where = _one_line(to, "--to", 'say where it went, e.g. --to "child protection file"')
    async with sessions.begin() as session:
        report = await _entitled(session, school, person, reference)
        if report is not None:
            if report.erased_at is not None:
                raise InputError(f"{reference}: its words were erased under retention; there is nothing to hand on")
            if report.handed_on_at is not None:
                raise InputError(f"{reference} was already recorded as handed on, on {report.handed_on_at:%Y-%m-%d}")
            await rows.hand_on(session, now=now, report=report, by=person.id, to=where)
            return
    await _refuse(sessions, school, person, reference, now)


@dataclass(frozen=True)
class Listed:
    """A report in a subject access list: what was decided and when, never its words or who else is in it."""

    reference: str
    created_at: datetime
    category: str
    status: str
    decision: str | None
    how: str  # "about them" or "made by them"


async def about(sessions: async_sessionmaker[AsyncSession], school: School, person: Person, subject_id: str, *,
                now: datetime) -> list[Listed]:
    """Every report of the school about `subject_id` or made by them that `person` (the DSL) may view; logged.

    One they sent without their name stores a handle, not them, and is never listed: the DSL
    must not learn who sent it (bot/cases/reporter.py alone opens the link, with the relay key).
    """
    chain = school_chain(school)
    if not may_list_reports_of(person):
        await _log_refusal(sessions, person, None, now, chain, SUBJECT_ACCESS, {"person": subject_id})
        raise RecordsRefused(f"--as {person.id}: only the {school.role_name('dsl')} may list a person's reports")
    columns = (Report.id, Report.reference, Report.subject, Report.subject_person, Report.reporter,
               Report.created_at, Report.category, Report.status, Report.close_decision)
    async with sessions.begin() as session:
        found = await session.scalars(
            select(Report).where(Report.school == school.key,
                                 or_(Report.subject_person == subject_id, Report.reporter == subject_id))
            .options(load_only(*columns)).order_by(Report.created_at, Report.reference))
        listed = []
        for report in found:
            recipients = await _recipients(session, report, person.id)
            if in_subject_access(person, report, recipients):
                how = "about them" if report.subject_person == subject_id else "made by them"
                listed.append(Listed(report.reference, report.created_at, report.category, report.status,
                                     report.close_decision, how))
        await append_event(session, now=now, actor=person.id, kind=EventKind.SUBJECT_ACCESS, report_ref=None,
                           data={"person": subject_id, "count": len(listed)}, chain=chain)
    return listed


async def _recipients(session: AsyncSession, report: Report, person_id: str) -> list[Recipient]:
    """This person's own recipient rows on `report`: bot.cases.access judges a person by their own rows."""
    return list(await session.scalars(select(Recipient).where(Recipient.report_id == report.id,
                                                              Recipient.person_id == person_id)))


async def _entitled(session: AsyncSession, school: School, person: Person, reference: str) -> Report | None:
    """The report, locked, if it is this school's and `person` may hold it; None otherwise (refused by the caller)."""
    report = await store.get_report(session, reference)
    if report is None or report.school != school.key:
        return None
    report = await rows.lock(session, report.id)
    if report is None:
        return None
    recipients = (await store.get_routing(session, report))[1]
    return report if may_hold(person, report, recipients) else None


async def _refuse(sessions: async_sessionmaker[AsyncSession], school: School, person: Person, reference: str,
                  now: datetime) -> None:
    await _log_refusal(sessions, person, reference, now, school_chain(school), HOLD, {})
    raise RecordsRefused(f"--as {person.id}: {reference} is not a report they may hold or hand on (the "
                         f"{school.role_name('dsl')} or the {school.role_name('headteacher')} may, where it was sent to them)")


async def _log_refusal(sessions: async_sessionmaker[AsyncSession], person: Person, reference: str | None, now: datetime,
                       chain: str, action: str, extra: dict[str, object]) -> None:
    """Log a refusal in a transaction of its own; the refusal stands even if that fails."""
    try:
        async with sessions.begin() as session:
            # A reference of another school (or none at all) is logged in this school's chain, without it.
            ref = reference if reference is not None and await store.get_report(session, reference) is not None else None
            if ref is not None and chain_of(ref) != chain:
                ref = None
            await append_event(session, now=now, actor=person.id, kind=EventKind.REFUSED, report_ref=ref,
                               data={"action": action, **extra, **({} if ref or reference is None
                                                                          else {"reference": reference})},
                               chain=chain)
    except STORE_ERRORS:
        log.exception("could not log that %s was refused %s", person.id, action)
