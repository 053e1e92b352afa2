"""The weekly digest for the governor lead (issue 6): the week's figures, as text and a chart, queued once.

Counts per category and per owner role against the four weeks before, times to acknowledge,
escalations, what is still open (by reference only), LADO consultations and the log's head.
No names, no ids of people, no free text: only counts, labels, role names, references,
durations and dates.
"""

from __future__ import annotations

import asyncio
import logging
import re
import statistics
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App
from bot.digest.chart import chart_png
from bot.digest.readers import folded, hidden_from
from routing.school import Person, School
from routing.vocabulary import CATEGORY_LABELS, SUBJECT_ROLES, Category, Role
from routing.yamlfields import InputError
from storage import requests as request_store
from storage import weekly
from storage.digest_outbox import queue_digest

log = logging.getLogger(__name__)

COMPARED = 4  # weeks shown before this one, for comparison
OPEN_LISTED = 50  # references listed; the rest are counted
REFERENCES_PER_LINE = 3  # short lines, for a phone
WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True, order=True)
class IsoWeek:
    """An ISO 8601 week (2026-W47), Monday to Sunday in the school's timezone."""

    year: int
    number: int

    @classmethod
    def of(cls, day: date) -> IsoWeek:
        """The week `day` falls in."""
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    def shifted(self, weeks: int) -> IsoWeek:
        """The week `weeks` later (earlier when negative)."""
        return IsoWeek.of(self.monday + timedelta(weeks=weeks))

    def start(self, zone: ZoneInfo) -> datetime:
        """Monday 00:00 at the school, in UTC (a clock change makes a week 167 or 169 hours long)."""
        return datetime.combine(self.monday, time(0), tzinfo=zone).astimezone(UTC)

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) in UTC: this Monday 00:00 to next Monday 00:00, local time."""
        return self.start(zone), self.shifted(1).start(zone)


def parse_week(text: str) -> IsoWeek:
    """`2026-W47` as an IsoWeek; an InputError saying why for anything else ("last week", 2026-W54)."""
    match = WEEK.match(text.strip().upper())
    if match is None:
        raise InputError(f"{text!r} is not an ISO week; write it as YYYY-Www, e.g. 2026-W47")
    year, number = int(match[1]), int(match[2])
    if year < 1:
        raise InputError(f"{text.strip()!r}: there is no year 0000")
    try:
        date.fromisocalendar(year, number, 1)
    except ValueError:
        last = IsoWeek.of(date(year, 12, 28)).number  # 28 December is always in a year's last week
        raise InputError(f"{text.strip()!r}: {year} has no week {number}; its weeks are W01 to W{last}") from None
    return IsoWeek(year, number)


def last_complete_week(now: datetime, zone: ZoneInfo) -> IsoWeek:
    """The latest week that has ended at the school by `now`."""
    return IsoWeek.of(now.astimezone(zone).date()).shifted(-1)


def send_at(school: School, week: IsoWeek) -> datetime:
    """When a week's digest goes out: the configured day and time of the following week, local (UTC)."""
    day = week.shifted(1).monday + timedelta(days=school.digest.day)
    return datetime.combine(day, school.digest.at, tzinfo=ZoneInfo(school.timezone)).astimezone(UTC)


def due_week(app: App) -> IsoWeek:
    """The latest week whose digest is due by now (its send moment has passed)."""
    week = last_complete_week(app.now(), app.zone)
    return week if send_at(app.school, week) <= app.now() else week.shifted(-1)


def recipients(school: School) -> tuple[Person, ...]:
    """Who gets the digest: the governor lead, or the chair of governors when nobody holds that role."""
    return school.holders(Role.GOVERNOR_LEAD) or school.holders(Role.CHAIR_OF_GOVERNORS)


@dataclass(frozen=True)
class Figures:
    """One week's figures, with the four weeks before; lists of weeks are oldest first, this week last."""

    school: str
    week: str
    first_day: str  # the week's Monday and Sunday, ISO dates
    last_day: str
    computed_at: str  # ISO 8601 UTC: "still open" and "overdue" are as of then
    weeks: list[str]
    totals: list[int]
    by_category: dict[str, list[int]]
    by_owner: dict[str, list[int]]  # owner role id (or "not_routed") to counts
    acknowledged: int
    acknowledged_late: int
    ack_median_seconds: float | None
    ack_longest_seconds: float | None
    escalations: int
    escalated_reports: int
    reminders: int
    undelivered: int  # messages given up on (user not found, bot removed); the DSL was told of each
    open_total: int
    overdue_total: int
    open_references: list[str]  # overdue first, then oldest first
    overdue_references: list[str]
    lado_allegations: int
    lado_consulted_in_time: int
    lado_overdue: int
    log_seq: int
    log_hash: str
    # Approval requests (a blocked site to unblock): made, approved, refused this week; counts only.
    requests: dict[str, int] = field(default_factory=dict)
    # Social media site creation approvals (SM- references), counted apart from blocked sites.
    social_media: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The figures as plain JSON values."""
        return asdict(self)


async def weekly_figures(
    app: App, week: IsoWeek, *, reader: str | None = None, now: datetime | None = None
) -> Figures:
    """The digest's figures for `week` as of `now` (default: now), as `reader` (None: anyone) may see them.

    Left out: reports beyond the school's own case owners that the reader may not view (see
    bot.digest.readers), and, from what is still open, the reports about the reader.
    """
    zone, now = app.zone, now or app.now()
    weeks = [week.shifted(offset) for offset in range(-COMPARED, 1)]
    edges = [w.start(zone) for w in weeks] + [week.shifted(1).start(zone)]
    start, end = edges[-2], edges[-1]
    # A school of a trust counts its own reports and its own chain of the log only (school.id: its code).
    school = app.school.id
    async with app.sessions() as session:
        hidden = await hidden_from(app, session, reader, start=edges[0], end=end, now=now)
        counts = await weekly.counts_by_week(session, edges=edges, hidden=hidden, school=school)
        acks = await weekly.acknowledgements(session, start=start, end=end, hidden=hidden, school=school)
        climbed = await weekly.escalations(session, start=start, end=end, hidden=hidden, school=school)
        undelivered = await weekly.undelivered(session, start=start, end=end, hidden=hidden, school=school)
        lado = await weekly.lado(session, start=start, end=end, now=now, hidden=hidden, school=school)
        head = await weekly.log_head(session, school or "") or (0, "")
        asked = await request_store.week_counts(session, chain=school or "", start=start, end=end)
        sites = await request_store.week_counts(session, chain=school or "", start=start, end=end, prefix="SM")
        still_open = await _open_for(app, session, end=end, now=now, reader=reader, hidden=hidden)
    seconds = sorted(ack.seconds for ack in acks)
    return Figures(
        school=app.school.name, week=week.label, first_day=week.monday.isoformat(),
        last_day=(week.monday + timedelta(days=6)).isoformat(), computed_at=now.isoformat(),
        weeks=[w.label for w in weeks],
        totals=[sum(row[index] for row in counts.by_category.values()) for index in range(len(weeks))],
        by_category=counts.by_category, by_owner=folded(counts.by_owner),
        acknowledged=len(acks), acknowledged_late=sum(ack.late for ack in acks),
        ack_median_seconds=statistics.median(seconds) if seconds else None,
        ack_longest_seconds=seconds[-1] if seconds else None,
        escalations=climbed.steps, escalated_reports=climbed.reports, reminders=climbed.reminders,
        undelivered=undelivered, **_open_fields(still_open),
        lado_allegations=lado.allegations, lado_consulted_in_time=lado.consulted_in_time, lado_overdue=lado.overdue,
        log_seq=head[0], log_hash=head[1], requests=asked, social_media=sites,
    )


async def for_reader(app: App, figures: Figures, reader: str) -> Figures:
    """`figures` as `reader` may see them, as of the same moment and log head (see `weekly_figures`)."""
    theirs = await weekly_figures(app, parse_week(figures.week), reader=reader,
                                  now=datetime.fromisoformat(figures.computed_at))
    return replace(theirs, log_seq=figures.log_seq, log_hash=figures.log_hash)


def _open_fields(still_open: weekly.OpenReports) -> dict[str, Any]:
    return {
        "open_total": still_open.total, "overdue_total": still_open.overdue,
        "open_references": [reference for reference, _ in still_open.listed],
        "overdue_references": [reference for reference, overdue in still_open.listed if overdue],
    }


async def _open_for(
    app: App, session: AsyncSession, *, end: datetime, now: datetime, reader: str | None, hidden: list[str]
) -> weekly.OpenReports:
    person = app.person(reader) if reader is not None else None
    held = app.school.policy.held_with(frozenset(person.roles)) if person is not None else frozenset()
    about = {subject.value for subject, roles in SUBJECT_ROLES.items() if roles & held}
    return await weekly.open_reports(session, before=end, now=now, limit=OPEN_LISTED,
                                     not_about_person=reader, not_about_subjects=about, hidden=hidden,
                                     school=app.school.id)


def render(app: App, figures: Figures) -> str:
    """The digest as plain text, in short lines for a phone; it stands on its own without the chart."""
    first, last = date.fromisoformat(figures.first_day), date.fromisoformat(figures.last_day)
    lines = [
        f"Safeguard weekly digest: {figures.school}",
        f"Week {figures.week}, {first:%a} {first.day} {first:%b} to {last:%a} {last.day} {last:%b %Y}",
        "",
        f"Reports: {figures.totals[-1]} (previous weeks {_before(figures.totals)})",
    ]
    categories = [c for c in _category_order(figures.by_category) if any(figures.by_category[c])]
    if categories:
        lines += ["", "By category (previous weeks in brackets, latest first):"]
        lines += [f"- {_category_label(c)}: {_row(figures.by_category[c])}" for c in categories]
        lines += ["", "By who owns them:"]
        lines += [f"- {_owner_label(app, role)}: {_row(figures.by_owner[role])}"
                  for role in _owner_order(app, figures.by_owner)]
    lines += ["", *_acknowledgement(figures), _escalation(figures), _undelivered(figures), *_still_open(figures), *_lado(figures)]
    for title, asked in (("Blocked-site", figures.requests), ("Social media site", figures.social_media)):
        lines += ["", f"{title} requests: {asked.get('made', 0)} made, {asked.get('approved', 0)} approved, "
                      f"{asked.get('refused', 0)} refused"] if any(asked.values()) else []
    if figures.log_seq:
        # An anchor kept outside the database: a rewritten log cannot match it later.
        lines += ["", f"Log check: event {figures.log_seq} has hash", figures.log_hash,
                  "Keep this message: it shows later whether the log was changed."]
    return "\n".join(lines) + "\n"


def duration(seconds: float) -> str:
    """A time to acknowledge as a person says it: `12 min`, `3 h 5 min`, `2 d 4 h`."""
    minutes = int(seconds // 60)
    if minutes < 1:
        return "under 1 min"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def _before(counts: list[int]) -> str:
    return ", ".join(str(n) for n in reversed(counts[:-1]))


def _row(counts: list[int]) -> str:
    return f"{counts[-1]} ({_before(counts)})"


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"


def _category_order(by_category: dict[str, list[int]]) -> list[str]:
    known = [c.value for c in Category if c.value in by_category]
    return known + sorted(set(by_category) - set(known))


def _category_label(category: str) -> str:
    return CATEGORY_LABELS[Category(category)] if category in set(Category) else category


def _owner_order(app: App, by_owner: dict[str, list[int]]) -> list[str]:
    roles = [role for role in app.school.policy.roles if role in by_owner]
    others = sorted(set(by_owner) - set(roles) - {weekly.NOT_ROUTED})
    return roles + others + ([weekly.NOT_ROUTED] if weekly.NOT_ROUTED in by_owner else [])


def _owner_label(app: App, role: str) -> str:
    return "Not routed yet" if role == weekly.NOT_ROUTED else app.role_name(role)


def _acknowledgement(figures: Figures) -> list[str]:
    made = figures.totals[-1]
    if figures.ack_median_seconds is None or figures.ack_longest_seconds is None:
        return ["Time to acknowledge: none acknowledged" + (f" (of {_plural(made, 'report')})" if made else "")]
    late = f", {figures.acknowledged_late} after the deadline" if figures.acknowledged_late else ""
    return [f"Time to acknowledge: median {duration(figures.ack_median_seconds)}, "
            f"longest {duration(figures.ack_longest_seconds)}",
            f"({figures.acknowledged} of {made} acknowledged{late})"]


def _escalation(figures: Figures) -> str:
    if not figures.escalations and not figures.reminders:
        return "Escalations: none"
    text = f"Escalations: {figures.escalations} on {_plural(figures.escalated_reports, 'report')}"
    if figures.reminders:
        text += f"; reminder rounds after the ladder: {figures.reminders}"
    return text


def _undelivered(figures: Figures) -> str:
    if not figures.undelivered:
        return "Messages that could not be delivered: none"
    return (f"Messages that could not be delivered: {figures.undelivered} "
            "(the DSL was told of each; check those people's chat accounts)")


def _still_open(figures: Figures) -> list[str]:
    if not figures.open_total:
        return ["Still open: none"]
    overdue = set(figures.overdue_references)
    listed = [f"{ref} (overdue)" if ref in overdue else ref for ref in figures.open_references]
    more = figures.open_total - len(listed)
    if more:
        listed.append(f"and {more} more")
    rows = [", ".join(listed[i:i + REFERENCES_PER_LINE]) for i in range(0, len(listed), REFERENCES_PER_LINE)]
    return [f"Still open: {figures.open_total}, {figures.overdue_total} overdue", *rows]


def _lado(figures: Figures) -> list[str]:
    return [f"LADO: {_plural(figures.lado_allegations, 'allegation')} this week, "
            f"{figures.lado_consulted_in_time} consulted within a working day",
            f"LADO consultations overdue: {figures.lado_overdue}"]


@dataclass(frozen=True)
class Queued:
    """A recipient of a week's digest: queued now (`new`), already queued before, or not reachable (no channel)."""

    person_id: str
    role: str
    channel: str | None
    new: bool
    queued_at: datetime | None


async def queue_week(app: App, week: IsoWeek) -> list[Queued]:
    """Queue `week`'s digest for every recipient who has not had it; say who got it now and who before."""
    people = recipients(app.school)
    async with app.sessions() as session:
        before = await weekly.queued_digests(session, school=app.school.name, week=week.label)
    waiting = [(p, app.channel_for(p.id)) for p in people if p.id not in before]
    reachable = [(p, channel) for p, channel in waiting if channel is not None]
    new: set[str] = set()
    if reachable:
        # Every read happens before the write transaction, so on SQLite it starts by taking the write lock.
        # Each reader's figures (and chart) are their own: what they may know of decides what is counted.
        shown = {p.id: await weekly_figures(app, week, reader=p.id) for p, _ in reachable}
        charts = {pid: await asyncio.to_thread(chart_png, figures) for pid, figures in shown.items()}
        async with app.sessions.begin() as session:
            for person, channel in reachable:
                if await queue_digest(session, now=app.now(), school=app.school.name, week=week.label,
                                      person_id=person.id, channel=channel, text=render(app, shown[person.id]),
                                      chart=charts[person.id], chain=app.school.id or ""):
                    new.add(person.id)
        async with app.sessions() as session:
            before = await weekly.queued_digests(session, school=app.school.name, week=week.label)
    role = Role.GOVERNOR_LEAD if app.school.holders(Role.GOVERNOR_LEAD) else Role.CHAIR_OF_GOVERNORS
    out = []
    for person in people:
        if person.id in before:
            channel, at = before[person.id]
            out.append(Queued(person.id, role.value, channel, person.id in new, at))
        else:
            out.append(Queued(person.id, role.value, app.channel_for(person.id), False, None))
    return out


async def queue_due_digest(app: App) -> list[str]:
    """Queue the digest that is due, once (the scheduler calls this every round); the people newly queued for.

    A week that ended before the log began is skipped: a fresh install sends no empty digest
    for a week before it existed. Two servers calling this at once queue it once (the unique
    row decides). A database error is raised, for the scheduler to log and retry next round.
    """
    week = due_week(app)
    async with app.sessions() as session:
        began = await weekly.first_event_at(session)
        if began is None or week.bounds(app.zone)[1] <= began:
            return []
        before = await weekly.queued_digests(session, school=app.school.name, week=week.label)
    # The cheap check every round: the figures are computed only when someone reachable has not had them.
    if all(p.id in before or app.channel_for(p.id) is None for p in recipients(app.school)):
        return []
    queued = await queue_week(app, week)
    for person in queued:
        if person.channel is None:
            log.warning("digest %s: %s cannot be reached on any running channel", week.label, person.person_id)
    return [person.person_id for person in queued if person.new]
