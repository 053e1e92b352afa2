"""The Teams sender: alerts and news from the outbox to people's chats, and alerts updated once acknowledged."""

from __future__ import annotations

import asyncio
import base64
import logging
from typing import Any

from botbuilder.schema import Activity, ActivityTypes, Attachment, TextFormatTypes  # type: ignore[import-untyped]

from bot.cases import conversation, preview
from bot.outbox import digest_delivery, notices
from bot.outbox.delivery import DEFAULT_RETRY_AFTER, Delivered, Failure, Outcome, Rounds, deliver_round
from bot.app import STORE_ERRORS, TEAMS, App
from bot.channels.teams.adapter import Connector, card_activities, external_ref, parse_external_ref, reply_activities
from bot.channels.teams.cards import alert_card, render, with_report_actions
from bot.channels.teams.people import References

log = logging.getLogger(__name__)

NO_CHAT = ("no Teams chat with this person yet: they must open Safeguard in Teams once "
           "(or the Teams admin installs the app for them)")
# The Bot Connector's answers that refuse a message outright (bad request, too large): nothing was shown.
REFUSED = (400, 413)
# Answers that never get better by waiting: refused outright, the bot is not allowed (removed,
# blocked by the person or by the Teams admin), or the chat is gone. Anything else is tried again.
PERMANENT = frozenset({*REFUSED, 401, 403, 404})


def describe(exc: Exception) -> str:
    """A failed Bot Connector call in a few words, for the delivery row and the server log."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    shown = f"{exc.__class__.__name__}: {exc}"
    return f"the Bot Connector answered {status} ({shown})" if status else shown


def failure(exc: Exception) -> Failure:
    """What a failed Bot Connector call means for its message: try again later, wait as asked, or give up."""
    status = _status(exc)
    if status == 429:
        return Failure(describe(exc), retry_after=_retry_after(exc))
    return Failure(describe(exc), permanent=status in PERMANENT)


class Outbox:
    """Sends what the lifecycle queued for Teams; one round at a time, so nothing goes twice from here."""

    def __init__(self, app: App, connector: Connector, references: References,
                 send_timeout: float = 10.0) -> None:
        self.app = app
        self.send_timeout = send_timeout
        self.connector = connector
        self.references = references
        self._rounds = Rounds(app)

    async def deliver(self) -> int:
        """Send every notice and digest due on Teams; how many went (a failure is recorded and tried again)."""
        return await self._rounds.run(lambda: deliver_round(self.app, TEAMS, self._send, self._send_digest))

    async def _send(self, notice: notices.Notice) -> Outcome:
        try:
            reference = await self.references.load(notice.to)
        except STORE_ERRORS:
            log.exception("could not read the Teams chat of %s", notice.person_id)
            return Failure("the Teams chat could not be read from the database")
        if reference is None:
            # Not given up: it goes once they open Safeguard in Teams (escalation covers an alert meanwhile).
            return Failure(NO_CHAT)
        alert = notice.alert
        shown = card_activities([alert_card(alert)], alert.preview) if alert is not None else card_activities(
            with_report_actions(render(notice.replies), notice.reference or "", notice.buttons),
            preview.of_replies(notice.replies))
        try:
            ids = await asyncio.wait_for(self.connector.send(reference, shown), self.send_timeout)
        except Exception as exc:  # botbuilder raises msrest, aiohttp and plain Exceptions alike
            return failure(exc)
        return Delivered(_sent_ref(reference, ids))

    async def _send_digest(self, digest: digest_delivery.QueuedDigest) -> Outcome:
        """The digest as one message: its text, with its chart as an inline image when there is one."""
        try:
            reference = await self.references.load(digest.person_id)
        except STORE_ERRORS:
            log.exception("could not read the Teams chat of %s", digest.person_id)
            return Failure("the Teams chat could not be read from the database")
        if reference is None:
            return Failure(NO_CHAT)
        try:
            ids = await asyncio.wait_for(self.connector.send(reference, [digest_activity(digest, with_chart=True)]),
                                         self.send_timeout)
        except Exception as exc:  # botbuilder raises msrest, aiohttp and plain Exceptions alike
            if digest.chart is None or _status(exc) not in REFUSED:
                return failure(exc)
            # Teams refused the message with its chart: the text stands alone, so send it without.
            log.warning("the %s digest to %s goes without its chart: %s", digest.week, digest.person_id, describe(exc))
            try:
                ids = await asyncio.wait_for(
                    self.connector.send(reference, [digest_activity(digest, with_chart=False)]), self.send_timeout)
            except Exception as again:
                return failure(again)
        return Delivered(_sent_ref(reference, ids))

    async def refresh(self, reference: str) -> None:
        """Show on every Teams alert of a report who acknowledged it and when, without an Acknowledge button."""
        try:
            sent = await notices.sent_alerts(self.app, reference, TEAMS)
        except STORE_ERRORS:
            log.exception("could not read the alerts of %s to update them", reference)
            return
        for alert in sent:
            activity_id, conversation_id = parse_external_ref(alert.external_ref)
            try:
                chat = await self.references.load(alert.person_id)
                if chat is None:
                    continue
                conversation_id = conversation_id or str((chat.get("conversation") or {}).get("id", ""))
                await self.connector.update(chat, conversation_id, activity_id, alert_card(alert.alert),
                                            alert.alert.preview)
            except STORE_ERRORS:
                log.exception("could not read the Teams chat of %s", alert.person_id)
            except Exception as exc:  # cosmetic: the acknowledgement itself is stored and logged
                log.warning("the alert of %s to %s was not updated: %s", reference, alert.person_id, describe(exc))

    async def refresh_request(self, reference: str, pressed: tuple[str, str] | None = None) -> None:
        """Show every Teams notice of a request as it stands now: buttons only for whoever may still press them.

        `pressed`: the person id and external ref (adapter.external_ref) of the card whose button was just pressed.
        """
        try:
            sent = await notices.sent_request_notices(self.app, reference, TEAMS, pressed)
        except STORE_ERRORS:
            log.exception("could not read the notices of %s to update them", reference)
            return
        for notice in sent:
            activity_id, conversation_id = parse_external_ref(notice.external_ref)
            shown = with_report_actions(render([notice.reply]), reference, notice.buttons)
            try:
                chat = await self.references.load(notice.person_id)
                if chat is None:
                    continue
                conversation_id = conversation_id or str((chat.get("conversation") or {}).get("id", ""))
                await self.connector.update(chat, conversation_id, activity_id, shown[-1],
                                            preview.of_replies([notice.reply]))
            except STORE_ERRORS:
                log.exception("could not read the Teams chat of %s", notice.person_id)
            except Exception as exc:  # cosmetic: the step itself is stored and logged
                log.warning("the notice of %s to %s was not updated: %s", reference, notice.person_id, describe(exc))

    async def nudge(self) -> None:
        """Remind reporters of drafts left idle, and tell them when one is discarded."""
        try:
            due = await conversation.sweep(self.app, TEAMS)
        except STORE_ERRORS:
            log.exception("could not sweep the Teams drafts")
            return
        for nudge in due:
            try:
                chat = await self.references.load(nudge.user_id)
                if chat is not None:
                    await self.connector.send(chat, reply_activities([nudge.reply]))
            except STORE_ERRORS:
                log.exception("could not read the Teams chat of %s", nudge.user_id)
            except Exception as exc:
                log.warning("draft reminder to %s not sent: %s", nudge.user_id, describe(exc))

    async def run(self, every: float) -> None:
        """Deliver and nudge every `every` seconds until cancelled; a failure waits for the next round."""
        while True:
            try:
                await self.deliver()
                await self.nudge()
            except Exception:  # a bug must not stop alerts for good: log it and go round again
                log.exception("the Teams outbox round failed")
            await asyncio.sleep(every)


def digest_activity(digest: digest_delivery.QueuedDigest, *, with_chart: bool) -> Any:
    """A digest as a message: its text shown as written, and its chart as an inline PNG (a data URI)."""
    attachments = []
    if with_chart and digest.chart is not None:
        encoded = base64.b64encode(digest.chart).decode("ascii")
        attachments.append(Attachment(content_type="image/png", content_url=f"data:image/png;base64,{encoded}",
                                      name=digest.chart_name))
    return Activity(type=ActivityTypes.message, text=digest.text, text_format=TextFormatTypes.plain,
                    summary=preview.line(preview.DIGEST), attachments=attachments or None)


def _sent_ref(reference: Any, ids: list[str]) -> str | None:
    """Where a sent message is, to update it later: its chat and its activity id."""
    conversation_id = str((reference.get("conversation") or {}).get("id", ""))
    return external_ref(conversation_id, ids[0]) if ids and ids[0] else None


def _retry_after(exc: Exception) -> float:
    """The Bot Connector's Retry-After (seconds) on a 429, else the default wait."""
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    try:
        return float(headers.get("Retry-After") or headers.get("retry-after") or DEFAULT_RETRY_AFTER)
    except (TypeError, ValueError, AttributeError):
        return DEFAULT_RETRY_AFTER


def _status(exc: Exception) -> int | None:
    """The HTTP status the Bot Connector answered a failed call with, if it answered."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    return status if isinstance(status, int) else None
