"""The bolt listeners: the ways into a report, the dialog's taps and words, and the alert buttons.

Each listener acks first (Slack allows three seconds, and a modal's trigger_id expires in
three), then does the work; replies are computed by bot.cases.conversation and bot.cases.lifecycle
and only rendered and sent here.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.cases import case_list, children, conversation, evidence, lifecycle, messages, requests
from bot.cases.case_list import CaseFilter
from bot.app import SLACK, STORE_ERRORS, App
from bot.channels.slack import files
from bot.channels.slack.blocks import Message, answered, from_slack, question_field, render, typed_in
from bot.channels.slack.case_handlers import CaseHandlers
from bot.channels.slack.follow_up_handlers import FollowUpHandlers
from bot.channels.slack.host import SlackHost
from bot.channels.slack.ids import CHOICE_PATTERN, COMMAND, NOTE_BLOCK, NOTE_INPUT, SHORTCUT, ActionId, CallbackId
from bot.channels.slack.outbox import describe
from bot.channels.slack.posting import SEND_ERRORS, post_once
from bot.channels.slack.request_handlers import RequestHandlers
from bot.channels.slack.typed import TypedMessages
from bot.channels.slack.uninstall import UninstallHandlers
from bot.channels.slack.views import NoteTarget, home, note_modal, report_modal
from bot.channels.turns import parted
from dialogs import Draft, DraftError, Reply, Tone
from routing.school import Person
from storage.drafts import load_draft
from storage.models import NoteKind

log = logging.getLogger(__name__)

Body = dict[str, Any]
DRAFT_ERRORS: tuple[type[Exception], ...] = (*STORE_ERRORS, DraftError)
Listener = Callable[[AsyncAck, Body], Awaitable[None]]
# A lifecycle action a button on an alert takes: (app, person id, reference) -> Result.
ReportChange = Callable[[App, str, str], Awaitable[lifecycle.Result]]

STRANGER = messages.stranger("Slack")
NO_FILES = messages.NO_FILES
STALE = Reply("That button belongs to an earlier question.", tone=Tone.ERROR)
FINISHED = Reply("That report is finished. To report something else, send me any message or type /report.",
                 tone=Tone.DONE)
EMPTY_NOTE = "Please type something before saving, or press Cancel."
MOVED = "Your report is open in your direct messages with Safeguard."
RESPOND_SECONDS = 10


class Handlers:
    """The listeners of one Slack channel, given what they need of it."""

    def __init__(self, slack: SlackHost) -> None:
        self.slack = slack
        self.app = slack.app
        self.client = slack.client
        self.outbox = slack.outbox
        self.requests = RequestHandlers(slack, tell_in=self._tell_in, post=self._post, mark_answered=self._mark_answered)
        self.typed = TypedMessages(slack, post=self._post)

    def register(self) -> None:
        """Tell the bolt app what to listen for (explicit: nothing is registered by importing a module)."""
        bolt = self.slack.bolt
        self._on("events", "message.im", bolt.event("message"), self.message)
        self._on("events", "app_home_opened", bolt.event("app_home_opened"), self.home_opened)
        self._on("commands", COMMAND, bolt.command(COMMAND), self.command)
        self._on("shortcuts", SHORTCUT, bolt.shortcut(SHORTCUT), self.shortcut)
        self._on("actions", ActionId.START, bolt.action(ActionId.START), self.start)
        self._on("actions", ActionId.CHOICE, bolt.action(re.compile(CHOICE_PATTERN)), self.choice)
        self._on("actions", ActionId.PERSON, bolt.action(ActionId.PERSON), self.choice)
        self._on("actions", ActionId.ACKNOWLEDGE, bolt.action(ActionId.ACKNOWLEDGE), self.acknowledge)
        self._on("actions", ActionId.NOTE, bolt.action(ActionId.NOTE), self.note_button)
        self._on("actions", ActionId.RECORD_ACTION, bolt.action(ActionId.RECORD_ACTION), self.note_button)
        self._on("actions", ActionId.VIEW, bolt.action(ActionId.VIEW), self.view_log)
        self._on("actions", ActionId.LADO, bolt.action(ActionId.LADO), self.lado_consulted)
        self._on("actions", ActionId.HISTORY, bolt.action(ActionId.HISTORY), self.child_history)
        self._on("actions", ActionId.SCREENSHOTS, bolt.action(ActionId.SCREENSHOTS), self.screenshots)
        self._on("views", CallbackId.NOTE, bolt.view(CallbackId.NOTE), self.note_submitted)
        CaseHandlers(self.slack, tell_in=self._tell_in, publish_home=self._publish_home).register(self._on)
        FollowUpHandlers(self.slack, tell_in=self._tell_in).register(self._on)
        self.requests.register(self._on)
        UninstallHandlers(self.slack.install).register(self._on, bolt.event)
        bolt.error(_log_error)

    def _on(self, kind: str, name: str, listen: Callable[..., Any], listener: Listener) -> None:
        async def run(ack: AsyncAck, body: Body) -> None:
            async with self.slack.working():
                await listener(ack, body)

        listen(run)
        getattr(self.slack.registered, kind).add(str(name))

    # --- ways into a report -------------------------------------------------------------

    async def message(self, ack: AsyncAck, body: Body) -> None:
        """A direct message to the bot: it starts a report, or answers the current question.

        Words typed by staff are taken before the ack (bot/channels/slack/typed.py); what comes here
        is the rest: files shared, strangers, edits, and an event without an id to record.
        """
        event = body.get("event") or {}
        if event.get("channel_type") != "im" or event.get("bot_id"):
            return
        channel = str(event.get("channel", ""))
        if event.get("subtype") == "file_share":
            await self._files(channel, event)
            return
        if event.get("subtype") is not None:
            return  # edits, deletions, joins: not something a reporter said
        person = self.slack.person(event.get("user"))
        if person is None:
            await self._post(channel, [STRANGER])
            return
        alerts: list[asyncio.Task[int]] = []
        try:
            async with self.slack.lock(person.id):
                text = from_slack(str(event.get("text") or ""))
                if await self.requests.typed(person, channel, text):  # a request form under way comes first
                    return
                with self.outbox.marks.answering(person.id):
                    replies = await conversation.message(self.app, channel=SLACK, user_id=person.id, text=text)
                    alerts = self.outbox.sent_reports()  # a report just sent: its alerts go now, beside the reply
                    await self._post(channel, replies)
        finally:
            await _finished(alerts)
        await self.outbox.deliver_sent_reports()

    async def _files(self, channel: str, event: Body) -> None:
        """Files shared in the DM: screenshots at the screenshots step, refused (unread, where it may be indecent) otherwise."""
        person = self.slack.person(event.get("user"))
        if person is None:
            await self._post(channel, [NO_FILES])
            return
        async with self.slack.lock(person.id):
            replies = await evidence.take(self.app, channel=SLACK, user_id=person.id,
                                          files=files.incoming(event, self.client))
            await self._post(channel, replies)

    async def command(self, ack: AsyncAck, body: Body) -> None:
        """/report, typed anywhere: the report carries on in the bot's direct messages."""
        person = self.slack.person(body.get("user_id"))
        if person is None:
            await ack(text=STRANGER.text)
            return
        if str(body.get("channel_id", "")).startswith("D"):
            await ack()
        else:
            await ack(text=MOVED)
        await self._begin(person)

    async def shortcut(self, ack: AsyncAck, body: Body) -> None:
        """The global shortcut "Report a concern"."""
        await ack()
        await self._begin_for(_user(body))

    async def start(self, ack: AsyncAck, body: Body) -> None:
        """The App Home's "Report a concern" button."""
        await ack()
        await self._begin_for(_user(body))

    async def home_opened(self, ack: AsyncAck, body: Body) -> None:
        """Someone opened the App Home tab: show it as it is now."""
        event = body.get("event") or {}
        if event.get("tab", "home") != "home":
            return
        await self._publish_home(str(event.get("user", "")))

    # --- the dialog ---------------------------------------------------------------------

    async def choice(self, ack: AsyncAck, body: Body) -> None:
        """A tapped choice button or a colleague chosen from the menu: the answer to the question it came with."""
        await ack()
        action = (body.get("actions") or [{}])[0]
        selected = action.get("selected_option") or {}
        value = str(selected.get("value") or action.get("value") or "")
        label = str((selected.get("text") or action.get("text") or {}).get("text", value))
        channel = _channel(body)
        person = self.slack.person(_user(body))
        if person is None:
            await self._tell(body, STRANGER)
            return
        alerts: list[asyncio.Task[int]] = []
        try:
            async with self.slack.lock(person.id):
                if await self.requests.tapped(person, body, value, label):
                    return
                field = question_field(str(action.get("block_id", "")))
                try:
                    step = await self._draft_step(person.id)
                except DRAFT_ERRORS:
                    step = field  # conversation.message says what is wrong with the draft, or the database
                if field is not None and step != field:
                    # An old message's button: taken as an answer, it would answer whatever is asked now.
                    replies = [STALE, *await conversation.begin(self.app, channel=SLACK, user_id=person.id)] \
                        if step is not None else [FINISHED]
                    await self._post(channel, replies)
                    return
                with self.outbox.marks.answering(person.id):  # a receipt waits for the summary to be marked
                    replies = await conversation.message(self.app, channel=SLACK, user_id=person.id, text=value)
                    alerts = self.outbox.sent_reports()  # a report just sent: its alerts go now
                    if alerts and not replies:
                        # Sent (no reply: its receipt follows): the summary is marked sent just before the
                        # receipt, so the DSL's alert waits for no edit (bot/channels/slack/sent_marks.py).
                        self.outbox.marks.hand_over(person.id, lambda: self._mark_answered(body, label))
                    else:
                        await self._mark_answered(body, label)
                    await self._post(channel, replies)
        finally:
            await _finished(alerts)
            await self.outbox.marks.left_over(person.id)
        await self.outbox.deliver_sent_reports()

    # --- alerts -------------------------------------------------------------------------

    async def acknowledge(self, ack: AsyncAck, body: Body) -> None:
        """Acknowledge: recorded once; every alert of the report then shows who and when."""
        await self._change_from_alert(ack, body, lifecycle.acknowledge)

    async def lado_consulted(self, ack: AsyncAck, body: Body) -> None:
        """LADO consulted: recorded once with its time; the alerts then stop offering it."""
        await self._change_from_alert(ack, body, lifecycle.lado_consulted)

    async def screenshots(self, ack: AsyncAck, body: Body) -> None:
        """Screenshots: uploaded into the presser's own DM with the bot, if bot.cases.access lets them view the report."""
        pressed = await self._presser(ack, body)
        if pressed is None:
            return
        person, slack_id = pressed
        reference = _value(body)
        shown = await evidence.show(self.app, person.id, reference)
        reply = shown.reply
        if shown.pictures:
            try:
                await files.upload(self.client, await self.outbox.open_dm(slack_id), shown.pictures, reference)
            except Exception as exc:  # slack_sdk raises SlackApiError, SlackRequestError and aiohttp's errors alike
                log.warning("the screenshots of %s were not uploaded to %s: %s", reference, person.id, describe(exc))
                reply = Reply("The screenshots could not be sent just now. Please press Screenshots again in a "
                              "minute.", tone=Tone.ERROR)
        await self._tell(body, reply)

    async def _change_from_alert(self, ack: AsyncAck, body: Body, act: ReportChange) -> None:
        """A button that changes the report: done (once), told, and every alert of the report updated."""
        await ack()
        person = self.slack.person(_user(body))
        if person is None:
            await self._tell(body, STRANGER)
            return
        reference = _value(body)
        result = await act(self.app, person.id, reference)
        if result.reply.tone is not Tone.ERROR:
            await self.outbox.refresh(reference)
        await self._tell(body, result.reply)
        if (body.get("container") or {}).get("type") == "view":
            await self._publish_home(_user(body))
        await self.outbox.deliver()

    async def note_button(self, ack: AsyncAck, body: Body) -> None:
        """Add note / Record action: a modal to type it in (opened first, while the trigger is fresh)."""
        await ack()
        if self.slack.person(_user(body)) is None:
            await self._tell(body, STRANGER)
            return
        action = (body.get("actions") or [{}])[0]
        kind = NoteKind.ACTION if action.get("action_id") == ActionId.RECORD_ACTION else NoteKind.NOTE
        target = NoteTarget(_value(body), kind, _channel(body) or None, _response_url(body))
        await self.client.views_open(trigger_id=str(body.get("trigger_id", "")), view=note_modal(target))

    async def note_submitted(self, ack: AsyncAck, body: Body) -> None:
        """The note modal's Save: empty is refused in the modal; otherwise added and confirmed."""
        view = body.get("view") or {}
        text = typed_in(body, NOTE_BLOCK, NOTE_INPUT)
        if not text.strip():
            await ack(response_action="errors", errors={NOTE_BLOCK: EMPTY_NOTE})
            return
        await ack()
        target = NoteTarget.load(str(view.get("private_metadata", "")))
        person = self.slack.person(_user(body))
        if target is None:
            log.warning("a note modal came back without its report")
            return
        reply = STRANGER if person is None else (
            await lifecycle.add_note(self.app, person.id, target.reference, text, kind=target.kind)).reply
        await self._tell_in(target.channel, _user(body), reply, target.response_url)

    async def view_log(self, ack: AsyncAck, body: Body) -> None:
        """View log: a modal, opened at once and filled in when the report has been read."""
        await ack()
        person = self.slack.person(_user(body))
        if person is None:
            await self._tell(body, STRANGER)
            return
        reference = _value(body)
        title = f"Report {reference}"
        opened = await self.client.views_open(trigger_id=str(body.get("trigger_id", "")),
                                              view=report_modal(title, None))
        result = await lifecycle.view(self.app, person.id, reference)
        shown = report_modal(title if result.reply.tone is not Tone.ERROR else "Safeguard", result.reply)
        await self.client.views_update(view_id=str(opened["view"]["id"]), view=shown)

    async def child_history(self, ack: AsyncAck, body: Body) -> None:
        """Child's history: every report about the children an alert names, in the DSL's (or a deputy's) DM."""
        pressed = await self._presser(ack, body)
        if pressed is None:
            return
        person, slack_id = pressed
        reply = await children.history_for_report(self.app, person.id, _value(body))
        await self.outbox.post(await self.outbox.open_dm(slack_id), render([reply]))

    async def _presser(self, ack: AsyncAck, body: Body) -> tuple[Person, str] | None:
        """Who pressed a button that answers in their own DM, and their Slack id (acknowledged first).

        None, and they are told so, if Safeguard does not know them.
        """
        await ack()
        person = self.slack.person(_user(body))
        if person is None or person.slack is None:
            await self._tell(body, STRANGER)
            return None
        return person, person.slack

    # --- sending ------------------------------------------------------------------------

    async def _begin_for(self, slack_id: str) -> None:
        person = self.slack.person(slack_id)
        if person is None:
            await self._post(await self.outbox.open_dm(slack_id), [STRANGER])
            return
        await self._begin(person)

    async def _begin(self, person: Person) -> None:
        assert person.slack is not None
        async with self.slack.lock(person.id):
            replies = await conversation.begin(self.app, channel=SLACK, user_id=person.id)
            await self._post(await self.outbox.open_dm(person.slack), replies)

    async def _post(self, channel: str, replies: list[Reply]) -> None:
        # The listener's own client, which waits out a rate limit: this is an answer to someone mid-report.
        # Posted once: one whose answer was lost is looked for in the DM before it is posted again.
        for part in parted(replies):  # a warning (the 999 advice) stands as a message of its own
            await post_once(self.client, channel, render(part))

    async def _tell(self, body: Body, reply: Reply) -> None:
        """Say something only the person who pressed a button sees, where they pressed it."""
        await self._tell_in(_channel(body) or None, _user(body), reply, _response_url(body))

    async def _tell_in(self, channel: str | None, slack_id: str, reply: Reply, response_url: str | None = None) -> None:
        message = render([reply])
        if response_url is not None:
            # Slack gives a message button's payload a response_url that shows an ephemeral message to
            # whoever pressed it, in the conversation they pressed it in, whoever's that is: one call.
            # chat.postEphemeral needs the presser in `channel`, which a tap on someone else's alert
            # (their DM) is not (user_not_in_channel).
            if await self._respond(response_url, message):
                return
        elif channel is not None:
            try:
                await self.client.chat_postEphemeral(channel=channel, user=slack_id, text=message.text,
                                                     blocks=message.blocks)
                return
            except SEND_ERRORS as exc:  # say, a channel the bot is not in: fall back to the DM
                log.info("ephemeral to %s in %s failed (%s); sending a DM", slack_id, channel, describe(exc))
        await self.outbox.post(await self.outbox.open_dm(slack_id), message)

    async def _respond(self, url: str, message: Message) -> bool:
        """Answer through a payload's response_url, ephemerally; False if Slack did not take it (it expires)."""
        # No retry handler: a connection dropped after Slack took the message must not show it twice.
        webhook = AsyncWebhookClient(url, timeout=RESPOND_SECONDS, retry_handlers=[])
        try:
            answer = await webhook.send(text=message.text, blocks=message.blocks, response_type="ephemeral",
                                        replace_original=False)
        except Exception as exc:  # slack_sdk and aiohttp raise their own errors alike
            log.info("the response_url did not answer (%s); sending a DM", describe(exc))
            return False
        if answer.status_code != 200:
            log.info("the response_url refused the answer (HTTP %s); sending a DM", answer.status_code)
            return False
        return True

    async def _mark_answered(self, body: Body, label: str) -> None:
        """Take the buttons off the question just answered, and show the answer under it."""
        message = body.get("message") or {}
        channel, ts = _channel(body), message.get("ts")
        if not channel or not ts:
            return
        try:
            await self.client.chat_update(channel=channel, ts=str(ts), text=str(message.get("text", "")),
                                          blocks=answered(message.get("blocks") or [], label))
        except SEND_ERRORS as exc:  # cosmetic: the answer itself is already saved
            log.info("could not mark the question answered: %s", describe(exc))

    async def _publish_home(self, slack_id: str, wanted: CaseFilter = case_list.OPEN) -> None:
        person = self.slack.person(slack_id)
        if person is None:
            await self.client.views_publish(user_id=slack_id, view=home(self.app, None))
            return
        cases: list[case_list.Case] = []
        draft, problem, waiting = False, None, []
        try:
            cases = await case_list.cases_for(self.app, person.id, wanted)
            draft = await conversation.has_draft(self.app, channel=SLACK, user_id=person.id)
            waiting = await requests.waiting(self.app, person.id)
        except STORE_ERRORS:
            log.exception("could not read the App Home of %s", person.id)
            problem = "Safeguard cannot reach its database just now, so your reports cannot be listed."
        view = home(self.app, person.name, cases, has_roles=bool(person.roles or cases), has_draft=draft,
                    problem=problem, wanted=wanted, requests=waiting)
        await self.client.views_publish(user_id=slack_id, view=view)

    async def _draft_step(self, person_id: str) -> str | None:
        """The question this person's draft is at; None without a draft."""
        async with self.app.sessions() as session:
            state = await load_draft(session, channel=SLACK, user_id=person_id)
        return None if state is None else Draft.from_dict(state).step.value

def _user(body: Body) -> str:
    return str((body.get("user") or {}).get("id", ""))


def _channel(body: Body) -> str:
    return str((body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or "")


def _response_url(body: Body) -> str | None:
    """Where to answer a message button's presser (a tap in the App Home or a modal has none)."""
    url = body.get("response_url")
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None


def _value(body: Body) -> str:
    return str(((body.get("actions") or [{}])[0]).get("value", ""))


async def _finished(rounds: list[asyncio.Task[int]]) -> None:
    """A listener ends only once the round it started has (the work it counts, and any failure, are its own)."""
    for round_ in rounds:
        await round_


async def _log_error(error: Exception, body: Body) -> None:
    # The request was acked already; what failed is logged here, never shown as a traceback.
    log.error("a Slack listener failed on a %s: %s", body.get("type", "request"), error, exc_info=error)
