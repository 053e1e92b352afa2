"""What lives in the database, read when Prometheus scrapes: the outbox's depth and oldest message, overdue reports.

Read at scrape time rather than counted, so two servers sharing one database each report the
same truth. Each query goes by an indexed status column: the unsent messages and the open
reports are few however many a school has had.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import UNSENT, AlertDelivery, DigestDelivery, Report, Status


@dataclass(frozen=True)
class Waiting:
    """Messages of one kind waiting on one channel: how many, and when the oldest was queued."""

    channel: str
    kind: str
    count: int
    oldest: datetime | None


@dataclass(frozen=True)
class Figures:
    """The database's figures at one moment."""

    now: datetime
    waiting: tuple[Waiting, ...] = ()
    overdue: dict[str, int] = field(default_factory=dict)  # by school: open, past the acknowledgement deadline

    def oldest_age(self, channels: tuple[str, ...] | None = None) -> float | None:
        """Seconds the oldest message still to send (on one of `channels`, if given) has waited; None if none waits."""
        times = [w.oldest for w in self.waiting if w.oldest is not None and (channels is None or w.channel in channels)]
        return max((self.now - min(times)).total_seconds(), 0.0) if times else None


async def waiting(session: AsyncSession) -> list[Waiting]:
    """Messages still to send (queued, or failed and to be tried again), by channel and kind."""
    found = []
    for model, kind in ((AlertDelivery, AlertDelivery.kind), (DigestDelivery, None)):
        columns = (model.channel, kind) if kind is not None else (model.channel,)
        rows = await session.execute(
            select(*columns, func.count(), func.min(model.queued_at))
            .where(model.status.in_(UNSENT)).group_by(*columns)
        )
        for row in rows:
            found.append(Waiting(row[0], row[1] if kind is not None else "digest", row[-2], row[-1]))
    return found


async def read(sessions: async_sessionmaker[AsyncSession], now: datetime) -> Figures:
    """The figures now; a database error is raised (the caller says the database is down)."""
    async with sessions() as session:
        found = await waiting(session)
        rows = await session.execute(
            select(Report.school, func.count())
            .where(Report.status == Status.OPEN.value, Report.ack_deadline < now).group_by(Report.school)
        )
        return Figures(now, tuple(found), {row[0]: row[1] for row in rows})


class Snapshot(Collector):
    """The figures as Prometheus gauges; `figures` None: the database did not answer (only that is said)."""

    def __init__(self, figures: Figures | None, schools: tuple[str, ...]) -> None:
        self.figures = figures
        self.schools = schools

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("safeguard_database_up", "1 when the database answered this scrape, else 0.")
        up.add_metric([], 0.0 if self.figures is None else 1.0)
        yield up
        if self.figures is None:
            return
        depth = GaugeMetricFamily("safeguard_outbox_waiting", "Messages still to send (queued, or to be tried again).",
                                  labels=["channel", "kind"])
        oldest = GaugeMetricFamily("safeguard_outbox_oldest_waiting_seconds",
                                   "How long the oldest message still to send has waited; 0 when none waits.",
                                   labels=["channel"])
        for item in self.figures.waiting:
            depth.add_metric([item.channel, item.kind], float(item.count))
        for channel in sorted({item.channel for item in self.figures.waiting}):
            oldest.add_metric([channel], self.figures.oldest_age((channel,)) or 0.0)
        yield depth
        yield oldest
        overdue = GaugeMetricFamily("safeguard_reports_overdue",
                                    "Reports past their acknowledgement deadline that nobody has acknowledged.",
                                    labels=["school"])
        for school in self.schools:  # every school, 0 included, so an alert on it sees the series
            overdue.add_metric([school], float(self.figures.overdue.get(school, 0)))
        yield overdue
