"""Exporting the log on a named person's authority: checked by bot.cases.access, and recorded in the log first.

The operator at the shell names the person on whose authority they export (`--as`). Whether
that person's roles cover the export is bot.cases.access's decision; a refusal is logged, and so
is an export, before a line of it is written: an export that cannot be recorded is not made.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import load_only

from bot.cases.access import OVERSEERS, Action, may_export_log, may_export_report, may_see
from bot.app import STORE_ERRORS
from routing.school import Person, School
from routing.yamlfields import InputError
from storage import reports as store
from storage.chains import chain_of, in_chain
from storage.export import Format, count_events, export_events
from storage.log import EventKind, append_event, head_seq, timestamp
from storage.models import Recipient, Report

log = logging.getLogger(__name__)
WHOLE_LOG = "all"  # the `scope` of an export of every report's events
# What bot.cases.access reads of a report: who it is about and who made it, never its words.
WHO = (Report.id, Report.reference, Report.subject, Report.subject_person, Report.reporter)


class ExportRefused(InputError):
    """The named person's authority does not cover this export; the attempt is in the log."""


async def export_log(
    sessions: async_sessionmaker[AsyncSession],
    school: School,
    *,
    person: Person,
    fmt: Format,
    report_ref: str | None,
    since: date | datetime | None,
    now: datetime,
    write: Callable[[str], None],
) -> int:
    """Write the export line by line if `person` may have it; the number of events written.

    Exported: the school's own chain of the log (the whole log of a lone school), up to its
    head when the export was recorded, so the `exported` event says exactly what went out
    (its count, and `through` that seq). In a trust, a school's records are exported on the
    authority of that school's own DSL, and hold nothing of another school's.
    """
    chain = school_chain(school)
    if report_ref is not None and chain_of(report_ref) != chain:
        # Another school's report: refused as one not sent to them, in words that do not say whether it exists.
        await _log_refusal(sessions, person, None, now, chain)
        raise ExportRefused(f"--report {report_ref}: that is not a report of {school.name}; "
                            "export it with --school set to its own school")
    async with sessions() as session:
        if report_ref is not None:
            # Who it was sent to and who it is about decide; its words are not needed (nor the key for them).
            report = (await session.scalars(
                select(Report).where(Report.reference == report_ref).options(load_only(*WHO))
            )).one_or_none()
            recipients = [] if report is None else (await store.get_routing(session, report))[1]
            allowed = may_export_report(person, report, recipients)
            leave_out: list[str] = []
        else:
            allowed = may_export_log(person)
            leave_out = await _not_theirs(session, person, chain) if allowed else []
    if not allowed:
        await _log_refusal(sessions, person, report_ref, now, chain)
        raise ExportRefused(_refusal(school, person, report_ref))
    try:
        async with sessions.begin() as session:
            through = await head_seq(session, chain)
            count = await count_events(session, chain=chain, report_ref=report_ref, since=since, through=through,
                                       leave_out=leave_out)
            data: dict[str, object] = {"scope": report_ref or WHOLE_LOG, "format": fmt, "count": count,
                                       "through": through}
            if since is not None:
                data["since"] = timestamp(since) if isinstance(since, datetime) else since.isoformat()
            await append_event(session, now=now, actor=person.id, kind=EventKind.EXPORTED,
                               report_ref=report_ref, data=data, chain=chain)
    except STORE_ERRORS as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise InputError(f"the export could not be recorded in the log ({reason}), so nothing was exported") from None
    async with sessions() as session:
        async for line in export_events(session, fmt=fmt, chain=chain, report_ref=report_ref, since=since,
                                        through=through, leave_out=leave_out):
            write(line)
    return count


def school_chain(school: School) -> str:
    """The chain of the log a school's records are in: its code in a trust, the default "" alone."""
    return school.id.lower() if school.id is not None else ""


async def refuse_outsider(
    sessions: async_sessionmaker[AsyncSession], school: School, person: Person, home: School, *, now: datetime
) -> None:
    """Log and refuse an export of `school`'s records on the authority of someone of another school (`home`)."""
    await _log_refusal(sessions, person, None, now, school_chain(school))
    raise ExportRefused(f"--as {person.id}: they work at {home.name}, not at {school.name}; a school's records "
                        f"are exported on the authority of its own DSL: name {school.name}'s")


async def _not_theirs(session: AsyncSession, person: Person, chain: str) -> list[str]:
    """The references of every report `person` may not view, whose events their export leaves out.

    An export never shows a report its reader may not view: the DSL's whole log leaves out the
    reports about her and every report not routed (or escalated) to her, such as a concern
    about the headteacher that went to the chair of governors. Only this person's recipient
    rows are read: bot.cases.access judges a person by their own rows.
    """
    mine: dict[int, list[Recipient]] = {}
    for row in await session.scalars(select(Recipient).where(Recipient.person_id == person.id)):
        mine.setdefault(row.report_id, []).append(row)
    reports = await session.scalars(select(Report).where(in_chain(Report.reference, chain)).options(load_only(*WHO)))
    return [r.reference for r in reports if not may_see(person, r, mine.get(r.id, []))]


async def _log_refusal(
    sessions: async_sessionmaker[AsyncSession], person: Person, report_ref: str | None, now: datetime, chain: str
) -> None:
    """Log the refused export (in the chain of the school asked for) in a transaction of its own; the refusal stands even if that fails."""
    try:
        async with sessions.begin() as session:
            await append_event(session, now=now, actor=person.id, kind=EventKind.REFUSED, report_ref=report_ref,
                               data={"action": Action.EXPORT.value}, chain=chain)
    except STORE_ERRORS:
        log.exception("could not log that %s was refused an export of %s", person.id, report_ref or WHOLE_LOG)


def _refusal(school: School, person: Person, report_ref: str | None) -> str:
    """One line for the operator; the same whether or not the report exists."""
    if report_ref is not None:
        return (f"--as {person.id}: their authority does not cover {report_ref}: it was not sent to them; "
                "name someone it was sent to")
    roles = " or ".join(f"the {school.policy.role_name(role)}" for role in sorted(OVERSEERS))
    return (f"--as {person.id}: only {roles} may export the whole log; name them, "
            "or export one report with --report REF on the authority of someone it was sent to")
