"""The trust digest for the trust safeguarding lead: each school's week side by side, with a chart comparing them.

Per school (by name and code): reports by category, the median and longest time to
acknowledge, reports overdue now, and reports escalated. Counts and durations only: no
names, no words anyone wrote, no references at all. Reports its reader may not view (a
concern about a headteacher, owned by the chair of governors) are left out of every figure,
as in the school's own digest (bot.digest.readers), so no figure can single one out.
"""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import reaches
from bot.digest.chart import schools_png
from bot.digest.readers import hidden_for
from bot.digest.weekly import IsoWeek, Queued, duration, last_complete_week
from routing.school import Person, School
from routing.trust import Trust
from routing.vocabulary import CATEGORY_LABELS, Category
from storage import weekly
from storage.digest_outbox import queue_digest

TRUST_LEAD = "trust_safeguarding_lead"
SENT_AT = (0, time(8, 0))  # Monday 08:00 in the trust's timezone, as a school's digest by default


@dataclass(frozen=True)
class SchoolWeek:
    """One school's week, as the trust digest's reader may know of it."""

    name: str
    code: str
    reports: int
    by_category: dict[str, int]
    acknowledged: int
    ack_median_seconds: float | None
    ack_longest_seconds: float | None
    overdue: int  # not acknowledged and past the deadline, as of the digest's moment
    escalated_reports: int
    escalations: int


@dataclass(frozen=True)
class TrustFigures:
    """A week's figures for every school of the trust, in the trust config's order."""

    trust: str
    week: str
    first_day: str
    last_day: str
    computed_at: str
    schools: list[SchoolWeek]


def trust_key(deployment: Trust) -> str:
    """What the digest outbox files the trust digest under (a school's digest is filed under its name)."""
    return f"trust: {deployment.name}"


def recipients(deployment: Trust) -> tuple[Person, ...]:
    """Who gets the trust digest: the trust's safeguarding lead(s)."""
    return deployment.holders(TRUST_LEAD)


async def trust_figures(
    deployment: Trust, sessions: async_sessionmaker[AsyncSession], week: IsoWeek, *, reader: Person | None, now: datetime
) -> TrustFigures:
    """`week`'s figures per school, as of `now`, leaving out what `reader` (None: anyone) may not view."""
    zone = ZoneInfo(deployment.timezone)
    edges = list(week.bounds(zone))
    async with sessions() as session:
        schools = [await _school_week(session, school, reader, edges=edges, now=now)
                   for school in deployment.schools]
    return TrustFigures(trust=deployment.name, week=week.label, first_day=week.monday.isoformat(),
                        last_day=(week.monday + timedelta(days=6)).isoformat(), computed_at=now.isoformat(),
                        schools=schools)


async def _school_week(
    session: AsyncSession, school: School, reader: Person | None, *, edges: list[datetime], now: datetime
) -> SchoolWeek:
    code, start, end = school.key, edges[-2], edges[-1]
    hidden = await hidden_for(session, reader, start=start, end=end, now=now, school=code)
    counts = await weekly.counts_by_week(session, edges=edges, hidden=hidden, school=code)
    acks = await weekly.acknowledgements(session, start=start, end=end, hidden=hidden, school=code)
    climbed = await weekly.escalations(session, start=start, end=end, hidden=hidden, school=code)
    # limit=0: how many are overdue, never which.
    still_open = await weekly.open_reports(session, before=end, now=now, limit=0, hidden=hidden, school=code)
    seconds = sorted(ack.seconds for ack in acks)
    by_category = {category: row[-1] for category, row in counts.by_category.items() if row[-1]}
    return SchoolWeek(
        name=school.name, code=code, reports=sum(by_category.values()), by_category=by_category,
        acknowledged=len(acks), ack_median_seconds=statistics.median(seconds) if seconds else None,
        ack_longest_seconds=seconds[-1] if seconds else None, overdue=still_open.overdue,
        escalated_reports=climbed.reports, escalations=climbed.steps,
    )


def render_trust(figures: TrustFigures) -> str:
    """The trust digest as plain text, a short block per school for a phone; it stands without the chart."""
    first, last = datetime.fromisoformat(figures.first_day), datetime.fromisoformat(figures.last_day)
    lines = [f"Safeguard trust digest: {figures.trust}",
             f"Week {figures.week}, {first:%a} {first.day} {first:%b} to {last:%a} {last.day} {last:%b %Y}"]
    for school in figures.schools:
        lines += ["", f"{school.name} ({school.code.upper()})", f"- Reports: {school.reports}"]
        lines += [f"  - {_label(category)}: {count}" for category, count in _ordered(school.by_category)]
        lines += [f"- Time to acknowledge: {_ack(school)}",
                  f"- Overdue now: {school.overdue}",
                  f"- Escalated: {_escalated(school)}"]
    total = sum(s.reports for s in figures.schools)
    overdue = sum(s.overdue for s in figures.schools)
    lines += ["", f"Across the trust: {total} reports, {overdue} overdue now"]
    return "\n".join(lines) + "\n"


def _ordered(by_category: dict[str, int]) -> list[tuple[str, int]]:
    known = [c.value for c in Category if c.value in by_category]
    return [(c, by_category[c]) for c in known + sorted(set(by_category) - set(known))]


def _label(category: str) -> str:
    return CATEGORY_LABELS[Category(category)] if category in set(Category) else category


def _ack(school: SchoolWeek) -> str:
    if school.ack_median_seconds is None or school.ack_longest_seconds is None:
        return "none acknowledged"
    return (f"median {duration(school.ack_median_seconds)}, longest {duration(school.ack_longest_seconds)} "
            f"({school.acknowledged} of {school.reports})")


def _escalated(school: SchoolWeek) -> str:
    if not school.escalations:
        return "none"
    reports = "report" if school.escalated_reports == 1 else "reports"
    steps = "step" if school.escalations == 1 else "steps"
    return f"{school.escalated_reports} {reports} ({school.escalations} {steps} up the ladder)"


def chart(figures: TrustFigures) -> bytes:
    """The chart comparing schools: reports, overdue and escalated, per school."""
    return schools_png(figures.week, [s.code.upper() for s in figures.schools], {
        "Reports": [s.reports for s in figures.schools],
        "Overdue now": [s.overdue for s in figures.schools],
        "Escalated": [s.escalated_reports for s in figures.schools],
    })


def due_week(deployment: Trust, now: datetime) -> IsoWeek:
    """The latest week whose trust digest is due by `now` (Monday 08:00 after it, in the trust's timezone)."""
    zone = ZoneInfo(deployment.timezone)
    week = last_complete_week(now, zone)
    return week if send_at(deployment, week) <= now else week.shifted(-1)


def send_at(deployment: Trust, week: IsoWeek) -> datetime:
    """When `week`'s trust digest goes out, in UTC."""
    day, at = SENT_AT
    moment = datetime.combine(week.shifted(1).monday + timedelta(days=day), at, tzinfo=ZoneInfo(deployment.timezone))
    return moment.astimezone(UTC)


def channel_for(person: Person, channels: Sequence[str]) -> str | None:
    """The first running channel that reaches `person`."""
    return next((channel for channel in channels if reaches(channel, person)), None)


async def queue_trust_week(
    deployment: Trust, sessions: async_sessionmaker[AsyncSession], week: IsoWeek, *,
    channels: Sequence[str], now: datetime,
) -> list[Queued]:
    """Queue `week`'s trust digest for each trust safeguarding lead who has not had it; who got it now and before."""
    key = trust_key(deployment)
    async with sessions() as session:
        before = await weekly.queued_digests(session, school=key, week=week.label)
    new: set[str] = set()
    for person in recipients(deployment):
        channel = channel_for(person, channels)
        if person.id in before or channel is None:
            continue
        # Each reader's own figures: what they may know of decides what is counted.
        figures = await trust_figures(deployment, sessions, week, reader=person, now=now)
        png = await asyncio.to_thread(chart, figures)
        async with sessions.begin() as session:
            if await queue_digest(session, now=now, school=key, week=week.label, person_id=person.id,
                                  channel=channel, text=render_trust(figures), chart=png):
                new.add(person.id)
    async with sessions() as session:
        before = await weekly.queued_digests(session, school=key, week=week.label)
    out = []
    for person in recipients(deployment):
        channel, at = before.get(person.id, (channel_for(person, channels), None))
        out.append(Queued(person.id, TRUST_LEAD, channel, person.id in new, at))
    return out


async def queue_due_trust_digest(
    deployment: Trust, sessions: async_sessionmaker[AsyncSession], *, channels: Sequence[str], now: datetime
) -> list[str]:
    """Queue the trust digest that is due, once (the scheduler calls this every round); who was newly queued.

    Two servers calling this at once queue it once: the outbox's unique row per reader and week decides.
    """
    if deployment.alone or not recipients(deployment):
        return []
    week = due_week(deployment, now)
    async with sessions() as session:
        began = await weekly.first_event_at(session)
        if began is None or week.bounds(ZoneInfo(deployment.timezone))[1] <= began:
            return []  # a week before the log began: no empty digest for it
        before = await weekly.queued_digests(session, school=trust_key(deployment), week=week.label)
    if all(p.id in before or channel_for(p, channels) is None for p in recipients(deployment)):
        return []
    queued = await queue_trust_week(deployment, sessions, week, channels=channels, now=now)
    return [person.person_id for person in queued if person.new]
