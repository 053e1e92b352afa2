"""The Slack sender: alerts and news from the outbox to people's DMs, and alerts updated once acknowledged."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from bot import conversation, digest_delivery, notices
from bot.delivery import deliver_round
from bot.app import SLACK, STORE_ERRORS, App
from bot.slack.blocks import Message, alert_message, render
from dialogs import Reply

log = logging.getLogger(__name__)

# What a call to Slack can fail with: Slack said no, or the network did.
SEND_ERRORS: tuple[type[Exception], ...] = (SlackClientError, aiohttp.ClientError, asyncio.TimeoutError, OSError)


def describe(exc: Exception) -> str:
    """A failed Slack call in a few words, for the delivery row and the server log."""
    if isinstance(exc, SlackApiError):
        return f"Slack said {exc.response.get('error', 'no')}"
    return f"{exc.__class__.__name__}: {exc}"


class Outbox:
    """Sends what the lifecycle queued for Slack; one send at a time, so nothing goes twice from here."""

    def __init__(self, app: App, client: AsyncWebClient) -> None:
        self.app = app
        self.client = client
        self._lock = asyncio.Lock()

    async def open_dm(self, slack_id: str) -> str:
        """The id of the bot's direct-message channel with this Slack user."""
        opened = await self.client.conversations_open(users=slack_id)
        return str(opened["channel"]["id"])

    async def post(self, channel: str, message: Message) -> str:
        """Post a message; its 'channel:ts', which is how it is found again to update it."""
        posted = await self.client.chat_postMessage(channel=channel, text=message.text, blocks=message.blocks)
        return f"{posted['channel']}:{posted['ts']}"

    async def deliver(self) -> int:
        """Send every notice and digest waiting on Slack; how many went. A failure is recorded and retried next round."""
        async with self._lock:
            return await deliver_round(self.app, SLACK, self._send, self._send_digest)

    async def _send(self, notice: notices.Notice) -> bool:
        person = self.app.person(notice.person_id)
        if person is None or person.slack is None:
            await notices.failed(self.app, notice, "no Slack user id for this person in the school config")
            return False
        message = alert_message(notice.alert) if notice.alert is not None else render([notice.reply])
        try:
            external_ref = await self.post(await self.open_dm(person.slack), message)
        except SEND_ERRORS as exc:
            log.warning("%s %s to %s not sent: %s", notice.kind, notice.reference, notice.person_id, describe(exc))
            await notices.failed(self.app, notice, describe(exc))
            return False
        await notices.delivered(self.app, notice, external_ref)
        return True

    async def _send_digest(self, digest: digest_delivery.QueuedDigest) -> bool:
        """The digest's text into the person's DM, then its chart as a file in the same DM."""
        person = self.app.person(digest.person_id)
        if person is None or person.slack is None:
            await digest_delivery.failed(self.app, digest, "no Slack user id for this person in the school config")
            return False
        try:
            dm = await self.open_dm(person.slack)
            external_ref = await self.post(dm, render([Reply(digest.text)]))
        except SEND_ERRORS as exc:
            log.warning("the %s digest to %s not sent: %s", digest.week, digest.person_id, describe(exc))
            await digest_delivery.failed(self.app, digest, describe(exc))
            return False
        # The text is the digest and stands alone: it is recorded sent before the chart goes, so
        # nothing that happens to the chart can send the text twice.
        await digest_delivery.delivered(self.app, digest, external_ref)
        if digest.chart is not None:
            await self._upload_chart(dm, digest, digest.chart)
        return True

    async def _upload_chart(self, dm: str, digest: digest_delivery.QueuedDigest, chart: bytes) -> None:
        """Upload the digest's chart into the DM (files.getUploadURLExternal, the bytes, completeUploadExternal)."""
        try:
            await self.client.files_upload_v2(
                channel=dm, file=chart, filename=digest.chart_name, title=f"Safeguard digest, week {digest.week}",
                alt_txt=f"Chart of the Safeguard digest for week {digest.week}; the figures are in the message above.",
            )
        except Exception as exc:  # slack_sdk raises SlackApiError, SlackRequestError and aiohttp's errors alike
            log.warning("the chart of the %s digest to %s was not uploaded (its text was sent): %s",
                        digest.week, digest.person_id, describe(exc))

    async def refresh(self, reference: str) -> None:
        """Show on every Slack alert of a report who acknowledged it and when, without Acknowledge buttons."""
        try:
            sent = await notices.sent_alerts(self.app, reference, SLACK)
        except STORE_ERRORS:
            log.exception("could not read the alerts of %s to update them", reference)
            return
        for alert in sent:
            message = alert_message(alert.alert)
            channel, _, ts = alert.external_ref.partition(":")
            try:
                await self.client.chat_update(channel=channel, ts=ts, text=message.text, blocks=message.blocks)
            except SEND_ERRORS as exc:
                log.warning("the alert of %s to %s was not updated: %s", reference, alert.person_id, describe(exc))

    async def nudge(self) -> None:
        """Remind reporters of drafts left idle, and tell them when one is discarded."""
        try:
            due = await conversation.sweep(self.app, SLACK)
        except STORE_ERRORS:
            log.exception("could not sweep the Slack drafts")
            return
        for nudge in due:
            person = self.app.person(nudge.user_id)
            if person is None or person.slack is None:
                continue
            try:
                await self.post(await self.open_dm(person.slack), render([nudge.reply]))
            except SEND_ERRORS as exc:
                log.warning("draft reminder to %s not sent: %s", nudge.user_id, describe(exc))

    async def run(self, every: float, stop: asyncio.Event) -> None:
        """Deliver and nudge every `every` seconds until `stop` is set; a round under way is finished first."""
        while not stop.is_set():
            try:
                await self.deliver()
                await self.nudge()
            except Exception:  # a bug must not stop alerts for good: log it and go round again
                log.exception("the Slack outbox round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
