"""The outbox in figures, for `safeguard doctor`: what waits and what was given up, as counts and ages only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import UNSENT, AlertDelivery, DeliveryStatus, DigestDelivery


@dataclass(frozen=True)
class OutboxHealth:
    """Messages still to send and messages given up on, by channel, with the oldest and newest times."""

    waiting: dict[str, int] = field(default_factory=dict)
    oldest_waiting: datetime | None = None
    given_up: dict[str, int] = field(default_factory=dict)
    given_up_recently: int = 0
    newest_given_up: datetime | None = None


async def outbox_health(session: AsyncSession, *, now: datetime, recent: timedelta) -> OutboxHealth:
    """Counts and times of both outboxes (alerts and news, weekly digests); nothing about whom or what."""
    waiting: dict[str, int] = {}
    given_up: dict[str, int] = {}
    oldest: list[datetime] = []
    newest: list[datetime] = []
    recently = 0
    for table in (AlertDelivery, DigestDelivery):
        unsent = (await session.execute(
            select(table.channel, func.count(), func.min(table.queued_at))
            .where(table.status.in_(UNSENT)).group_by(table.channel))).all()
        for channel, count, first in unsent:
            waiting[channel] = waiting.get(channel, 0) + count
            oldest.append(first)
        undeliverable = (await session.execute(
            select(table.channel, func.count(), func.max(table.queued_at))
            .where(table.status == DeliveryStatus.UNDELIVERABLE.value).group_by(table.channel))).all()
        for channel, count, last in undeliverable:
            given_up[channel] = given_up.get(channel, 0) + count
            newest.append(last)
        recently += (await session.execute(
            select(func.count()).select_from(table)
            .where(table.status == DeliveryStatus.UNDELIVERABLE.value, table.queued_at >= now - recent))).scalar_one()
    return OutboxHealth(waiting, min(oldest, default=None), given_up, recently, max(newest, default=None))
