"""The bolt listeners for follow-up in chat: Ask the reporter, Answer, "I have something to add", and /add.

Each button (and /add) opens a modal at once, while its trigger_id is fresh; the modal's submit
does the work through bot.cases.follow_up, which decides who may, and the outbox then carries
the words to whoever must read them. Registered by bot.channels.slack.handlers, which gives them
its way of answering a person; they never import it.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck

from bot.app import SLACK
from bot.cases import follow_up, messages
from bot.cases.lifecycle import Result, parse_reference
from bot.channels.slack.blocks import Block, escape, plain_text, sections, typed_in
from bot.channels.slack.host import SlackHost
from bot.channels.slack.ids import ADD_COMMAND, FOLLOW_UP_BLOCK, FOLLOW_UP_INPUT, ActionId, CallbackId
from dialogs import Reply, Tone
from dialogs.validation import Invalid

Body = dict[str, Any]
Listener = Callable[[AsyncAck, Body], Awaitable[None]]
On = Callable[[str, str, Callable[..., Any], Listener], None]
TellIn = Callable[[str | None, str, Reply, str | None], Awaitable[None]]

TITLE_CHARS = 24
EMPTY = "Please type something before sending, or press Cancel."
# What each modal is called, what it asks, and what its submit button says.
WORDING = {
    "ask": ("Ask the reporter", "Your question for the person who reported {ref}. They are told which role asks; "
            "your name is not shown to them.", "Send"),
    "answer": ("Answer", "Your answer about your report {ref}. Only the people handling it read it.", "Send"),
    "add": ("Add to your report", "What would you like to add to your report {ref}? It goes to the people handling "
            "it.", "Send"),
}


@dataclass(frozen=True)
class FollowUpTarget:
    """What a follow-up modal is for: the report, ask/answer/add, the question answered, and where to answer."""

    reference: str
    kind: str
    question: int | None
    channel: str | None
    response_url: str | None = None

    def dump(self) -> str:
        """As the modal's private_metadata."""
        return json.dumps({"ref": self.reference, "kind": self.kind, "question": self.question,
                           "channel": self.channel, "respond": self.response_url})

    @classmethod
    def load(cls, metadata: str) -> FollowUpTarget | None:
        """From a modal's private_metadata; None if it is not ours."""
        try:
            data = json.loads(metadata)
            kind, question, channel, respond = data["kind"], data.get("question"), data.get("channel"), data.get("respond")
            if kind not in WORDING or (question is not None and not isinstance(question, int)):
                return None
            return cls(str(data["ref"]), kind, question, channel if isinstance(channel, str) else None,
                       respond if isinstance(respond, str) and respond else None)
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            return None


def follow_up_modal(target: FollowUpTarget) -> Block:
    """The modal to type a question, an answer or an addition in."""
    title, said, submit = WORDING[target.kind]
    return {
        "type": "modal", "callback_id": CallbackId.FOLLOW_UP, "private_metadata": target.dump(),
        "title": plain_text(title, TITLE_CHARS), "submit": plain_text(submit, TITLE_CHARS),
        "close": plain_text("Cancel", TITLE_CHARS),
        "blocks": [
            *sections(escape(said.format(ref=target.reference))),
            {"type": "input", "block_id": FOLLOW_UP_BLOCK, "label": plain_text(title, 2000),
             "element": {"type": "plain_text_input", "action_id": FOLLOW_UP_INPUT, "multiline": True,
                         "max_length": follow_up.TEXT_LENGTH}},
        ],
    }


class FollowUpHandlers:
    """Listeners for asking the reporter, answering, and adding to a report."""

    def __init__(self, slack: SlackHost, *, tell_in: TellIn) -> None:
        self.slack = slack
        self.app = slack.app
        self.client = slack.client
        self.tell_in = tell_in

    def register(self, on: On) -> None:
        """Tell the bolt app what to listen for, through the listeners' own `_on` (which counts their work)."""
        bolt = self.slack.bolt
        for action in (ActionId.ASK, ActionId.ANSWER, ActionId.ADD):
            on("actions", action, bolt.action(action), self.button)
        on("views", CallbackId.FOLLOW_UP, bolt.view(CallbackId.FOLLOW_UP), self.submitted)
        on("commands", ADD_COMMAND, bolt.command(ADD_COMMAND), self.add_command)

    async def button(self, ack: AsyncAck, body: Body) -> None:
        """Ask the reporter, Answer, or I have something to add: the modal to type it in."""
        await ack()
        action = (body.get("actions") or [{}])[0]
        pressed = str(action.get("action_id"))
        kind = "ask" if pressed == ActionId.ASK else "answer" if pressed == ActionId.ANSWER else "add"
        reference, _, number = str(action.get("value", "")).partition("#")
        question = int(number) if kind == "answer" and number.isdigit() else None
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
        url = body.get("response_url")
        target = FollowUpTarget(reference, kind, question, str(channel) if channel else None,
                                url if isinstance(url, str) and url.startswith(("https://", "http://")) else None)
        await self._open(body, target)

    async def add_command(self, ack: AsyncAck, body: Body) -> None:
        """/add SG-2026-0042: the modal for what the reporter adds (whether they may is decided when it is sent)."""
        reference = parse_reference(str(body.get("text") or ""))
        if isinstance(reference, Invalid):
            await ack(text=f"{reference.reason} Type /add and the reference of a report you sent.")
            return
        await ack()
        url = body.get("response_url")
        await self._open(body, FollowUpTarget(reference, "add", None, None,
                                              url if isinstance(url, str) and url.startswith(("https://", "http://"))
                                              else None))

    async def _open(self, body: Body, target: FollowUpTarget) -> None:
        await self.client.views_open(trigger_id=str(body.get("trigger_id", "")), view=follow_up_modal(target))

    async def submitted(self, ack: AsyncAck, body: Body) -> None:
        """The modal's Send: empty is refused in the modal; otherwise done, told, and the words delivered."""
        view = body.get("view") or {}
        text = typed_in(body, FOLLOW_UP_BLOCK, FOLLOW_UP_INPUT)
        if not text.strip():
            await ack(response_action="errors", errors={FOLLOW_UP_BLOCK: EMPTY})
            return
        await ack()
        target = FollowUpTarget.load(str(view.get("private_metadata", "")))
        if target is None:
            return
        slack_id = str((body.get("user") or {}).get("id", ""))
        person = self.slack.person(slack_id)
        person_id = person.id if person is not None else None
        result: Result
        if target.kind == "ask":
            result = Result(messages.stranger("Slack")) if person_id is None else \
                await follow_up.ask(self.app, person_id, target.reference, text)
        elif target.kind == "answer":
            result = await follow_up.answer(self.app, channel=SLACK, user_id=slack_id, person_id=person_id,
                                            reference_text=target.reference, text=text, question_id=target.question)
        else:
            result = await follow_up.add(self.app, channel=SLACK, user_id=slack_id, person_id=person_id,
                                         reference_text=target.reference, text=text)
        await self.tell_in(target.channel, slack_id, result.reply, target.response_url)
        if result.reply.tone is not Tone.ERROR:
            await self.slack.outbox.deliver()
