"""The outbox as a channel reads it: notices waiting for a person, rendered, then marked delivered."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select

from bot import messages
from bot.app import STORE_ERRORS, App
from dialogs import Reply
from storage import reports as store
from storage.alerts import claim_alerts, mark_alert_failed, mark_alert_sent
from storage.models import AlertDelivery, NoticeKind, Recipient, Report

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Notice:
    """One message waiting in the outbox: an alert (with its buttons) or news for a reporter."""

    delivery_id: int
    person_id: str
    channel: str
    kind: NoticeKind
    reference: str
    reply: Reply
    alert: messages.Alert | None = None


async def pending(app: App, channel: str, person_id: str | None = None) -> list[Notice]:
    """The notices still to send on `channel` (to one person, if given), claimed for this sender, oldest first.

    A claimed notice is this sender's for a while (storage.alerts.CLAIM_SECONDS): another server
    on the same database does not send it too. Marking it delivered or failed releases it.
    """
    async with app.sessions.begin() as session:
        notices = []
        for delivery in await claim_alerts(session, now=app.now(), channel=channel, person_id=person_id):
            report = await session.get(Report, delivery.report_id)
            if report is None:
                continue
            _, recipients = await store.get_routing(session, report)
            notices.append(_notice(app, delivery, report, recipients))
        return notices


async def delivered(app: App, notice: Notice, external_ref: str | None = None) -> None:
    """Record that a notice reached its person (logged once as `alert_delivered`).

    If the database fails here the notice stays pending and goes again next round: at
    least once (DESIGN rule 4), so the failure is logged rather than raised.
    """
    try:
        async with app.sessions.begin() as session:
            await mark_alert_sent(session, now=app.now(), delivery_id=notice.delivery_id, external_ref=external_ref)
    except STORE_ERRORS:
        log.exception("%s %s reached %s but was not marked delivered", notice.kind, notice.reference, notice.person_id)


async def failed(app: App, notice: Notice, error: str) -> None:
    """Record a failed attempt, so it is tried again (it is tried again anyway if this cannot be recorded)."""
    try:
        async with app.sessions.begin() as session:
            await mark_alert_failed(session, now=app.now(), delivery_id=notice.delivery_id, error=error)
    except STORE_ERRORS:
        log.exception("could not record that %s to %s failed", notice.reference, notice.person_id)


@dataclass(frozen=True)
class SentAlert:
    """An alert already delivered on a channel, as it should read now (to update it in place)."""

    person_id: str
    external_ref: str
    alert: messages.Alert


async def sent_alerts(app: App, reference: str, channel: str) -> list[SentAlert]:
    """Every alert of a report delivered on `channel` that can be found again, as each should now read."""
    async with app.sessions() as session:
        report = await store.get_report(session, reference)
        if report is None:
            return []
        _, recipients = await store.get_routing(session, report)
        sent = await session.scalars(select(AlertDelivery).where(
            AlertDelivery.report_id == report.id, AlertDelivery.channel == channel,
            AlertDelivery.kind == NoticeKind.ALERT.value, AlertDelivery.external_ref.is_not(None),
        ).order_by(AlertDelivery.id))
        return [
            SentAlert(d.person_id, d.external_ref or "",
                      messages.alert(app, report, next((r for r in recipients if r.person_id == d.person_id), None)))
            for d in sent
        ]


def _notice(app: App, delivery: AlertDelivery, report: Report, recipients: list[Recipient]) -> Notice:
    kind = NoticeKind(delivery.kind)
    if kind is NoticeKind.ACKNOWLEDGED:
        by = next((r.role for r in recipients if r.person_id == report.acknowledged_by), None)
        at = report.acknowledged_at or delivery.queued_at
        reply = messages.acknowledged_for_reporter(app, report.reference, by, at)
        return Notice(delivery.id, delivery.person_id, delivery.channel, kind, report.reference, reply)
    recipient = next((r for r in recipients if r.person_id == delivery.person_id), None)
    if kind is NoticeKind.REMINDER:
        alert = messages.reminder(app, report, recipients)
    elif kind is NoticeKind.LADO:
        alert = messages.lado_reminder(app, report)
    else:
        alert = messages.alert(app, report, recipient)
    return Notice(delivery.id, delivery.person_id, delivery.channel, kind, report.reference, Reply(alert.text), alert)
