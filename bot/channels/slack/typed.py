"""Words staff type in their DM with the bot: taken before Slack is answered, the event id in the step's transaction.

Every other event's id is recorded by the ledger before bolt acks and runs its listener
(bot/channels/slack/retries.py). For a typed message, the most frequent event there is, that
made two transactions and two commits (two disk syncs on SQLite): the id's, then the dialog
step's. Here the id is inserted in the step's own transaction (bot.cases.conversation.message_once),
and the step runs before the ack (Slack allows three seconds; a step takes milliseconds):

- A retry (Slack's answer slow or lost) finds the id once the step is committed: acked, not run
  again. A copy arriving while the step is under way waits for it, on the person's lock here or
  on the id's unique key on a second server, and then finds it.
- The server stopping before the commit leaves nothing recorded and nothing acked, so Slack's
  retry takes the message then. (Recording the id and acking before the step, as before, lost
  such a message without a trace.)
- What the step leads to (a report sent, a request form's answer) is stored before the ack too.
  The replies are posted once Slack has its answer, in the order each person's messages came; a
  crash after the commit and before the post loses a reply, never a step, and never takes one twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.app import SLACK
from bot.cases import conversation, request_words, requests
from bot.cases.conversation import Taken
from bot.channels.slack.blocks import from_slack
from bot.channels.slack.host import SlackHost
from dialogs import Reply
from routing.school import Person

log = logging.getLogger(__name__)

Post = Callable[[str, list[Reply]], Awaitable[None]]
# A request's form under way takes a person's words before the report dialog does.
FORM_CHANNEL = SLACK + requests.DRAFT_SUFFIX


@dataclass(frozen=True)
class Typed:
    """A message typed in a DM with the bot, as the Events API delivers it."""

    event_id: str
    channel: str
    user: str
    text: str


def typed(body: dict[str, Any]) -> Typed | None:
    """The typed DM this event is; None for any other event (files, edits, the bot's own, other channels)."""
    event = body.get("event")
    event_id = body.get("event_id")
    if body.get("type") != "event_callback" or not isinstance(event, dict) or not isinstance(event_id, str) \
            or not event_id:
        return None
    if event.get("type") != "message" or event.get("channel_type") != "im" or event.get("bot_id") \
            or event.get("subtype") is not None:
        return None
    return Typed(event_id, str(event.get("channel", "")), str(event.get("user") or ""),
                 from_slack(str(event.get("text") or "")))


class TypedMessages:
    """The bolt middleware that takes typed DMs before the ack; everything else goes on to the ledger and listeners."""

    def __init__(self, slack: SlackHost, *, post: Post) -> None:
        self.slack = slack
        self.post = post

    async def middleware(self, body: dict[str, Any], req: AsyncBoltRequest,
                         next: Callable[[], Awaitable[None]]) -> BoltResponse | None:  # noqa: A002 (bolt's name)
        message = typed(body)
        person = self.slack.person(message.user) if message is not None else None
        if message is None or person is None:  # a stranger is answered by the listener
            await next()
            return None
        async with self.slack.working(), self.slack.lock(person.id):
            answer = await self._take(person, message)
            if answer is None:
                retry = (req.headers.get("x-slack-retry-num") or ["?"])[0]
                log.info("Slack event %s was handled already (retry %s): acked, not run again", message.event_id, retry)
            else:
                # Queued while the lock is held, so a person's replies go out in the order their messages came.
                self.slack.later(person.id, partial(self._answer, message.channel, *answer))
        return BoltResponse(status=200, body="")

    async def _take(self, person: Person, message: Typed) -> tuple[list[Reply], Callable[[], Awaitable[int]]] | None:
        """The step (stored), the replies to post and the outbox round to run after; None for an event taken before."""
        app, outbox = self.slack.app, self.slack.outbox
        taken = await conversation.message_once(app, channel=SLACK, user_id=person.id, text=message.text,
                                                inbound=(SLACK, message.event_id), form_channel=FORM_CHANNEL)
        if taken is Taken.AGAIN:
            return None
        if taken is Taken.FORM:
            replies = await requests.message(app, channel=SLACK, user_id=person.id, text=message.text)
            if replies is not None:
                return request_words.in_form(replies), outbox.deliver  # a request just sent: its approver's notice
            # The form went meanwhile (sent or cancelled on a second server): the words are the report's.
            taken = await conversation.message(app, channel=SLACK, user_id=person.id, text=message.text)
        return taken, outbox.deliver_sent_reports  # a report just sent: its alerts

    async def _answer(self, channel: str, replies: list[Reply], deliver: Callable[[], Awaitable[int]]) -> None:
        await self.post(channel, replies)
        await deliver()
