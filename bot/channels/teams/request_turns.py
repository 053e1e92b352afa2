"""Approval requests in Teams: the welcome card's "Ask to unblock a site", the form in the chat, and the notices' buttons.

The form runs in the 1:1 chat like the report dialog (a typed message, or the card's box and
buttons, answers it; a form under way comes before the report dialog), and what can be tapped
can be typed: `/unblock` starts it too. Pass on and Record done act at once; Approve and Refuse
open a box on the card for the reasons, which are required. bot.cases.requests decides who may
(each step is one conditional update, so a second press changes nothing); the notices are then
redrawn, their buttons gone for whoever has nothing left to press.
"""

from __future__ import annotations

from typing import Any

from bot.app import TEAMS
from bot.cases import request_words, requests
from bot.channels.teams import cards
from bot.channels.teams.adapter import external_ref
from bot.channels.teams.host import TeamsHost
from bot.channels.teams.replies import UNKNOWN_BUTTON
from dialogs import Reply, Tone
from routing.school import Person

STALE = Reply("That button belongs to an earlier question of your request.", tone=Tone.ERROR)


class RequestTurns:
    """What a Teams turn does with a request: start it, answer its form, act on it."""

    def __init__(self, teams: TeamsHost) -> None:
        self.teams = teams
        self.app = teams.app

    def asks(self, person: Person) -> list[tuple[str, str]]:
        """The welcome card's request buttons (label, command): the kinds this person's school's policy sets out."""
        app = self.app.for_person(person.id)
        return [(cards.ask_label(kind_id), command) for command, kind_id in requests.COMMANDS.items()
                if requests.kind_of(app, kind_id) is not None]

    async def start(self, person: Person, command: str) -> list[Reply]:
        """The form of the kind `command` starts (or one line: the school's policy has no such procedure)."""
        kind_id = requests.COMMANDS.get(command)
        if kind_id is None:
            return [UNKNOWN_BUTTON]
        return request_words.in_form(await requests.start(self.app, channel=TEAMS, user_id=person.id, kind_id=kind_id))

    async def typed(self, person: Person, text: str) -> list[Reply] | None:
        """A typed message: a request command, or an answer to a form under way; None if it is neither."""
        command = text.strip().lower()
        if command in requests.COMMANDS:
            return await self.start(person, command)
        replies = await requests.message(self.app, channel=TEAMS, user_id=person.id, text=text)
        return None if replies is None else request_words.in_form(replies)

    async def answer(self, person: Person, field: object, text: str) -> list[Reply] | None:
        """A tap or a box of the form's card; None if it belongs to the report dialog instead."""
        form = await requests.form_at(self.app, channel=TEAMS, user_id=person.id)
        if form is None:
            return None
        if field != form.asks:
            # An old question of this form: taken as an answer, it would answer another.
            return [STALE] if isinstance(field, str) and field in form.fields else None
        replies = await requests.message(self.app, channel=TEAMS, user_id=person.id, text=text)
        return None if replies is None else request_words.in_form(replies)

    async def act(self, person: Person, value: dict[str, Any], activity: Any) -> Reply:
        """Pass on, Approve, Refuse (with the reasons typed into the card) or Record done; the notices redrawn."""
        action = str(value.get("action"))
        reference = str(value.get("reference") or "")
        field = cards.REQUEST_REASONS.get(action)
        reasons = str(value.get(field) or "") if field is not None else ""
        reply = await requests.act(self.app, person.id, reference, request_words.BUTTON_VERBS[action], reasons)
        if reply.tone is not Tone.ERROR:
            card_id = str(getattr(activity, "reply_to_id", None) or "")
            chat = str(getattr(activity.conversation, "id", "") or "")
            pressed = (person.id, external_ref(chat, card_id)) if card_id and chat else None
            await self.teams.outbox.refresh_request(reference, pressed)
        return reply
