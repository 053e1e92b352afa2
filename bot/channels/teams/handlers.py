"""One turn of the Teams bot: messages and card taps, the app being added or removed, and card invokes.

Replies are computed by bot.cases.conversation and bot.cases.lifecycle and only rendered and sent here;
alerts, and news for reporters, go out from the outbox after the turn.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from bot.cases import (
    case_list, children, conversation, evidence, export_in_chat, follow_up, handover, lifecycle, messages, preview,
    request_words,
)
from bot.cases.requests import waiting as waiting_requests
from bot.cases.access import Action
from bot.app import STORE_ERRORS, TEAMS
from bot.channels.teams import cards, files
from bot.channels.teams.adapter import card_activity, reference_of, reply_activities, turn_activities
from bot.channels.teams.cards import Answered
from bot.channels.teams.host import TeamsHost
from bot.channels.teams.invoke import Invokes, invoke_reply, text_response
from bot.channels.teams.request_turns import RequestTurns
from bot.channels.teams.replies import (
    BROKEN,
    FINISHED,
    NOT_HERE,
    STALE,
    STRANGER,
    UNKNOWN_BUTTON,
    personal,
)
from dialogs import Draft, DraftError, Reply, Tone
from dialogs.validation import Invalid, visible
from routing.school import Person
from routing.vocabulary import Category
from storage.drafts import load_draft
from storage.models import NoteKind

log = logging.getLogger(__name__)

DRAFT_ERRORS: tuple[type[Exception], ...] = (*STORE_ERRORS, DraftError)
# A message in Teams carries its own text again as an HTML attachment; that is not a file.
NOT_FILES = ("text/html", "application/vnd.microsoft.card")
# The buttons a case in the list may carry, each shown only where its reader may use it.
CASE_BUTTONS = ((messages.ACKNOWLEDGE, Action.ACKNOWLEDGE), (messages.VIEW, Action.VIEW),
                (messages.REASSIGN, Action.REASSIGN), (messages.REOPEN, Action.REOPEN))


class TeamsBot:
    """What Safeguard does with each activity (botbuilder's `Bot`: it calls `on_turn`)."""

    def __init__(self, teams: TeamsHost) -> None:
        self.teams = teams
        self.app = teams.app
        self.invokes = Invokes(teams, self.report_action)
        self.requests = RequestTurns(teams)

    async def on_turn(self, context: Any) -> None:
        """Handle one activity; nothing escapes as a traceback (or a 500) to Teams."""
        try:
            async with self.teams.working():
                await self._turn(context)
        except Exception:
            log.exception("a Teams %s activity failed", context.activity.type)
            try:
                if context.activity.type == "invoke":
                    await invoke_reply(context, 200, text_response(BROKEN.text))
                elif context.activity.type == "message":
                    await context.send_activities(reply_activities([BROKEN]))
            except Exception:  # the Bot Connector itself may be what failed
                log.exception("could not tell the person that their %s failed", context.activity.type)

    async def _turn(self, context: Any) -> None:
        kind = context.activity.type
        if kind == "message":
            await self.message(context)
        elif kind == "conversationUpdate":
            await self.conversation_update(context)
        elif kind == "installationUpdate":
            await self.installation_update(context)
        elif kind == "invoke":
            await self.invokes.handle(context)
        # typing, reactions and the like need nothing from Safeguard.

    async def message(self, context: Any) -> None:
        """A message or a card tap in a 1:1 chat: it starts a report, answers a question, or acts on an alert."""
        activity = context.activity
        if not personal(activity):
            await _send(context, [NOT_HERE])
            return
        person = self.teams.directory.person(activity)
        if person is None:
            await _send(context, [STRANGER])
            return
        if await self._seen(activity):
            return  # Teams sent it again (it heard nothing back in time): it was handled the first time
        await self.teams.references.remember(person.id, reference_of(activity))
        value = activity.value if isinstance(activity.value, dict) and cards.KEY in activity.value else None
        sent = [a for a in activity.attachments or () if not str(a.content_type or "").startswith(NOT_FILES)]
        async with self.teams.lock(person.id):
            if value is not None:
                shown = await self.tap(person, value, activity)
            elif sent:
                # Screenshots at the screenshots step; anything else refused (unread, where it may be indecent).
                replies = await evidence.take(self.app, channel=TEAMS, user_id=person.id, files=files.incoming(
                    sent, str(activity.service_url or ""), files.bot_token(context)))
                shown = turn_activities(replies)
            elif (text := str(activity.text or "")).strip():
                # A request command, or a request form under way, comes before the report dialog.
                form = await self.requests.typed(person, text)
                shown = turn_activities(form if form is not None else await conversation.message(
                    self.app, channel=TEAMS, user_id=person.id, text=text))  # none: a report just sent, its receipt follows
            else:
                return
            if shown:
                await context.send_activities(shown)
        self.teams.spawn(self.teams.outbox.deliver())

    async def tap(self, person: Person, value: dict[str, Any], activity: Any = None) -> list[Any]:
        """A button on one of Safeguard's cards: the messages that answer it."""
        kind = value.get(cards.KEY)
        if kind == cards.ANSWER:
            field = value.get("field")
            text = str(value.get("choice") or value.get(cards.ANSWER_INPUT) or "")
            form = await self.requests.answer(person, field, text)
            if form is not None:
                taken = bool(form) and form[0].tone is not Tone.ERROR
                label = visible(str(value.get("label") or text))
                return turn_activities(form, Answered(label) if taken and label.strip() else None)
            return await self.answer(person, value)
        if kind == cards.START:
            return turn_activities(await conversation.begin(self.app, channel=TEAMS, user_id=person.id))
        if kind == cards.REQUEST:
            return turn_activities(await self.requests.start(person, str(value.get("command") or "")))
        action = value.get("action")
        if kind == cards.REPORT and isinstance(action, str) and action in request_words.BUTTON_VERBS:
            return reply_activities([await self.requests.act(person, value, activity)])
        if kind in (cards.CASES, cards.OPEN_REPORTS):
            return await self.cases(person, value)
        if kind == cards.REPORT and value.get("action") == "reassign":
            return await self.reassign_choices(person, str(value.get("reference") or ""))
        if kind == cards.REPORT and value.get("action") == "screenshots":
            return await self.screenshots(person, str(value.get("reference") or ""))
        if kind == cards.REPORT and value.get("action") == "export":
            # Into this 1:1 chat only, like the screenshots: a tap in any other is refused before this.
            handed = await export_in_chat.export_pdf(self.app, person.id, str(value.get("reference") or ""))
            sent = [files.document_activity(handed.document)] if handed.document is not None else []
            return [*reply_activities([handed.reply]), *sent]
        if kind == cards.REPORT:
            return reply_activities([await self.report_action(person, value)])
        return reply_activities([UNKNOWN_BUTTON])

    async def answer(self, person: Person, value: dict[str, Any]) -> list[Any]:
        """A tapped choice, or what was typed or picked in the question's own box."""
        field = value.get("field")
        text = str(value.get("choice") or value.get(cards.ANSWER_INPUT) or "")
        try:
            step = await self._draft_step(person.id)
        except DRAFT_ERRORS:
            step = field  # conversation.message says what is wrong with the draft, or the database
        if isinstance(field, str) and step != field:
            # An old card's button: taken as an answer, it would answer whatever is asked now.
            if step is None:
                return reply_activities([FINISHED])
            return turn_activities([STALE, *await conversation.begin(self.app, channel=TEAMS, user_id=person.id)])
        replies = await conversation.message(self.app, channel=TEAMS, user_id=person.id, text=text)
        chosen = self.app.anyone(text)
        # Shown back at the top of the next card: as the dialog read it, without what cannot be seen.
        label = visible(str(value.get("label") or (chosen.name if chosen is not None else text)))
        # No reply at all is a report just sent: its receipt follows from the outbox.
        taken = not replies or replies[0].tone is not Tone.ERROR
        return turn_activities(replies, Answered(label) if taken and label.strip() else None)

    async def screenshots(self, person: Person, reference: str) -> list[Any]:
        """A report's screenshots, into this 1:1 chat only (a tap in any other is refused before this), if entitled."""
        shown = await evidence.show(self.app, person.id, reference)
        if not shown.pictures:
            return reply_activities([shown.reply])
        return [*reply_activities([shown.reply]), files.pictures_activity(shown.pictures, reference)]

    async def report_action(self, person: Person, value: dict[str, Any]) -> Reply:
        """Acknowledge, Add note, Record action, LADO consulted, View log or Child's history on an alert."""
        action = value.get("action")
        action = action if isinstance(action, str) else None  # a list here is not a button of ours (nor hashable)
        reference = str(value.get("reference") or "")
        if action == "acknowledge":
            result = await lifecycle.acknowledge(self.app, person.id, reference)
            if result.reply.tone is not Tone.ERROR:
                self.teams.spawn(self.teams.after_acknowledge(reference))
            return result.reply
        if action in cards.NOTE_INPUTS:
            kind = NoteKind.ACTION if action == "record_action" else NoteKind.NOTE
            text = str(value.get(cards.NOTE_INPUTS[action]) or "")
            return (await lifecycle.add_note(self.app, person.id, reference, text, kind=kind)).reply
        if action == "view":
            return (await lifecycle.view(self.app, person.id, reference)).reply
        if action == "lado":
            return (await lifecycle.lado_consulted(self.app, person.id, reference)).reply
        if action in ("reassign_to", "reopen"):
            reason = str(value.get(cards.REASON_INPUTS[action]) or "")
            result = (await handover.reopen(self.app, person.id, reference, reason) if action == "reopen" else
                      await handover.reassign(self.app, person.id, reference, str(value.get(cards.REASSIGN_PERSON) or ""),
                                              reason))
            if result.reply.tone is not Tone.ERROR:  # the alerts show who owns it now; the new owner's alert goes
                self.teams.spawn(self.teams.after_acknowledge(reference))
            return result.reply
        if action == children.HISTORY.action:
            return await children.history_for_report(self.app, person.id, reference)
        if action in cards.FOLLOW_UP_INPUTS:
            return await self.follow_up(person, action, reference, value)
        return UNKNOWN_BUTTON

    async def follow_up(self, person: Person, action: str, reference: str, value: dict[str, Any]) -> Reply:
        """Ask the reporter, Answer, or I have something to add: typed into the card; the words go from the outbox."""
        text = str(value.get(cards.FOLLOW_UP_INPUTS[action]) or "")
        question = value.get("question")
        user_id = person.teams or person.id
        result = (await follow_up.ask(self.app, person.id, reference, text) if action == "ask" else
                  await follow_up.answer(self.app, channel=TEAMS, user_id=user_id, person_id=person.id,
                                         reference_text=reference, text=text,
                                         question_id=question if isinstance(question, int) else None)
                  if action == "answer" else
                  await follow_up.add(self.app, channel=TEAMS, user_id=user_id, person_id=person.id,
                                      reference_text=reference, text=text))
        return result.reply

    async def cases(self, person: Person, value: dict[str, Any]) -> list[Any]:
        """The reports this person may see (open ones unless they chose otherwise), with the filter's menus."""
        state = str(value.get(cards.CASES_STATE) or ("open" if cards.CASES_STATE not in value else cards.ANY))
        category = str(value.get(cards.CASES_CATEGORY) or cards.ANY)
        date = str(value.get(cards.CASES_DATE) or cards.ANY)
        child = " ".join(str(value.get(cards.CASES_CHILD) or "").split())
        menus = [v for v in (state, category, date) if v != cards.ANY]
        # The child's name last: it takes the rest of the words.
        wanted = case_list.parse_filter(self.app, " ".join([*menus, *(["child", child] if child else [])]))
        if isinstance(wanted, Invalid):
            return reply_activities([Reply(wanted.reason, tone=Tone.ERROR)])
        try:
            found = await case_list.cases_for(self.app, person.id, wanted)
            waiting = await waiting_requests(self.app, person.id)
        except STORE_ERRORS:
            return reply_activities([Reply("Safeguard cannot reach its database just now.", tone=Tone.ERROR)])
        rows = [cards.CaseRow(case.reference, case_list.entry(self.app, case),
                              [button for button, action in CASE_BUTTONS if case.can(action)]) for case in found]
        card = cards.cases_card(case_list.heading(found, wanted), rows, state=state, category=category,
                                categories=[(c.value, case_list.CATEGORY_NAMES[c]) for c in Category],
                                child=child, date=date, requests=waiting)
        return [card_activity(card, preview.line(preview.OPEN_REPORTS))]

    async def reassign_choices(self, person: Person, reference: str) -> list[Any]:
        """Reassign on an alert: a card of whom the report may go to and why, or why it cannot be reassigned."""
        found = await handover.choices(self.app, person.id, reference)
        if isinstance(found, lifecycle.Result):
            return reply_activities([found.reply])
        people = [(c.person.id, f"{c.person.name} ({c.role_name})") for c in found]
        return [card_activity(cards.reassign_card(reference.strip().upper(), people),
                              preview.line("choose who should own the report", reference.strip().upper()))]

    async def conversation_update(self, context: Any) -> None:
        """Safeguard added to someone's chats: keep where the chat is, and say hello once."""
        activity = context.activity
        if not personal(activity):
            return
        person = self.teams.directory.person(activity)
        if person is not None:
            await self.teams.references.remember(person.id, reference_of(activity))
        bot_id = getattr(activity.recipient, "id", None)
        if not any(getattr(member, "id", None) == bot_id for member in activity.members_added or ()):
            return
        if person is None:
            await _send(context, [STRANGER])
            return
        has_roles = bool(person.roles)
        await context.send_activity(card_activity(cards.welcome_card(person.name, has_roles=has_roles,
                                                                     asks=self.requests.asks(person)),
                                                  preview.line(preview.WELCOME)))
        self.teams.spawn(self.teams.outbox.deliver())  # alerts that waited for this chat can go now

    async def installation_update(self, context: Any) -> None:
        """The app was added (keep the chat, send what waited for it) or removed (alerts wait for its return)."""
        activity = context.activity
        person = self.teams.directory.person(activity)
        if person is None or not personal(activity):
            return
        if str(activity.action or "").startswith("remove"):
            await self.teams.references.forget(person.id)
            return
        await self.teams.references.remember(person.id, reference_of(activity))
        self.teams.spawn(self.teams.outbox.deliver())

    async def _seen(self, activity: Any) -> bool:
        """Whether this activity was handled already (by its id within its conversation)."""
        if not activity.id:
            return False
        # Teams message ids are unique within a conversation only, and conversation ids are long.
        key = hashlib.sha256(f"{activity.conversation.id}\n{activity.id}".encode()).hexdigest()
        try:
            return await self.teams.inbound.seen(TEAMS, key)
        except STORE_ERRORS:
            log.exception("could not check whether activity %s was handled before", activity.id)
            return False  # handle it: the conversation says so if the database is down

    async def _draft_step(self, person_id: str) -> str | None:
        """The question this person's draft is at; None without a draft."""
        async with self.app.sessions() as session:
            state = await load_draft(session, channel=TEAMS, user_id=person_id)
        return None if state is None else Draft.from_dict(state).step.value


async def _send(context: Any, replies: list[Reply]) -> None:
    await context.send_activities(reply_activities(replies))
