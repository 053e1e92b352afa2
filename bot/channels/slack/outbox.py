"""The Slack sender: alerts and news from the outbox to people's DMs, and alerts updated once acknowledged."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.cases import conversation, preview
from bot.outbox import digest_delivery, notices
from bot.outbox.delivery import DEFAULT_RETRY_AFTER, Delivered, Failure, Outcome, Rounds, deliver_round
from bot.app import SLACK, STORE_ERRORS, App
from bot.channels.slack import posting
from bot.channels.slack.blocks import Message, alert_message, render, with_buttons
from bot.channels.slack.install import Workspaces, speaking_in, team_at_hand
from bot.channels.slack.posting import SEND_ERRORS
from bot.channels.slack.sent_marks import SentMarks
from dialogs import Reply
from routing.school import School
from storage.chains import chain_of
from storage.models import NoticeKind

log = logging.getLogger(__name__)

# Slack's answers that never get better by waiting: the person or their DM is gone, the bot was
# removed or lost its token, or the message itself is refused. Anything else is tried again.
PERMANENT = frozenset({
    "user_not_found", "users_not_found", "channel_not_found", "account_inactive", "user_disabled",
    "is_archived", "not_in_channel", "cannot_dm_bot", "messages_tab_disabled",
    "invalid_auth", "not_authed", "token_revoked", "token_expired", "team_access_not_granted", "no_permission",
    "missing_scope", "restricted_action", "invalid_blocks", "invalid_blocks_format", "msg_too_long",
})
NO_SLACK_ID = "no Slack user id for this person in the school config"
NO_SLACK_TEAM = "the school config names no Slack workspace (slack_team), and the app serves several"
NOT_INSTALLED_THERE = "Safeguard is not installed in the school's Slack workspace (yet)"


def describe(exc: Exception) -> str:
    """A failed Slack call in a few words, for the delivery row and the server log."""
    if isinstance(exc, SlackApiError):
        return f"Slack said {exc.response.get('error', 'no')}"
    return f"{exc.__class__.__name__}: {exc}"


def failure(exc: Exception) -> Failure:
    """What a failed call means for its message: try again later, wait as asked, or give up."""
    if not isinstance(exc, SlackApiError):
        return Failure(describe(exc))  # the network, a timeout: it can pass
    if exc.response.status_code == 429 or exc.response.get("error") == "ratelimited":
        return Failure(describe(exc), retry_after=_retry_after(exc.response.headers))
    return Failure(describe(exc), permanent=exc.response.get("error") in PERMANENT)


def _retry_after(headers: Any) -> float:
    """Slack's Retry-After (seconds), whatever the case of the header's name."""
    for name, value in dict(headers or {}).items():
        if str(name).lower() == "retry-after":
            try:
                return float(value if not isinstance(value, list) else value[0])
            except (TypeError, ValueError):
                break
    return DEFAULT_RETRY_AFTER


class Outbox:
    """Sends what the lifecycle queued for Slack; one round at a time, so nothing goes twice from here.

    Its client does not wait out a 429 inside a call: the round hands its messages back until
    Slack's Retry-After instead, so a listener that starts a round is never held for long.
    """

    def __init__(self, app: App, client: AsyncWebClient, *, workspaces: Workspaces | None = None) -> None:
        self.app = app
        self.client = client
        # In several workspaces: each message goes as the bot of its school's workspace.
        self.workspaces = workspaces
        self._rounds = Rounds(app)
        self._dms: dict[str, str] = {}  # workspace and Slack user id to the id of the bot's DM with them
        self.marks = SentMarks()  # a Send's summary, marked sent just before its receipt (bot/channels/slack/sent_marks.py)

    def _school_of(self, person_id: str, reference: str | None = None) -> School:
        """The school whose workspace a message to `person_id` goes through: the report's, else where they work."""
        code = chain_of(reference) if reference is not None else ""
        if code:
            return self.app.at(code).school
        places = self.app.schools_of(person_id)
        return places[0] if places else self.app.school

    @contextlib.asynccontextmanager
    async def _as_bot_for(self, person_id: str, reference: str | None = None) -> AsyncIterator[Failure | None]:
        """Inside the block, calls go as the bot of the recipient's school's workspace; a Failure if there is none.

        With one workspace (one token) there is nothing to choose. In several, a school that names
        no workspace cannot be reached on Slack (a config mistake: given up, so the DSL hears), and a
        workspace not installed yet may be soon (an IT admin at work): tried again later.
        """
        if self.workspaces is None:
            yield None
            return
        school = self._school_of(person_id, reference)
        if school.slack_team is None:
            yield Failure(NO_SLACK_TEAM, permanent=True)
            return
        workspace = await self.workspaces.of(school)
        if workspace is None:
            yield Failure(NOT_INSTALLED_THERE)
            return
        with speaking_in(workspace):
            yield None

    def _dm_key(self, slack_id: str) -> str:
        """Where a DM id is remembered: Slack user ids are a workspace's own."""
        return f"{team_at_hand() or ''}/{slack_id}"

    async def open_dm(self, slack_id: str) -> str:
        """The id of the bot's direct-message channel with this Slack user: asked once, then remembered.

        Asking for every message was a second call to Slack before each alert (bench/alert.py).
        A send that fails forgets the id, so the next attempt asks again.
        """
        known = self._dms.get(self._dm_key(slack_id))
        if known is not None:
            return known
        opened = await self.client.conversations_open(users=slack_id)
        self._dms[self._dm_key(slack_id)] = dm = str(opened["channel"]["id"])
        return dm

    def _failed(self, slack_id: str, exc: Exception, *, remembered: bool) -> Failure:
        """What a failed send means; a DM id remembered from before is forgotten, and never the reason to give up."""
        self._dms.pop(self._dm_key(slack_id), None)
        found = failure(exc)
        if found.permanent and remembered:
            return Failure(found.error)  # tried again with the DM asked for afresh, then given up if it fails so
        return found

    async def post(self, channel: str, message: Message, key: str | None = None) -> str:
        """Post a message (marked with `key`, if given); its 'channel:ts', which is how it is found again."""
        return await posting.post(self.client, channel, message, key)

    async def find(self, channel: str, key: str) -> str | None:
        """The 'channel:ts' of the message marked `key` in `channel`, if an earlier attempt posted it."""
        return await posting.find(self.client, channel, key)

    async def deliver(self) -> int:
        """Send every notice and digest due on Slack; how many went (a failure is recorded and tried again)."""
        return await self._rounds.run(lambda: deliver_round(self.app, SLACK, self._send, self._send_digest))

    async def deliver_sent_reports(self) -> int:
        """After a dialog message: a round only if a report was sent since the last one began (its alerts)."""
        return await self._rounds.run(lambda: deliver_round(self.app, SLACK, self._send, self._send_digest),
                                      only_new_reports=True)

    def sent_reports(self) -> list[asyncio.Task[int]]:
        """A round for the reports this process sent since the last one began, started now (none if none were).

        A Send's listener starts it as soon as the report is routed: the DSL's alert goes before
        the reporter's screen is tidied, not after (bot/channels/slack/sent_marks.py).
        """
        if self.app.reports_queued == self._rounds.reports_queued:
            return []
        return [asyncio.create_task(self.deliver_sent_reports(), name="slack-sent-reports")]

    async def _send(self, notice: notices.Notice) -> Outcome:
        async with self._as_bot_for(notice.to, notice.reference) as cannot:
            if cannot is None and notice.kind is NoticeKind.RECEIPT:
                await self.marks.before_receipt(notice.to)  # in the reporter's workspace, where they tapped
            return cannot or await self._send_as_bot(notice)

    async def _send_as_bot(self, notice: notices.Notice) -> Outcome:
        person = self.app.anyone(notice.to)
        if person is None or person.slack is None:
            return Failure(NO_SLACK_ID, permanent=True)
        message = alert_message(notice.alert) if notice.alert is not None else \
            with_buttons(render(list(notice.replies)), notice.reference or "", notice.buttons)
        remembered = self._dm_key(person.slack) in self._dms
        try:
            dm = await self.open_dm(person.slack)
            # An earlier attempt died mid-send or failed (its answer lost, a time-out): the message
            # may be in the DM already, so it is looked for there first; shown once, not twice.
            found = await self.find(dm, notice.key) if notice.in_doubt else None
            return Delivered(found or await self.post(dm, message, notice.key))
        except SEND_ERRORS as exc:
            return self._failed(person.slack, exc, remembered=remembered)

    async def _send_digest(self, digest: digest_delivery.QueuedDigest) -> Outcome:
        """The digest's text into the person's DM, then its chart as a file in the same DM."""
        async with self._as_bot_for(digest.person_id) as cannot:
            return cannot or await self._send_digest_as_bot(digest)

    async def _send_digest_as_bot(self, digest: digest_delivery.QueuedDigest) -> Outcome:
        person = self.app.anyone(digest.person_id)
        if person is None or person.slack is None:
            return Failure(NO_SLACK_ID, permanent=True)
        remembered = self._dm_key(person.slack) in self._dms
        try:
            dm = await self.open_dm(person.slack)
            found = await self.find(dm, digest.key) if digest.in_doubt else None
            if found is not None:
                return Delivered(found)
            external_ref = await self.post(dm, render([Reply(digest.text, preview=preview.line(preview.DIGEST))]), digest.key)
        except SEND_ERRORS as exc:
            return self._failed(person.slack, exc, remembered=remembered)
        # The text is the digest and stands alone: a chart that fails is logged, and the text
        # is still recorded sent, so nothing that happens to the chart sends the text twice.
        if digest.chart is not None:
            await self._upload_chart(dm, digest, digest.chart)
        return Delivered(external_ref)

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
            await self._redraw("alert", reference, alert.person_id, alert.external_ref, alert_message(alert.alert))

    async def refresh_request(self, reference: str, pressed: tuple[str, str] | None = None) -> None:
        """Show every Slack notice of a request as it stands now: buttons only for whoever may still press them.

        `pressed`: the person id and 'channel:ts' of the notice whose button was just pressed.
        """
        try:
            sent = await notices.sent_request_notices(self.app, reference, SLACK, pressed)
        except STORE_ERRORS:
            log.exception("could not read the notices of %s to update them", reference)
            return
        for notice in sent:
            await self._redraw("notice", reference, notice.person_id, notice.external_ref,
                               with_buttons(render([notice.reply]), reference, notice.buttons))

    async def _redraw(self, what: str, reference: str, person_id: str, external_ref: str, message: Message) -> None:
        """Replace one sent message ('channel:ts') with `message`; a failure is logged, by reference and id only."""
        channel, _, ts = external_ref.partition(":")
        try:
            async with self._as_bot_for(person_id, reference) as cannot:
                if cannot is None:
                    await self.client.chat_update(channel=channel, ts=ts, text=message.text, blocks=message.blocks)
        except SEND_ERRORS as exc:
            log.warning("the %s of %s to %s was not updated: %s", what, reference, person_id, describe(exc))

    async def nudge(self) -> None:
        """Remind reporters of drafts left idle, and tell them when one is discarded."""
        try:
            due = await conversation.sweep(self.app, SLACK)
        except STORE_ERRORS:
            log.exception("could not sweep the Slack drafts")
            return
        for nudge in due:
            person = self.app.anyone(nudge.user_id)
            if person is None or person.slack is None:
                continue
            try:
                async with self._as_bot_for(nudge.user_id) as cannot:
                    if cannot is None:
                        await posting.post_once(self.client, await self.open_dm(person.slack), render([nudge.reply]))
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
