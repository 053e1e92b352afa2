"""The weekly digest's figures, as SQL aggregates over reports, routing decisions and the log.

The digest must stay fast on a large store (issue 6: a million reports in under two seconds on
SQLite), so every figure is a GROUP BY or a count over an indexed range (`reports.created_at`,
`reports.lado_due_at`, `events.at`); only one week's acknowledgement times are fetched, to
take their median. Nothing here reads a name or a word of free text.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import load_only

from storage.log import EventKind
from storage.models import DigestDelivery, Event, LogHead, Report, RoutingDecision, Status

NOT_ROUTED = "not_routed"  # the owner of a report stored but not (yet) routed
STILL_OPEN = (Status.OPEN.value, Status.ACKNOWLEDGED.value)


@dataclass(frozen=True)
class WeeklyCounts:
    """Reports per category and per owner role, one count per week (oldest first)."""

    by_category: dict[str, list[int]]
    by_owner: dict[str, list[int]]


@dataclass(frozen=True)
class Acknowledgement:
    """How long a report of the week took to acknowledge (whole seconds), and whether it was past its deadline."""

    seconds: int
    late: bool


@dataclass(frozen=True)
class Escalations:
    """The ladder's work in a week: escalation steps, the reports they were on, reminder rounds."""

    steps: int
    reports: int
    reminders: int


@dataclass(frozen=True)
class OpenReports:
    """Reports not closed: how many, how many overdue, and the first `limit` references (overdue first)."""

    total: int
    overdue: int
    listed: list[tuple[str, bool]]  # (reference, overdue)


@dataclass(frozen=True)
class Lado:
    """Allegations needing the LADO: made this week, consulted in time, and consultations overdue now."""

    allegations: int
    consulted_in_time: int
    overdue: int


def _shown(hidden: Collection[str], school: str | None = None) -> list[ColumnElement[bool]]:
    """A report of `school` (None: a lone school's store, every report) not among `hidden`.

    `hidden` are references of reports the digest's reader may not know of. `school` is a
    trust school's code, as its reports store it: one school's figures never count another's.
    """
    where = [Report.reference.not_in(sorted(hidden))] if hidden else []
    return where + ([Report.school == school] if school is not None else [])


def _shown_events(hidden: Collection[str], school: str | None = None) -> list[ColumnElement[bool]]:
    """An event of `school`'s chain (storage.chains: its code) not about one of the `hidden` reports.

    NOT IN alone would drop events about none.
    """
    where = [or_(Event.report_ref.is_(None), Event.report_ref.not_in(sorted(hidden)))] if hidden else []
    return where + ([Event.chain == school] if school is not None else [])


async def owned_beyond(
    session: AsyncSession, *, roles: Collection[str], start: datetime, end: datetime, now: datetime,
    school: str | None = None,
) -> list[Report]:
    """Reports whose owner holds none of `roles` that a digest of [start, end) would count, as of `now`.

    Those made in the weeks shown, still open, with a LADO consultation overdue, or escalated,
    reminded or undelivered in the week; each by an index. Only who they are about and who made
    them is loaded, never a word of what was written.
    """
    beyond = RoutingDecision.owner_role.not_in(sorted(roles))
    stepped = select(Event.report_ref).where(
        Event.at >= start, Event.at < end, Event.report_ref.is_not(None),
        Event.kind.in_([EventKind.ESCALATED.value, EventKind.REMINDED.value, EventKind.DELIVERY_FAILED.value]),
        *_shown_events((), school))
    found: dict[int, Report] = {}
    # One query per way of being counted, each by its own index (an OR of them can make a planner scan).
    for counted in (
        and_(Report.created_at >= start, Report.created_at < end),
        Report.status.in_(STILL_OPEN),
        and_(Report.lado_due_at < now, Report.lado_consulted_at.is_(None)),
        Report.reference.in_(stepped),
    ):
        for report in await session.scalars(
            select(Report).join(RoutingDecision, RoutingDecision.report_id == Report.id)
            .where(beyond, counted, *_shown((), school))
            .options(load_only(Report.id, Report.reference, Report.subject, Report.subject_person, Report.reporter))
        ):
            found[report.id] = report
    return list(found.values())


def _bucket(edges: Sequence[datetime]) -> ColumnElement[int]:
    """Which week a report falls in, 0 for the oldest: one CASE over the indexed created_at."""
    if len(edges) <= 2:  # one week: a CASE with no WHEN is not SQL
        return literal(0)
    return case(*((Report.created_at < edge, index) for index, edge in enumerate(edges[1:-1])),
                else_=len(edges) - 2)


def _in_range(edges: Sequence[datetime]) -> ColumnElement[bool]:
    return and_(Report.created_at >= edges[0], Report.created_at < edges[-1])


async def counts_by_week(
    session: AsyncSession, *, edges: Sequence[datetime], hidden: Collection[str] = (), school: str | None = None
) -> WeeklyCounts:
    """Reports created in each week but the `hidden`; `edges` are the weeks' starts and the last week's end (UTC)."""
    weeks = len(edges) - 1
    bucket = _bucket(edges).label("bucket")
    by_category: dict[str, list[int]] = {}
    rows = await session.execute(
        select(bucket, Report.category, func.count()).where(_in_range(edges), *_shown(hidden, school))
        .group_by(bucket, Report.category)
    )
    for index, category, count in rows:
        by_category.setdefault(category, [0] * weeks)[index] = count
    owner = func.coalesce(RoutingDecision.owner_role, NOT_ROUTED).label("owner")
    by_owner: dict[str, list[int]] = {}
    rows = await session.execute(
        select(bucket, owner, func.count())
        .select_from(Report)
        .outerjoin(RoutingDecision, RoutingDecision.report_id == Report.id)
        .where(_in_range(edges), *_shown(hidden, school))
        .group_by(bucket, owner)
    )
    for index, role, count in rows:
        by_owner.setdefault(role, [0] * weeks)[index] = count
    return WeeklyCounts(by_category, by_owner)


async def acknowledgements(
    session: AsyncSession, *, start: datetime, end: datetime, hidden: Collection[str] = (), school: str | None = None
) -> list[Acknowledgement]:
    """The acknowledged reports created in [start, end) but the `hidden`: one week's, a small set, for the median."""
    late = case((Report.acknowledged_at > Report.ack_deadline, 1), else_=0)
    rows = await session.execute(
        select(_time_to_acknowledge(session), late)
        .where(Report.created_at >= start, Report.created_at < end, Report.acknowledged_at.is_not(None),
               *_shown(hidden, school))
    )
    return [Acknowledgement(round(float(seconds)), bool(is_late)) for seconds, is_late in rows]


def _time_to_acknowledge(session: AsyncSession) -> ColumnElement[Any]:
    """acknowledged_at - created_at in seconds, worked out by the database (no datetime parsed per row)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", Report.acknowledged_at - Report.created_at)
    # SQLite keeps times as text; julianday reads it to about a millisecond, so callers round.
    return (func.julianday(Report.acknowledged_at) - func.julianday(Report.created_at)) * 86400.0


async def escalations(
    session: AsyncSession, *, start: datetime, end: datetime, hidden: Collection[str] = (), school: str | None = None
) -> Escalations:
    """Escalation steps and reminder rounds logged in [start, end) on all but the `hidden` reports."""
    rows = await session.execute(
        select(Event.kind, func.count(), func.count(func.distinct(Event.report_ref)))
        .where(Event.at >= start, Event.at < end,
               Event.kind.in_([EventKind.ESCALATED.value, EventKind.REMINDED.value]), *_shown_events(hidden, school))
        .group_by(Event.kind)
    )
    found = {kind: (steps, reports) for kind, steps, reports in rows}
    steps, reports = found.get(EventKind.ESCALATED.value, (0, 0))
    return Escalations(steps=steps, reports=reports, reminders=found.get(EventKind.REMINDED.value, (0, 0))[0])


async def undelivered(
    session: AsyncSession, *, start: datetime, end: datetime, hidden: Collection[str] = (), school: str | None = None
) -> int:
    """Messages given up on in [start, end) (the platform said they never could be), but about the `hidden`."""
    found = await session.scalar(
        select(func.count()).select_from(Event)
        .where(Event.at >= start, Event.at < end, Event.kind == EventKind.DELIVERY_FAILED.value,
               *_shown_events(hidden, school))
    )
    return int(found or 0)


def overdue_condition(now: datetime) -> ColumnElement[bool]:
    """Not acknowledged (status open: acknowledging moves it on), and its deadline has passed."""
    return and_(Report.status == Status.OPEN.value, Report.ack_deadline < now)


def not_overdue_condition(now: datetime) -> ColumnElement[bool]:
    """The opposite, spelled out: NOT of a comparison with a NULL deadline (not routed yet) is NULL, not true."""
    return or_(Report.status != Status.OPEN.value, Report.ack_deadline.is_(None), Report.ack_deadline >= now)


async def open_reports(
    session: AsyncSession, *, before: datetime, now: datetime, limit: int,
    not_about_person: str | None = None, not_about_subjects: Collection[str] = (), hidden: Collection[str] = (),
    school: str | None = None,
) -> OpenReports:
    """Reports made before `before` and not closed; overdue ones listed first, then oldest first.

    A reader is never told of a report about themselves: `not_about_person`
    and `not_about_subjects` leave out reports naming them or a role they hold.
    """
    # Open reports are few and the status index finds them; `before` only trims the hours since the
    # week ended. Wrapped in coalesce, it cannot lure SQLite's planner into walking every report by
    # created_at instead (measured: twice as slow over a million reports).
    made_before = func.coalesce(Report.created_at, Report.created_at) < before
    where = [Report.status.in_(STILL_OPEN), made_before, *_shown(hidden, school)]
    if not_about_person is not None:
        where.append(or_(Report.subject_person.is_(None), Report.subject_person != not_about_person))
    if not_about_subjects:
        where.append(not_(Report.subject.in_(list(not_about_subjects))))
    overdue = overdue_condition(now)
    total, late = (await session.execute(
        select(func.count(), func.coalesce(func.sum(case((overdue, 1), else_=0)), 0)).where(*where)
    )).one()
    listed: list[tuple[str, bool]] = []
    # Two small queries rather than a sort on a computed column: each stops at the limit.
    for condition, is_overdue in ((overdue, True), (not_overdue_condition(now), False)):
        if len(listed) >= limit or (is_overdue and not late):
            continue
        references = await session.scalars(
            select(Report.reference).where(*where, condition).order_by(Report.id).limit(limit - len(listed))
        )
        listed += [(reference, is_overdue) for reference in references]
    return OpenReports(total=int(total), overdue=int(late), listed=list(listed))


async def lado(
    session: AsyncSession, *, start: datetime, end: datetime, now: datetime, hidden: Collection[str] = (),
    school: str | None = None,
) -> Lado:
    """LADO consultations (KCSIE Part four: within one working day) for the week, and any overdue now; not the `hidden`."""
    due = and_(Report.created_at >= start, Report.created_at < end, Report.lado_due_at.is_not(None))
    in_time = and_(Report.lado_consulted_at.is_not(None), Report.lado_consulted_at <= Report.lado_due_at)
    allegations, consulted = (await session.execute(
        select(func.count(), func.coalesce(func.sum(case((in_time, 1), else_=0)), 0)).where(due, *_shown(hidden, school))
    )).one()
    overdue = (await session.execute(
        select(func.count()).where(Report.lado_due_at < now, Report.lado_consulted_at.is_(None), *_shown(hidden, school))
    )).scalar_one()
    return Lado(allegations=int(allegations), consulted_in_time=int(consulted), overdue=int(overdue))


async def log_head(session: AsyncSession, chain: str = "") -> tuple[int, str] | None:
    """A chain's last seq and hash (the school's own, in a trust), for the governor to keep outside the database."""
    row = (await session.execute(select(LogHead.seq, LogHead.hash).where(LogHead.chain == chain))).one_or_none()
    return None if row is None else (row[0], row[1])


async def first_event_at(session: AsyncSession) -> datetime | None:
    """When the log began (None for an empty log): the store holds nothing from before."""
    at: datetime | None = (await session.execute(select(func.min(Event.at)))).scalar_one()
    return at


async def queued_digests(session: AsyncSession, *, school: str, week: str) -> dict[str, tuple[str, datetime]]:
    """Who already has a week's digest queued: person id to (channel, queued at); no text or chart read."""
    rows = await session.execute(
        select(DigestDelivery.person_id, DigestDelivery.channel, DigestDelivery.queued_at)
        .where(DigestDelivery.school == school, DigestDelivery.week == week)
    )
    return {person: (channel, at) for person, channel, at in rows}
