"""The outbox as a channel reads it: notices waiting for a person, rendered, then marked delivered.

A notice given up on (the platform says it never can be delivered) is raised to the DSL, in
the same transaction, as a notice of its own (bot.outbox.undelivered).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cases import children, follow_up_words, handover_words, messages, request_words, requests
from bot.cases.reporter import chat_user_of
from bot.outbox import undelivered
from bot.app import CONSOLE, STORE_ERRORS, App
from dialogs import Reply
from routing.vocabulary import Flag
from storage import reports as store
from storage import requests as request_store
from storage.alerts import claim_alerts, give_up_alert, mark_alert_failed, mark_alert_sent
from storage.models import AlertDelivery, NoticeKind, Recipient, RecipientKind, Report, ReportNote
from storage.sealed_reporters import handles_of, is_handle

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Notice:
    """One message waiting in the outbox: an alert (with its buttons) or news for a reporter."""

    delivery_id: int
    person_id: str
    channel: str
    kind: NoticeKind
    reference: str | None  # None only for news about a digest that could not be delivered
    replies: tuple[Reply, ...]
    alert: messages.Alert | None = None
    attempts: int = 0
    # An earlier attempt may have arrived without our hearing so (a time-out, a sender that died).
    in_doubt: bool = False
    # Buttons under news for a reporter (their receipt: "I have something to add"); an alert has its own.
    buttons: tuple[messages.ReportButton, ...] = ()
    # Who a channel sends it to, when that is not `person_id`: the reporter behind a report's
    # handle (bot/cases/reporter.py), unsealed for this send and held in memory only.
    chat_user: str | None = field(default=None, repr=False)
    queued_at: datetime | None = None  # for the delivery latency GET /metrics reports

    @property
    def to(self) -> str:
        """The person id the channel sends to."""
        return self.chat_user or self.person_id

    @property
    def key(self) -> str:
        """What the notice is called on the platform, so a sender can find out whether it arrived."""
        return f"notice-{self.delivery_id}"


async def pending(app: App, channel: str, person_id: str | None = None) -> list[Notice]:
    """The notices still to send on `channel` (to one person, if given), claimed for this sender, oldest first.

    A claimed notice is this sender's for a while (storage.alerts.CLAIM_SECONDS): another server
    on the same database does not send it too. Marking it delivered or failed releases it.
    """
    async with app.sessions.begin() as session:
        notices = []
        # A person's own news includes that of the reports they sent without their name (found by their sealed links).
        theirs = None if person_id is None else [person_id, *await handles_of(session, app.relay, person_id)]
        claimed = await claim_alerts(session, now=app.now(), channel=channel, person_ids=theirs, lease=app.lease)
        routed: dict[int, list[Recipient]] = {}  # a report's recipients, read once for all its notices
        for delivery, in_doubt in claimed:
            if delivery.kind == NoticeKind.REQUEST.value:
                notices.append(await _request_notice(app, session, delivery, in_doubt))
                continue
            report = await session.get(Report, delivery.report_id) if delivery.report_id is not None else None
            if report is not None and report.id not in routed:
                routed[report.id] = (await store.get_routing(session, report))[1]
            recipients = routed[report.id] if report is not None else []
            # Worded as the report's own school words it: its role names, its people, its timezone.
            school = app.at(report.school if report is not None else _school_of(delivery))
            child = await children.for_alert(school, session, report, delivery.person_id) \
                if report is not None and delivery.kind == NoticeKind.ALERT.value else children.ChildLines()
            notice = _notice(school, delivery, report, recipients, in_doubt, child)
            if is_handle(delivery.person_id):
                # Unsealed now, to send now; a handle that cannot be opened stays a handle, which no channel reaches.
                notice = replace(notice, chat_user=await chat_user_of(app, session, delivery.person_id))
            if report is not None and delivery.kind in FOLLOW_UPS:
                notice = await _follow_up(school, session, notice, delivery, report, recipients)
            notices.append(notice)
        return notices


async def delivered(app: App, notice: Notice, external_ref: str | None = None) -> None:
    """Record that a notice reached its person (logged once as `alert_delivered`)."""
    await delivered_all(app, [(notice, external_ref)])


async def delivered_all(app: App, sent: Sequence[tuple[Notice, str | None]]) -> None:
    """Record that these notices reached their people, in one transaction.

    If the database fails here the notices stay pending and go again next round: at
    least once, so the failure is logged rather than raised.
    """
    try:
        async with app.sessions.begin() as session:
            for notice, external_ref in sent:
                # Where a reporter's news landed (their DM, their Teams chat) would tie their handle to their
                # named reports: it is not kept for news to a handle (nothing updates it later anyway).
                kept = None if is_handle(notice.person_id) else external_ref
                await mark_alert_sent(session, now=app.now(), delivery_id=notice.delivery_id, external_ref=kept)
    except STORE_ERRORS:
        for notice, _ in sent:
            log.exception("%s %s reached %s but was not marked delivered", notice.kind, notice.reference, notice.person_id)


async def failed(app: App, notice: Notice, error: str, retry_at: datetime | None = None) -> None:
    """Record a failed attempt, to be tried again from `retry_at` (tried again anyway if this cannot be recorded)."""
    try:
        async with app.sessions.begin() as session:
            await mark_alert_failed(session, now=app.now(), delivery_id=notice.delivery_id, error=error,
                                    retry_at=retry_at)
    except STORE_ERRORS:
        log.exception("could not record that %s to %s failed", notice.reference, notice.person_id)


async def give_up(app: App, notice: Notice, error: str) -> None:
    """The platform says this notice never can be delivered: record it, log it, and tell the DSL, at once.

    A notice that itself tells the DSL of an undelivered message is not raised again: the
    failure is logged and counted in the digest, and the server log says so.
    """
    try:
        async with app.sessions.begin() as session:
            delivery = await give_up_alert(session, now=app.now(), delivery_id=notice.delivery_id, error=error)
            if delivery is not None and notice.kind is not NoticeKind.UNDELIVERED:
                report = await session.get(Report, delivery.report_id) if delivery.report_id is not None else None
                await undelivered.raise_to_dsl(app, session, report=report, failed=delivery, error=error)
    except STORE_ERRORS:
        log.exception("could not record that %s to %s can never be delivered", notice.reference, notice.person_id)


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
            SentAlert(d.person_id, d.external_ref or "", children.with_children(
                messages.alert(app, report, next((r for r in recipients if r.person_id == d.person_id), None),
                               recipients),
                await children.for_alert(app, session, report, d.person_id)))
            for d in sent
        ]


# The follow-up relay's notices (bot.cases.follow_up): each carries a note's words, read at sending time.
FOLLOW_UPS = (NoticeKind.QUESTION.value, NoticeKind.ANSWER.value, NoticeKind.ADDITION.value)


async def _follow_up(app: App, session: AsyncSession, notice: Notice, delivery: AlertDelivery, report: Report,
                     recipients: list[Recipient]) -> Notice:
    """A question for the reporter, or an answer or addition for those who answer for the report, with its words."""
    note = await session.get(ReportNote, delivery.round)
    if note is None:
        raise LookupError(f"notice {delivery.id} is about note {delivery.round}, which is gone")
    if delivery.kind == NoticeKind.QUESTION.value:
        alert = follow_up_words.question_for_reporter(app, report, note, recipients)
    else:
        buttons = follow_up_words.owner_buttons(report, delivery.person_id, recipients)
        if delivery.kind == NoticeKind.ANSWER.value:
            question = await session.get(ReportNote, note.answers) if note.answers is not None else None
            alert = follow_up_words.answer_for_owner(app, report, note, question, buttons)
        else:
            alert = follow_up_words.addition_for_owner(app, report, note, buttons)
    return replace(notice, alert=alert, replies=(Reply(alert.text, preview=alert.preview),))


async def _request_notice(app: App, session: AsyncSession, delivery: AlertDelivery, in_doubt: bool) -> Notice:
    """A notice about an approval request (bot.cases.requests), worded as the request stands now."""
    detail = delivery.detail or {}
    reference = str(detail.get("request", ""))
    request = await request_store.get(session, reference)
    if request is None:
        raise LookupError(f"notice {delivery.id} is about no request")
    school = app.at(request.school)
    buttons: tuple[messages.ReportButton, ...]
    if delivery.channel == CONSOLE:  # typed commands there, no buttons
        reply, buttons = requests.notice_reply(school, request, detail), ()
    else:
        reply, buttons = requests.notice_now(school, request, detail, delivery.person_id)
    return Notice(delivery.id, delivery.person_id, delivery.channel, NoticeKind.REQUEST, reference, (reply,), None,
                  delivery.attempts, in_doubt, buttons, queued_at=delivery.queued_at)


@dataclass(frozen=True)
class SentRequestNotice:
    """A request's notice already delivered on a channel, as it should read now (its buttons gone once acted on)."""

    person_id: str
    external_ref: str
    reply: Reply
    buttons: tuple[messages.ReportButton, ...]


async def sent_request_notices(app: App, reference: str, channel: str,
                               pressed: tuple[str, str] | None = None) -> list[SentRequestNotice]:
    """Every notice with buttons of a request delivered on `channel` that can be found again, as each should now read.

    `pressed` (person id, where the message is) is the notice whose button was just pressed: it
    is there even if its sending is not yet recorded (pressed the moment it arrived), and reads
    as settled, since its reader has acted on it.
    """
    async with app.sessions() as session:
        request = await request_store.get(session, reference)
        if request is None:
            return []
        sent = await session.scalars(select(AlertDelivery).where(
            AlertDelivery.report_id.is_(None), AlertDelivery.channel == channel,
            AlertDelivery.person_id.in_([str(p) for p in request.approvers]),
            AlertDelivery.kind == NoticeKind.REQUEST.value, AlertDelivery.external_ref.is_not(None),
        ).order_by(AlertDelivery.id))
        school = app.at(request.school)
        found = []
        for delivery in sent:
            detail = delivery.detail or {}
            if detail.get("request") != request.reference or detail.get("what") not in requests.ACTIONABLE:
                continue
            reply, buttons = requests.notice_now(school, request, detail, delivery.person_id)
            found.append(SentRequestNotice(delivery.person_id, delivery.external_ref or "", reply, buttons))
        if pressed is not None and pressed[1] not in {f.external_ref for f in found}:
            kind = requests.kind_of(school, request.kind)
            if kind is not None:
                found.append(SentRequestNotice(pressed[0], pressed[1], request_words.settled(school, request, kind), ()))
        return found


def _school_of(delivery: AlertDelivery) -> str | None:
    """The school of a notice about no report (a digest that could not be delivered), if it says."""
    school = (delivery.detail or {}).get("school")
    return school if isinstance(school, str) else None


def _notice(
    app: App, delivery: AlertDelivery, report: Report | None, recipients: list[Recipient], in_doubt: bool,
    child: children.ChildLines,
) -> Notice:
    kind = NoticeKind(delivery.kind)
    reference = report.reference if report is not None else None
    replies: tuple[Reply, ...]
    alert = None
    if kind is NoticeKind.UNDELIVERED:
        replies = (undelivered.message(app, delivery.detail or {}, report, recipients, delivery.person_id),)
    elif report is None:
        raise LookupError(f"notice {delivery.id} is about no report")
    elif kind is NoticeKind.ACKNOWLEDGED:
        by = next((r.role for r in recipients if r.person_id == report.acknowledged_by), None)
        at = report.acknowledged_at or delivery.queued_at
        replies = (messages.acknowledged_for_reporter(app, report.reference, by, at),)
    elif kind is NoticeKind.CLOSED:
        replies = (messages.closed_for_reporter(app, report.reference, report.closed_at or delivery.queued_at),)
    elif kind is NoticeKind.RECEIPT:
        replies = tuple(_receipt(app, report, recipients))
    elif kind.value in FOLLOW_UPS:
        replies = ()  # worded by _follow_up, which reads the note's words
    else:
        recipient = next((r for r in recipients if r.person_id == delivery.person_id), None)
        if kind is NoticeKind.REMINDER:
            alert = messages.reminder(app, report, recipients)
        elif kind is NoticeKind.LADO:
            alert = messages.lado_reminder(app, report)
        elif kind is NoticeKind.REOPENED:
            alert = handover_words.reopened_notice(app, report, recipient, recipients)
        elif delivery.round != 0:  # an alert's later rounds are reassignments (bot/cases/handover.py)
            alert = handover_words.reassigned_alert(app, report, recipient, recipients)
        else:
            alert = children.with_children(messages.alert(app, report, recipient, recipients), child)
        replies = (Reply(alert.text, preview=alert.preview),)
    # The reporter's receipt offers to add to the report later (bot.cases.follow_up).
    buttons = (messages.ADD_TO_REPORT,) if kind is NoticeKind.RECEIPT and report is not None else ()
    return Notice(delivery.id, delivery.person_id, delivery.channel, kind, reference, replies, alert,
                  delivery.attempts, in_doubt, buttons, queued_at=delivery.queued_at)


def _receipt(app: App, report: Report, recipients: list[Recipient]) -> list[Reply]:
    """What the reporter is told once their report is stored: where it went, or that it waits to be routed."""
    owner = next((r for r in recipients if r.kind == RecipientKind.OWNER.value), None)
    if owner is None:
        return [messages.saved_not_routed(app, report.reporter, report.reference)]
    return messages.sent(app, report.reference, owner.role, report.ack_deadline,
                         Flag.IMMEDIATE_RISK.value in (report.flags or []))
