"""Universal Actions: an alert's buttons sent as `Action.Execute` (an `adaptiveCard/action` invoke).

Safeguard's own cards use Action.Submit (the Bot Framework Emulator has no Action.Execute),
but Teams sends an invoke for an Action.Execute card, and for a card's automatic `refresh`:
both are answered here with the alert as it stands, so such a card stays current. The answer
is the HTTP body of the request; adapter.Connector.handle writes it (botbuilder 4.17.1's own
path answers 500 to every invoke with a body, as it serializes the body twice).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from botbuilder.core import InvokeResponse  # type: ignore[import-untyped]
from botbuilder.schema import Activity, ActivityTypes  # type: ignore[import-untyped]

from bot.cases import children, lifecycle, messages
from bot.cases.access import Action, may
from bot.app import STORE_ERRORS
from bot.channels.teams.adapter import reference_of, reply_activities
from bot.channels.teams.cards import CARD_CONTENT_TYPE, Card, alert_card
from bot.channels.teams.host import TeamsHost
from bot.channels.teams.replies import NOT_HERE, STRANGER, personal
from dialogs import Reply, Tone
from dialogs.prompts import error
from dialogs.validation import Invalid
from routing.school import Person
from storage import reports as store

log = logging.getLogger(__name__)

# What a button on an alert does, for this person: the bot's own answer to the same tap as a message.
ReportAction = Callable[[Person, dict[str, Any]], Awaitable[Reply]]

CARD_ACTION = "adaptiveCard/action"
REFRESH = "refresh"
VERBS = {"acknowledge", "note", "record_action", "view", "lado", "history"}
Body = dict[str, Any]


async def invoke_reply(context: Any, status: int, body: Body | None) -> None:
    """Set the HTTP answer to this invoke (a plain dict: it must not go through msrest's serializer again)."""
    await context.send_activity(Activity(type=ActivityTypes.invoke_response,
                                         value=InvokeResponse(status=status, body=body)))


def text_response(text: str) -> Body:
    """Teams shows `text` to the person who pressed the button; the card stays as it was."""
    return {"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": text}


def card_response(card: Card) -> Body:
    """Teams replaces the card with this one."""
    return {"statusCode": 200, "type": CARD_CONTENT_TYPE, "value": card}


def error_response(status: int, code: str, message: str) -> Body:
    """Universal Actions' error answer."""
    return {"statusCode": status, "type": "application/vnd.microsoft.error",
            "value": {"code": code, "message": message}}


class Invokes:
    """Invoke activities: `adaptiveCard/action` is answered; any other name is refused with a 400."""

    def __init__(self, teams: TeamsHost, report_action: ReportAction) -> None:
        self.teams = teams
        self.app = teams.app
        self.report_action = report_action

    async def handle(self, context: Any) -> None:
        """Answer one invoke."""
        activity = context.activity
        if activity.name != CARD_ACTION:
            await invoke_reply(context, 400, error_response(400, "NotSupported",
                                                            f"Safeguard does not handle {str(activity.name)[:60]!r}"))
            return
        action = activity.value.get("action") if isinstance(activity.value, dict) else None
        verb = action.get("verb") if isinstance(action, dict) else None
        data = action.get("data") if isinstance(action, dict) else None
        data = data if isinstance(data, dict) else {}
        if not isinstance(verb, str) or verb not in VERBS | {REFRESH} or not isinstance(data.get("reference"), str):
            await invoke_reply(context, 400, error_response(400, "BadRequest",
                                                            "expected an action with a verb and a report reference"))
            return
        if not personal(activity):
            await invoke_reply(context, 200, text_response(NOT_HERE.text))
            return
        person = self.teams.directory.person(activity)
        if person is None:
            await invoke_reply(context, 200, text_response(STRANGER.text))
            return
        await self.teams.references.remember(person.id, reference_of(activity))
        reference = str(data["reference"])
        if verb != REFRESH:
            reply = await self.report_action(person, {**data, "action": verb})
            if reply.tone is Tone.ERROR:
                await invoke_reply(context, 200, text_response(reply.text))
                return
            await context.send_activities(reply_activities([reply]))
            self.teams.spawn(self.teams.outbox.deliver())
        card = await self.card_for(person, reference)
        if isinstance(card, Reply):
            await invoke_reply(context, 200, text_response(card.text))
            return
        await invoke_reply(context, 200, card_response(card))

    async def card_for(self, person: Person, reference_text: str) -> Card | Reply:
        """The alert as this person should see it now, or why not (a refusal is logged, as lifecycle logs one)."""
        reference = lifecycle.parse_reference(reference_text)
        if isinstance(reference, Invalid):
            return error(reference.reason)
        try:
            async with self.app.sessions() as session:
                report = await store.get_report(session, reference)
                recipients = [] if report is None else (await store.get_routing(session, report))[1]
                allowed = report is not None and may(person.id, Action.VIEW, report, recipients)
                school = self.app.at(report.school if report is not None else None)
                child = await children.for_alert(school, session, report, person.id) \
                    if report is not None and allowed else children.ChildLines()
        except STORE_ERRORS:
            log.exception("could not read %s to refresh its card", reference)
            return error("Safeguard cannot reach its database just now. Please try again in a minute.")
        if report is None or not allowed:
            return (await lifecycle.refuse(self.app, person.id, Action.VIEW, reference)).reply
        recipient = next((r for r in recipients if r.person_id == person.id), None)
        return alert_card(children.with_children(messages.alert(school, report, recipient, recipients), child))
