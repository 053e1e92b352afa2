"""The bolt listeners for approval requests: /unblock and the other request commands, the form, and the notices' buttons.

The command starts the form in the person's DM with the bot, where it runs like the report
dialog (buttons for choices, typed answers); a typed DM goes to a request form under way before
the report dialog. Pass on and Record done act at once; Approve and Refuse open a modal for the
reasons, which are required. bot.cases.requests decides who may (each step is one conditional
update, so a second press changes nothing); every notice of the request is then redrawn, its
buttons gone for whoever has nothing left to press. Registered by bot.channels.slack.handlers,
which gives them its ways of answering a person; they never import it.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck

from bot.app import SLACK
from bot.cases import messages, request_words, requests
from bot.channels.slack.blocks import Block, escape, plain_text, question_field, sections, typed_in
from bot.channels.slack.host import SlackHost
from bot.channels.slack.ids import REPORT_ACTIONS, REQUEST_REASONS_BLOCK, REQUEST_REASONS_INPUT, ActionId, CallbackId
from dialogs import Reply, Tone
from routing.school import Person

Body = dict[str, Any]
Listener = Callable[[AsyncAck, Body], Awaitable[None]]
On = Callable[[str, str, Callable[..., Any], Listener], None]
TellIn = Callable[[str | None, str, Reply, str | None], Awaitable[None]]
Post = Callable[[str, list[Reply]], Awaitable[None]]
MarkAnswered = Callable[[Body, str], Awaitable[None]]

TITLE_CHARS = 24
STRANGER = messages.stranger("Slack")
STALE = Reply("That button belongs to an earlier question of your request.", tone=Tone.ERROR)
MOVED = "Your request is open in your direct messages with Safeguard."
EMPTY_REASONS = "Please give your reasons, or press Cancel."
# The button's action id -> bot.cases.request_words' button (its verb for requests.act).
BUTTONS = {REPORT_ACTIONS[action]: action for action in request_words.BUTTON_VERBS}


@dataclass(frozen=True)
class ReasonsTarget:
    """What a reasons modal decides: the request, approve or refuse, and where to answer the person."""

    reference: str
    verb: str
    channel: str | None
    response_url: str | None = None
    message: str | None = None  # 'channel:ts' of the notice pressed, redrawn once decided

    def dump(self) -> str:
        """As the modal's private_metadata."""
        return json.dumps({"ref": self.reference, "verb": self.verb, "channel": self.channel,
                           "respond": self.response_url, "message": self.message})

    @classmethod
    def load(cls, metadata: str) -> ReasonsTarget | None:
        """From a modal's private_metadata; None if it is not ours."""
        try:
            data = json.loads(metadata)
            verb, channel, respond, message = data["verb"], data.get("channel"), data.get("respond"), data.get("message")
            if verb not in ("approve", "refuse"):
                return None
            return cls(str(data["ref"]), verb, channel if isinstance(channel, str) else None,
                       respond if isinstance(respond, str) and respond else None,
                       message if isinstance(message, str) and message else None)
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            return None


def reasons_modal(target: ReasonsTarget) -> Block:
    """The modal for an approval's or a refusal's reasons (the requester reads them)."""
    verb = "Approve" if target.verb == "approve" else "Refuse"
    return {
        "type": "modal", "callback_id": CallbackId.REQUEST_REASONS, "private_metadata": target.dump(),
        "title": plain_text(f"{verb} {target.reference}", TITLE_CHARS), "submit": plain_text(verb, TITLE_CHARS),
        "close": plain_text("Cancel", TITLE_CHARS),
        "blocks": [
            *sections(escape(f"{verb} {target.reference}: the person who asked is told the outcome and your "
                             "reasons, and which role decided.")),
            {"type": "input", "block_id": REQUEST_REASONS_BLOCK, "label": plain_text("Your reasons", 2000),
             "element": {"type": "plain_text_input", "action_id": REQUEST_REASONS_INPUT, "multiline": True,
                         "max_length": requests.MAX_REASONS}},
        ],
    }


class RequestHandlers:
    """Listeners for asking for something that needs approval, and for approving it."""

    def __init__(self, slack: SlackHost, *, tell_in: TellIn, post: Post, mark_answered: MarkAnswered) -> None:
        self.slack = slack
        self.app = slack.app
        self.client = slack.client
        self.tell_in = tell_in
        self.post = post
        self.mark_answered = mark_answered

    def register(self, on: On) -> None:
        """Tell the bolt app what to listen for, through the listeners' own `_on` (which counts their work)."""
        bolt = self.slack.bolt
        for command in requests.COMMANDS:
            on("commands", command, bolt.command(command), self.command)
        for action_id in (ActionId.REQUEST_PASS, ActionId.REQUEST_DONE):
            on("actions", action_id, bolt.action(action_id), self.act_now)
        for action_id in (ActionId.REQUEST_APPROVE, ActionId.REQUEST_REFUSE):
            on("actions", action_id, bolt.action(action_id), self.ask_reasons)
        on("views", CallbackId.REQUEST_REASONS, bolt.view(CallbackId.REQUEST_REASONS), self.reasons_given)

    # --- the form -----------------------------------------------------------------------

    async def command(self, ack: AsyncAck, body: Body) -> None:
        """/unblock (or another kind's command), typed anywhere: the form in the bot's DM, or one line why not."""
        person = self.slack.person(body.get("user_id"))
        if person is None or person.slack is None:
            await ack(text=STRANGER.text)
            return
        kind_id = requests.COMMANDS.get(str(body.get("command") or ""), "")
        app = self.app.for_person(person.id)
        if requests.kind_of(app, kind_id) is None:
            await ack(text=request_words.not_in_policy(app, requests.TITLES.get(kind_id, kind_id)).text)
            return
        if str(body.get("channel_id", "")).startswith("D"):
            await ack()
        else:
            await ack(text=MOVED)
        async with self.slack.lock(person.id):
            replies = await requests.start(self.app, channel=SLACK, user_id=person.id, kind_id=kind_id)
            await self.post(await self.slack.outbox.open_dm(person.slack), request_words.in_form(replies))

    async def typed(self, person: Person, channel: str, text: str) -> bool:
        """A DM typed while a request form is under way: taken as its answer (True), else left to the report dialog."""
        replies = await requests.message(self.app, channel=SLACK, user_id=person.id, text=text)
        if replies is None:
            return False
        await self.post(channel, request_words.in_form(replies))
        await self.slack.outbox.deliver()  # a request just sent: its first approver's notice
        return True

    async def tapped(self, person: Person, body: Body, value: str, label: str) -> bool:
        """A choice button of the request form (Send, Back, Cancel, an option): True if it was one."""
        form = await requests.form_at(self.app, channel=SLACK, user_id=person.id)
        if form is None:
            return False
        field = question_field(str(((body.get("actions") or [{}])[0]).get("block_id", "")))
        channel = str((body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or "")
        if field != form.asks:
            if field in form.fields:  # an old question of this form: taken as an answer it would answer another
                await self.post(channel, [STALE])
                return True
            return False  # a button of the report dialog
        replies = await requests.message(self.app, channel=SLACK, user_id=person.id, text=value)
        if replies is None:
            return False
        await self.mark_answered(body, label)
        await self.post(channel, request_words.in_form(replies))
        await self.slack.outbox.deliver()
        return True

    # --- the notices' buttons -----------------------------------------------------------

    async def act_now(self, ack: AsyncAck, body: Body) -> None:
        """Pass on or Record done: done once, the presser told, every notice of the request redrawn."""
        await ack()
        action = (body.get("actions") or [{}])[0]
        verb = request_words.BUTTON_VERBS[BUTTONS[ActionId(str(action.get("action_id")))]]
        person = self.slack.person(_user(body))
        reply = STRANGER if person is None else \
            await requests.act(self.app, person.id, str(action.get("value") or ""), verb)
        await self._told(_channel(body) or None, _user(body), str(action.get("value") or ""), reply,
                         _response_url(body), _pressed(body, person))

    async def ask_reasons(self, ack: AsyncAck, body: Body) -> None:
        """Approve or Refuse: the modal for the reasons, opened at once while the trigger is fresh."""
        await ack()
        if self.slack.person(_user(body)) is None:
            await self.tell_in(_channel(body) or None, _user(body), STRANGER, _response_url(body))
            return
        action = (body.get("actions") or [{}])[0]
        verb = request_words.BUTTON_VERBS[BUTTONS[ActionId(str(action.get("action_id")))]]
        target = ReasonsTarget(str(action.get("value") or ""), verb, _channel(body) or None, _response_url(body),
                               _message(body))
        await self.client.views_open(trigger_id=str(body.get("trigger_id", "")), view=reasons_modal(target))

    async def reasons_given(self, ack: AsyncAck, body: Body) -> None:
        """The reasons modal's submit: empty is refused in the modal; otherwise decided (once) and told."""
        view = body.get("view") or {}
        reasons = typed_in(body, REQUEST_REASONS_BLOCK, REQUEST_REASONS_INPUT)
        if not reasons.strip():
            await ack(response_action="errors", errors={REQUEST_REASONS_BLOCK: EMPTY_REASONS})
            return
        await ack()
        target = ReasonsTarget.load(str(view.get("private_metadata", "")))
        if target is None:
            return
        person = self.slack.person(_user(body))
        reply = STRANGER if person is None else \
            await requests.act(self.app, person.id, target.reference, target.verb, reasons)
        pressed = (person.id, target.message) if person is not None and target.message else None
        await self._told(target.channel, _user(body), target.reference, reply, target.response_url, pressed)

    async def _told(self, channel: str | None, slack_id: str, reference: str, reply: Reply,
                    response_url: str | None, pressed: tuple[str, str] | None) -> None:
        if reply.tone is not Tone.ERROR:  # the buttons go first: nobody presses them again meanwhile
            await self.slack.outbox.refresh_request(reference, pressed)
        await self.tell_in(channel, slack_id, reply, response_url)
        if reply.tone is not Tone.ERROR:
            await self.slack.outbox.deliver()


def _user(body: Body) -> str:
    return str((body.get("user") or {}).get("id", ""))


def _channel(body: Body) -> str:
    return str((body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or "")


def _message(body: Body) -> str | None:
    """Where the message whose button was pressed is, as 'channel:ts' (how a delivered notice is recorded)."""
    ts = (body.get("container") or {}).get("message_ts") or (body.get("message") or {}).get("ts")
    channel = _channel(body)
    return f"{channel}:{ts}" if channel and ts else None


def _pressed(body: Body, person: Person | None) -> tuple[str, str] | None:
    message = _message(body)
    return (person.id, message) if person is not None and message is not None else None


def _response_url(body: Body) -> str | None:
    url = body.get("response_url")
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None
