"""Adaptive Cards for Safeguard's neutral replies and alerts (dialogs return replies; channels render them).

Text goes into TextRuns, which Teams shows literally: a reporter who types `[link](...)` or
`**bold**` cannot forge a link or formatting in the DSL's alert. Every tap is an Action.Submit
(Teams and the Bot Framework Emulator both send it back as a message with `value`), and what
a person could tap they can also type.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.cases import requests
from bot.cases.case_list import CHILD_CHARS, DATE_CHOICES
from bot.cases.messages import Alert, ReportButton
from dialogs import Choice, InputKind, Reply, Tone
from dialogs.prompts import Command

Card = dict[str, Any]
Element = dict[str, Any]

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
# 1.5 for the colleague picker's type-to-filter; hosts without it show a plain drop-down.
VERSION = "1.5"
# What every Safeguard tap carries, so it is told apart from anything else that arrives with a value.
KEY = "safeguard"
ANSWER = "answer"  # an answer to the current question: `choice`, or the `answer` input
REPORT = "report"  # an alert's button: `action` and `reference` (and the note input)
START = "start"  # "Report a concern"
REQUEST = "request"  # "Ask to unblock a site" and each other kind of request: `command` (bot.cases.requests.COMMANDS)
OPEN_REPORTS = "open_reports"  # "My open reports", on cards sent before "My cases"
CASES = "cases"  # "My cases", and its filter's Show: `cases_state`, `cases_category` and `cases_child`
ANSWER_INPUT = "answer"
NOTE_INPUTS = {"note": "note_text", "record_action": "action_text"}
REASON_INPUTS = {"reopen": "reopen_reason", "reassign_to": "reassign_reason"}
CASES_STATE, CASES_CATEGORY, REASSIGN_PERSON = "cases_state", "cases_category", "reassign_person"
CASES_CHILD = "cases_child"
CASES_DATE = "cases_date"
ANY = "all"
STATE_CHOICES = (("open", "Open"), ("unacknowledged", "Not yet acknowledged"), ("acknowledged", "Acknowledged"),
                 ("closed", "Closed"), (ANY, "Any state"))
STEERING = set(Command)
TYPED = {InputKind.TEXT, InputKind.URL, InputKind.DATE, InputKind.PERSON}
# Teams refuses a message over 28 KB; a long report view is split across cards well below that.
CARD_CHARS = 20_000
BLOCK_CHARS = 4_000  # text per container: a long line is cut here rather than overflow a card
# Past this many colleagues the picker would make the card too big: type the name instead.
MENU_PEOPLE = 250
# The newest open reports listed on one card (each has a button; the card must stay under 28 KB).
LISTED_REPORTS = 20
TONE_STYLE = {Tone.ERROR: "attention", Tone.WARNING: "warning", Tone.ADVICE: "accent", Tone.SUMMARY: "emphasis"}
TONE_COLOR = {Tone.ERROR: "attention", Tone.WARNING: "warning"}
NOTE_LABELS = {"note": "Your note", "record_action": "The action taken", "reopen": "Why is it being reopened?",
               "ask": "Your question for the person who reported it (they are told your role, not your name)",
               "answer": "Your answer (only the people handling your report read it)",
               "add": "What would you like to add?",
               "request_approve": "Your reasons for approving it (the person who asked reads them)",
               "request_refuse": "Your reasons for refusing it (the person who asked reads them)"}
# The follow-up relay (bot.cases.follow_up): typed into the card itself, as a note is.
FOLLOW_UP_INPUTS = {"ask": "ask_text", "answer": "answer_text", "add": "add_text"}
# A request's Approve and Refuse (bot.cases.requests): the reasons, required, typed into the card.
REQUEST_REASONS = {"request_approve": "approve_reasons", "request_refuse": "refuse_reasons"}
# The welcome card's button for each kind of request (a kind without one is asked for by its title).
ASK_LABELS = {requests.BLOCKED_CONTENT: "Ask to unblock a site",
              requests.SOCIAL_MEDIA_SITE: "Ask to set up a social media site"}


@dataclass(frozen=True)
class Answered:
    """What the person just chose, shown at the top of the next card (a tap leaves no message of its own)."""

    label: str


def render(replies: Sequence[Reply], answered: Answered | None = None) -> list[Card]:
    """A turn's replies as cards: usually one; a long text (a report's history) runs over several."""
    body: list[Element] = []
    if answered is not None:
        shown = answered.label if len(answered.label) <= 200 else answered.label[:199] + "…"
        body.append(_lines(f"✓ {shown}", subtle=True))
    for reply in replies:
        body += _reply_blocks(reply)
    if not replies:
        return _split(body, [])
    # Only the last reply can be a question still waiting for its answer.
    return _split(body + _inputs(replies[-1]), _actions(replies[-1]))


def alert_card(alert: Alert) -> Card:
    """An alert: its heading in bold, its lines, then its buttons."""
    heading, _, rest = alert.text.partition("\n")
    items = [_lines(heading, bold=True, color="attention" if alert.urgent else None)]
    if rest:
        items += _blocks(rest)
    body: list[Element] = [{"type": "Container", "style": "attention" if alert.urgent else "emphasis",
                            "items": items}]
    actions = [_report_action(button, alert.reference) for button in alert.buttons]
    return _card(body, [{"type": "ActionSet", "actions": actions}] if actions else [])


# KCSIE 2024 Part four, section two: staff should feel confident to self-refer; say that they can.
SELF_REFERRAL_HINT = ("A situation of your own that could be misread (a pupil messaged you and you replied) "
                      "can be reported too: choose Something about myself.")


def ask_label(kind_id: str) -> str:
    """The button that starts a request of this kind."""
    return ASK_LABELS.get(kind_id) or f"Ask: {requests.TITLES.get(kind_id, kind_id)}"


def welcome_card(name: str, *, has_roles: bool, asks: Sequence[tuple[str, str]] = ()) -> Card:
    """Said once, when someone adds Safeguard: what it is for, a button to start, and one per request (label, command)."""
    text = (f"Hello {name}. This is Safeguard: report an online-safety concern here in under a minute, and it "
            "reaches the right person under your school's policy. Send me any message, or press the button. "
            f"{SELF_REFERRAL_HINT}")
    actions = [_submit("Report a concern", {KEY: START}, style="positive")]
    actions += [_submit(label, {KEY: REQUEST, "command": command}) for label, command in asks]
    if has_roles:
        text += " Reports sent to you arrive here too, with buttons to acknowledge them."
        actions.append(_submit("My cases", {KEY: CASES}))
    return _card([_lines(text)], [{"type": "ActionSet", "actions": actions}])


@dataclass(frozen=True)
class CaseRow:
    """A case as the list card shows it: its lines, and the buttons its reader may use."""

    reference: str
    lines: Sequence[str]
    buttons: Sequence[ReportButton]


def cases_card(heading: str, rows: Sequence[CaseRow], *, state: str, category: str,
               categories: Sequence[tuple[str, str]], child: str = "", date: str = ANY,
               requests: Sequence[str] = ()) -> Card:
    """Someone's cases (open first), with the filter they chose (menus, a child's name) above them and a Show button.

    Above them, the requests waiting on this person (bot.cases.requests.waiting), one line each:
    their cards in this chat carry the buttons to act on them.
    """
    waiting: list[Element] = [
        _lines("Requests waiting for you", bold=True), _lines("\n".join(requests)),
        _lines("Their cards in this chat have the buttons to act on them.", subtle=True),
    ] if requests else []
    body: list[Element] = [*waiting,
        {"type": "ColumnSet", "columns": [
            {"type": "Column", "items": [_choices(CASES_STATE, STATE_CHOICES, state)]},
            {"type": "Column", "items": [_choices(CASES_CATEGORY, ((ANY, "Any category"), *categories), category)]},
            {"type": "Column", "items": [_choices(CASES_DATE, DATE_CHOICES, date)]},
            {"type": "Column", "items": [{"type": "Input.Text", "id": CASES_CHILD, "value": child,
                                          "placeholder": "Part of a child's name", "maxLength": CHILD_CHARS}]},
        ]},
        {"type": "ActionSet", "actions": [_submit("Show", {KEY: CASES}, inputs=True)]},
        _lines(heading, bold=True),
    ]
    for row in rows[:LISTED_REPORTS]:
        body.append(_lines("\n".join(row.lines)))
        body.append({"type": "ActionSet", "actions": [_report_action(b, row.reference) for b in row.buttons]})
    if len(rows) > LISTED_REPORTS:
        body.append(_lines(f"and {len(rows) - LISTED_REPORTS} more: choose a state or category, or type a child's "
                           "name, to narrow the list.",
                           subtle=True))
    return _card(body, [])


def reassign_card(reference: str, people: Sequence[tuple[str, str]]) -> Card:
    """Whom a report may go to (id, label), a reason, and Reassign."""
    body: list[Element] = [
        _lines(f"Reassign {reference}: its new owner is alerted and asked to acknowledge it; the person who "
               "reported it is not told.", bold=True),
        {"type": "Input.ChoiceSet", "id": REASSIGN_PERSON, "label": "New owner", "isRequired": True,
         "errorMessage": "Choose who should own it.", "choices": [{"title": t, "value": v} for v, t in people]},
        {"type": "Input.Text", "id": REASON_INPUTS["reassign_to"], "label": "Why is it being handed over?",
         "isMultiline": True, "maxLength": 2000, "isRequired": True, "errorMessage": "Please give the reason."},
    ]
    return _card(body, [{"type": "ActionSet", "actions": [
        _submit("Reassign", {KEY: REPORT, "action": "reassign_to", "reference": reference}, inputs=True)]}])


def _choices(ident: str, options: Sequence[tuple[str, str]], chosen: str) -> Element:
    return {"type": "Input.ChoiceSet", "id": ident, "value": chosen,
            "choices": [{"title": title, "value": value} for value, title in options]}


def text_of(cards: Sequence[Card]) -> str:
    """The words of cards (for a notification's preview, and for tests that read what was sent)."""
    words: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "TextRun":
                words.append(str(node.get("text", "")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(list(cards))
    return "\n".join(words)


def _card(body: list[Element], actions: list[Element]) -> Card:
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": VERSION,
        "body": [*body, *actions],
        "msteams": {"width": "Full"},
    }


def _split(body: list[Element], actions: list[Element]) -> list[Card]:
    cards: list[Card] = []
    chunk: list[Element] = []
    size = 0
    for element in body:
        length = len(json.dumps(element))
        if chunk and size + length > CARD_CHARS:
            cards.append(_card(chunk, []))
            chunk, size = [], 0
        chunk.append(element)
        size += length
    cards.append(_card(chunk, actions))
    return cards


def _lines(text: str, *, bold: bool = False, subtle: bool = False, color: str | None = None) -> Element:
    """Text as one TextRun per line (a single line break is not kept by every Teams client)."""
    return _blocks(text, bold=bold, subtle=subtle, color=color)[0]


def _blocks(text: str, *, bold: bool = False, subtle: bool = False, color: str | None = None) -> list[Element]:
    """Text as containers of a line per RichTextBlock, each small enough that `_split` can part them."""
    run: Element = {"type": "TextRun"}
    if bold:
        run["weight"] = "bolder"
    if subtle:
        run["isSubtle"] = True
    if color is not None:
        run["color"] = color
    lines = [line[start:start + BLOCK_CHARS] for line in text.split("\n")
             for start in range(0, max(len(line), 1), BLOCK_CHARS)]
    containers: list[Element] = []
    size = BLOCK_CHARS
    for line in lines:
        if size + len(line) > BLOCK_CHARS:
            containers.append({"type": "Container", "items": []})
            size = 0
        containers[-1]["items"].append(
            {"type": "RichTextBlock", "spacing": "none", "inlines": [{**run, "text": line or " "}]})
        size += len(line)
    return containers


def _reply_blocks(reply: Reply) -> list[Element]:
    text = ("Tip: " if reply.tone is Tone.ADVICE else "") + reply.text
    blocks = _blocks(text, bold=reply.tone is Tone.QUESTION and bool(reply.choices or reply.input in TYPED),
                     color=TONE_COLOR.get(reply.tone))
    style = TONE_STYLE.get(reply.tone)
    if style is not None:
        for block in blocks:
            block["style"] = style
    return blocks


def _inputs(reply: Reply) -> list[Element]:
    """The control a question needs beside its buttons: a text box, a date, or the colleague picker."""
    if reply.input not in TYPED:
        return []
    hint = "Or type your answer as a message."
    if reply.input is InputKind.PERSON:
        people = [c for c in reply.choices if c.id not in STEERING]
        if people and len(people) <= MENU_PEOPLE:
            picker: Element = {
                "type": "Input.ChoiceSet", "id": ANSWER_INPUT, "style": "filtered", "isRequired": True,
                "placeholder": "Choose a colleague", "errorMessage": "Choose a colleague, or type their name.",
                "choices": [{"title": c.label, "value": c.id} for c in people],
            }
            return [picker, _lines("Or type their full name as a message.", subtle=True)]
        box: Element = {"type": "Input.Text", "id": ANSWER_INPUT, "placeholder": "Their full name", "isRequired": True,
                        "errorMessage": "Type their full name."}
        return [box]
    if reply.input is InputKind.DATE:
        return [{"type": "Input.Date", "id": ANSWER_INPUT, "isRequired": True, "errorMessage": "Choose a date."},
                _lines("Or type the date as a message, like 14/03/2026.", subtle=True)]
    box = {"type": "Input.Text", "id": ANSWER_INPUT, "isRequired": True, "errorMessage": "Please type your answer."}
    if reply.input is InputKind.URL:
        box.update(style="Url", placeholder="https://…", isMultiline=True)
    else:
        box.update(isMultiline=reply.max_length is None or reply.max_length > 150, placeholder="Type here")
    if reply.max_length:
        box["maxLength"] = reply.max_length
        hint = f"Or type your answer as a message (up to {reply.max_length:,} characters)."
    return [box, _lines(hint, subtle=True)]


def _actions(reply: Reply) -> list[Element]:
    """The question's buttons: each answer on a row of its own (easy to hit on a phone), then Back and Cancel."""
    field = reply.field
    rows: list[Element] = []
    steering: list[Element] = []
    if reply.input in TYPED:
        rows.append(_row(_submit("Next", {KEY: ANSWER, "field": field}, style="positive", inputs=True)))
    for choice in reply.choices:
        if reply.input is InputKind.PERSON and choice.id not in STEERING:
            continue  # in the picker
        action = _choice(choice, field)
        if choice.id in STEERING:
            steering.append(action)
        else:
            rows.append(_row(action))
    if steering:
        rows.append({"type": "ActionSet", "actions": steering})
    return rows


def _choice(choice: Choice, field: str | None) -> Element:
    style = "positive" if choice.id == "send" else None
    return _submit(choice.label, {KEY: ANSWER, "field": field, "choice": choice.id, "label": choice.label}, style=style)


def _row(action: Element) -> Element:
    return {"type": "ActionSet", "actions": [action]}


def _submit(title: str, data: dict[str, Any], *, style: str | None = None, inputs: bool = False) -> Element:
    action: Element = {"type": "Action.Submit", "title": title, "data": data}
    if style is not None:
        action["style"] = style
    if not inputs:
        action["associatedInputs"] = "none"  # Back or Cancel must not wait for a box to be filled
    return action


def with_report_actions(shown: list[Card], reference: str, buttons: Sequence[ReportButton]) -> list[Card]:
    """Cards with report buttons under the last (the reporter's receipt: "I have something to add")."""
    if not buttons or not shown:
        return shown
    last = shown[-1]
    actions = {"type": "ActionSet", "actions": [_report_action(button, reference) for button in buttons]}
    return [*shown[:-1], {**last, "body": [*last["body"], actions]}]


def _report_action(button: ReportButton, reference: str) -> Element:
    data: dict[str, Any] = {KEY: REPORT, "action": button.action, "reference": reference}
    if button.question is not None:  # an Answer is bound to the question it was sent with
        data["question"] = button.question
    typed = {**NOTE_INPUTS, "reopen": REASON_INPUTS["reopen"], **FOLLOW_UP_INPUTS, **REQUEST_REASONS}
    if button.action not in typed:
        return _submit(button.label, data, style="positive" if button.action == "acknowledge" else None)
    # A note (or why it is reopened, or a decision's reasons) is typed into the alert itself: a card that opens
    # under it, with its own Save.
    field = typed[button.action]
    reasons = button.action in REQUEST_REASONS
    return {"type": "Action.ShowCard", "title": button.label, "card": {
        "type": "AdaptiveCard", "version": VERSION,
        "body": [{"type": "Input.Text", "id": field, "label": NOTE_LABELS[button.action], "isMultiline": True,
                  "maxLength": requests.MAX_REASONS if reasons else 2000, "isRequired": True,
                  "errorMessage": "Please give your reasons." if reasons else "Please type something before saving."}],
        "actions": [{"type": "Action.Submit",
                     "title": button.label if reasons else "Send" if button.action in FOLLOW_UP_INPUTS else "Save",
                     "data": data}],
    }}
