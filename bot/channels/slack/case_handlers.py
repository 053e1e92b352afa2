"""The bolt listeners for a person's cases: the App Home's filter (menus and child box), Reassign, Reopen and Export.

Registered by bot.channels.slack.handlers, which gives them its ways of answering a person and
of publishing their App Home; they never import it. bot.cases decides everything; this renders.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck

from bot.cases import case_list, export_in_chat, handover, messages
from bot.cases.case_list import CaseFilter
from bot.cases.lifecycle import Result
from bot.channels.slack import files
from bot.channels.slack.case_views import CaseTarget, filter_words, reassign_modal, reopen_modal
from bot.channels.slack.host import SlackHost
from bot.channels.slack.outbox import describe
from bot.channels.slack.ids import PERSON_BLOCK, PERSON_INPUT, REASON_BLOCK, REASON_INPUT, ActionId, CallbackId
from bot.channels.slack.views import report_modal
from dialogs import Reply, Tone
from dialogs.validation import Invalid

log = logging.getLogger(__name__)

Body = dict[str, Any]
Listener = Callable[[AsyncAck, Body], Awaitable[None]]
On = Callable[[str, str, Callable[..., Any], Listener], None]
TellIn = Callable[[str | None, str, Reply, str | None], Awaitable[None]]
PublishHome = Callable[[str, CaseFilter], Awaitable[None]]

EMPTY_REASON = "Please give the reason, or press Cancel."
NO_PERSON = "Choose who should own it."


class CaseHandlers:
    """Listeners for the case list and for handing a case over or reopening it."""

    def __init__(self, slack: SlackHost, *, tell_in: TellIn, publish_home: PublishHome) -> None:
        self.slack = slack
        self.app = slack.app
        self.client = slack.client
        self.tell_in = tell_in
        self.publish_home = publish_home

    def register(self, on: On) -> None:
        """Tell the bolt app what to listen for, through the listeners' own `_on` (which counts their work)."""
        bolt = self.slack.bolt
        on("actions", ActionId.CASES_STATE, bolt.action(ActionId.CASES_STATE), self.filter_chosen)
        on("actions", ActionId.CASES_CATEGORY, bolt.action(ActionId.CASES_CATEGORY), self.filter_chosen)
        on("actions", ActionId.CASES_DATE, bolt.action(ActionId.CASES_DATE), self.filter_chosen)
        on("actions", ActionId.CASES_CHILD, bolt.action(ActionId.CASES_CHILD), self.filter_chosen)
        on("actions", ActionId.REASSIGN, bolt.action(ActionId.REASSIGN), self.reassign_button)
        on("actions", ActionId.REOPEN, bolt.action(ActionId.REOPEN), self.reopen_button)
        on("actions", ActionId.EXPORT, bolt.action(ActionId.EXPORT), self.export_button)
        on("views", CallbackId.REASSIGN, bolt.view(CallbackId.REASSIGN), self.reassign_submitted)
        on("views", CallbackId.REOPEN, bolt.view(CallbackId.REOPEN), self.reopen_submitted)

    async def filter_chosen(self, ack: AsyncAck, body: Body) -> None:
        """A state or category chosen, or a child's name entered, on the App Home: the list again, filtered so."""
        await ack()
        wanted = case_list.parse_filter(self.app, filter_words(body))
        await self.publish_home(_user(body), wanted if not isinstance(wanted, Invalid) else case_list.OPEN)

    async def reassign_button(self, ack: AsyncAck, body: Body) -> None:
        """Reassign: a modal, opened at once, then filled with whom the report may go to (or why it may not)."""
        await ack()
        person = self.slack.person(_user(body))
        target = _target(body)
        opened = await self.client.views_open(trigger_id=str(body.get("trigger_id", "")),
                                              view=report_modal("Reassign", None))
        if person is None:
            shown = report_modal("Safeguard", Reply("Safeguard doesn't know your Slack account yet.", tone=Tone.ERROR))
        else:
            found = await handover.choices(self.app, person.id, target.reference)
            shown = (report_modal("Safeguard", found.reply) if isinstance(found, Result)
                     else reassign_modal(target, found))
        await self.client.views_update(view_id=str(opened["view"]["id"]), view=shown)

    async def reopen_button(self, ack: AsyncAck, body: Body) -> None:
        """Reopen: a modal asking why (whether they may is decided when it is submitted)."""
        await ack()
        await self.client.views_open(trigger_id=str(body.get("trigger_id", "")), view=reopen_modal(_target(body)))

    async def export_button(self, ack: AsyncAck, body: Body) -> None:
        """Export: the report's PDF uploaded into the presser's own DM with the bot (never a channel), if they may."""
        await ack()
        slack_id = _user(body)
        target = _target(body)
        person = self.slack.person(slack_id)
        if person is None or person.slack is None:
            await self.tell_in(target.channel, slack_id, messages.stranger("Slack"), target.response_url)
            return
        handed = await export_in_chat.export_pdf(self.app, person.id, target.reference)
        reply = handed.reply
        if handed.document is not None:
            try:
                await files.upload_document(self.client, await self.slack.outbox.open_dm(person.slack), handed.document)
            except Exception as exc:  # slack_sdk raises SlackApiError, SlackRequestError and aiohttp's errors alike
                log.warning("the export of %s was not uploaded to %s: %s", target.reference, person.id, describe(exc))
                reply = export_in_chat.not_sent()
        await self.tell_in(target.channel, slack_id, reply, target.response_url)

    async def reassign_submitted(self, ack: AsyncAck, body: Body) -> None:
        """The reassign modal's submit: nobody chosen or no reason is refused in the modal; otherwise done and told."""
        values = _values(body)
        chosen = str(((values.get(PERSON_BLOCK) or {}).get(PERSON_INPUT) or {}).get("selected_option", {}).get("value") or "")
        reason = _reason(values)
        errors = {**({PERSON_BLOCK: NO_PERSON} if not chosen else {}), **({REASON_BLOCK: EMPTY_REASON} if not reason.strip() else {})}
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        await self._submitted(body, lambda person_id, reference: handover.reassign(self.app, person_id, reference,
                                                                                   chosen, reason))

    async def reopen_submitted(self, ack: AsyncAck, body: Body) -> None:
        """The reopen modal's submit: no reason is refused in the modal; otherwise done and told."""
        reason = _reason(_values(body))
        if not reason.strip():
            await ack(response_action="errors", errors={REASON_BLOCK: EMPTY_REASON})
            return
        await ack()
        await self._submitted(body, lambda person_id, reference: handover.reopen(self.app, person_id, reference, reason))

    async def _submitted(self, body: Body, act: Callable[[str, str], Awaitable[Result]]) -> None:
        target = CaseTarget.load(str((body.get("view") or {}).get("private_metadata", "")))
        if target is None:
            log.warning("a reassign or reopen modal came back without its report")
            return
        slack_id = _user(body)
        person = self.slack.person(slack_id)
        if person is None:
            await self.tell_in(target.channel, slack_id, Reply("Safeguard doesn't know your Slack account yet.",
                                                               tone=Tone.ERROR), target.response_url)
            return
        result = await act(person.id, target.reference)
        await self.tell_in(target.channel, slack_id, result.reply, target.response_url)
        if result.reply.tone is not Tone.ERROR:
            await self.slack.outbox.refresh(target.reference)  # the old owner's alert loses its owner's buttons
            if target.channel is None:  # it came from the App Home: show the list as it is now
                await self.publish_home(slack_id, case_list.OPEN)
            await self.slack.outbox.deliver()  # the new owner's alert, or the owner's news of reopening


def _user(body: Body) -> str:
    return str((body.get("user") or {}).get("id", ""))


def _target(body: Body) -> CaseTarget:
    action = (body.get("actions") or [{}])[0]
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    url = body.get("response_url")
    return CaseTarget(str(action.get("value", "")), str(channel) if channel else None,
                      url if isinstance(url, str) and url.startswith(("https://", "http://")) else None)


def _values(body: Body) -> dict[str, Any]:
    values = ((body.get("view") or {}).get("state") or {}).get("values") or {}
    return values if isinstance(values, dict) else {}


def _reason(values: dict[str, Any]) -> str:
    return str(((values.get(REASON_BLOCK) or {}).get(REASON_INPUT) or {}).get("value") or "")
