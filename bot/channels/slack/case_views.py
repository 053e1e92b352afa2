"""Views of a person's cases: the App Home's case list with its filter, and the reassign and reopen modals."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.app import App
from bot.cases import case_list
from bot.cases.access import Action
from bot.cases.case_list import CHILD_CHARS, Case, CaseFilter, CategoryIs, ChildNamed, StateIs
from bot.cases.handover import Candidate
from bot.cases.lifecycle import REASON_LENGTH
from bot.channels.slack.blocks import Block, escape, plain_text, sections
from bot.channels.slack.ids import (
    CASES_CHILD_BLOCK,
    CASES_FILTER_BLOCK,
    PERSON_BLOCK,
    PERSON_INPUT,
    REASON_BLOCK,
    REASON_INPUT,
    ActionId,
    CallbackId,
)
from routing.vocabulary import Category

# A view holds 100 blocks; each case takes two, and the top of the home (with the filter) about a dozen.
HOME_ROWS = 40
TITLE_CHARS = 24
ANY = "all"
STATE_OPTIONS = (("open", "Open"), ("unacknowledged", "Not yet acknowledged"), ("acknowledged", "Acknowledged"),
                 ("closed", "Closed"), (ANY, "Any state"))
CATEGORY_OPTIONS = ((ANY, "Any category"), *((c.value, case_list.CATEGORY_NAMES[c]) for c in Category))


@dataclass(frozen=True)
class CaseTarget:
    """What a reassign or reopen modal acts on: the report, and where to answer the person who opened it."""

    reference: str
    channel: str | None
    response_url: str | None = None

    def dump(self) -> str:
        """As the modal's private_metadata."""
        return json.dumps({"ref": self.reference, "channel": self.channel, "respond": self.response_url})

    @classmethod
    def load(cls, metadata: str) -> CaseTarget | None:
        """From a modal's private_metadata; None if it is not ours."""
        try:
            data = json.loads(metadata)
            channel, respond = data.get("channel"), data.get("respond")
            return cls(str(data["ref"]), channel if isinstance(channel, str) else None,
                       respond if isinstance(respond, str) and respond else None)
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            return None


def case_blocks(app: App, cases: Sequence[Case], wanted: CaseFilter) -> list[Block]:
    """The App Home's case list: the filter menus and child box, then each case with the buttons its reader may use."""
    blocks: list[Block] = [{"type": "actions", "block_id": CASES_FILTER_BLOCK, "elements": [
        _menu(ActionId.CASES_STATE, "State", STATE_OPTIONS, _chosen(wanted, "state")),
        _menu(ActionId.CASES_CATEGORY, "Category", CATEGORY_OPTIONS, _chosen(wanted, "category")),
        _menu(ActionId.CASES_DATE, "Reported", case_list.DATE_CHOICES, _date_chosen(app, wanted)),
    ]}, _child_box(wanted)]
    blocks.append(_context(case_list.heading(cases, wanted)))
    for case in cases[:HOME_ROWS]:
        lines = case_list.entry(app, case)
        blocks += sections(f"*{escape(lines[0])}*\n" + escape("\n".join(lines[1:])))
        blocks.append({"type": "actions", "block_id": f"sg_home:{case.reference}",
                       "elements": [_button(action, label, case.reference) for action, label in (
                           (ActionId.ACKNOWLEDGE, "Acknowledge"), (ActionId.VIEW, "View log"),
                           (ActionId.REASSIGN, "Reassign"), (ActionId.REOPEN, "Reopen"),
                       ) if case.can(_RIGHTS[action])]})
    if len(cases) > HOME_ROWS:
        blocks.append(_context(f"And {len(cases) - HOME_ROWS} more: choose a state or category, or type a child's "
                               "name, to narrow the list."))
    return blocks


def filter_words(body: dict[str, Any]) -> str:
    """The case filter the App Home's menus now say, as words for bot.cases.case_list.parse_filter."""
    view = _dict(body.get("view"))
    chosen: dict[str, str] = {}
    for block in view.get("blocks") or []:  # what the menus showed when the home was published
        if isinstance(block, dict) and block.get("block_id") == CASES_FILTER_BLOCK:
            for element in block.get("elements") or []:
                option = _dict(_dict(element).get("initial_option"))
                chosen[str(_dict(element).get("action_id"))] = str(option.get("value", ANY))
    values = _dict(_dict(_dict(view.get("state")).get("values")).get(CASES_FILTER_BLOCK))
    changed = [{"action_id": key, **_dict(value)} for key, value in values.items()]
    for action in [*changed, *(body.get("actions") or [])]:  # changed since, then the menu just changed
        option = _dict(_dict(action).get("selected_option"))
        if option.get("value"):
            chosen[str(_dict(action).get("action_id"))] = str(option["value"])
    menus = [value for key, value in chosen.items()
             if value != ANY and key in (ActionId.CASES_STATE, ActionId.CASES_CATEGORY, ActionId.CASES_DATE)]
    child = " ".join(_child_typed(view, body).split())
    return " ".join([*menus, *(["child", child] if child else [])])  # the child's name last: it takes the rest


def _child_typed(view: dict[str, Any], body: dict[str, Any]) -> str:
    """What the child box says: just entered, else typed since the home was published, else as published."""
    for action in body.get("actions") or []:
        if _dict(action).get("action_id") == ActionId.CASES_CHILD:
            return str(_dict(action).get("value") or "")
    values = _dict(_dict(view.get("state")).get("values"))
    for block_id, inputs in values.items():
        typed = _dict(_dict(inputs).get(ActionId.CASES_CHILD))
        if str(block_id).startswith(CASES_CHILD_BLOCK) and "value" in typed:
            return str(typed["value"] or "")
    for block in view.get("blocks") or []:
        if isinstance(block, dict) and str(block.get("block_id", "")).startswith(CASES_CHILD_BLOCK):
            return str(_dict(block.get("element")).get("initial_value") or "")
    return ""


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def reassign_modal(target: CaseTarget, candidates: Sequence[Candidate]) -> Block:
    """Who should own the report now (those it may go to), and why."""
    options = [{"text": plain_text(f"{c.person.name} ({c.role_name})"), "value": c.person.id}
               for c in candidates[:100]]
    return {
        "type": "modal", "callback_id": CallbackId.REASSIGN, "private_metadata": target.dump(),
        "title": plain_text("Reassign", TITLE_CHARS), "submit": plain_text("Reassign", TITLE_CHARS),
        "close": plain_text("Cancel", TITLE_CHARS),
        "blocks": [
            *sections(f"Hand *{escape(target.reference)}* to another owner. They are alerted and asked to acknowledge "
                      "it; the person who reported it is not told."),
            {"type": "input", "block_id": PERSON_BLOCK, "label": plain_text("New owner"),
             "element": {"type": "static_select", "action_id": PERSON_INPUT, "options": options,
                         "placeholder": plain_text("Choose who")}},
            _reason_input("Why is it being handed over?"),
        ],
    }


def reopen_modal(target: CaseTarget) -> Block:
    """Why a closed report is being reopened."""
    return {
        "type": "modal", "callback_id": CallbackId.REOPEN, "private_metadata": target.dump(),
        "title": plain_text("Reopen", TITLE_CHARS), "submit": plain_text("Reopen", TITLE_CHARS),
        "close": plain_text("Cancel", TITLE_CHARS),
        "blocks": [
            *sections(f"Reopen *{escape(target.reference)}*. Its owner is told; the person who reported it is not."),
            _reason_input("Why is it being reopened?"),
        ],
    }


_RIGHTS = {ActionId.ACKNOWLEDGE: Action.ACKNOWLEDGE, ActionId.VIEW: Action.VIEW, ActionId.REASSIGN: Action.REASSIGN,
           ActionId.REOPEN: Action.REOPEN}


def _reason_input(label: str) -> Block:
    return {"type": "input", "block_id": REASON_BLOCK, "label": plain_text(label, 2000),
            "element": {"type": "plain_text_input", "action_id": REASON_INPUT, "multiline": True,
                        "max_length": REASON_LENGTH}}


def _chosen(wanted: CaseFilter, kind: str) -> str:
    found = wanted.get(kind)
    if isinstance(found, StateIs):
        return found.name
    if isinstance(found, CategoryIs):
        return found.category
    return ANY


def _date_chosen(app: App, wanted: CaseFilter) -> str:
    """The date menu's option for the filter's dates: the one whose words give the same criterion."""
    found = wanted.get("date")
    for value, _ in case_list.DATE_CHOICES:
        read = case_list.parse_filter(app, value) if value != ANY else None
        if isinstance(read, CaseFilter) and found is not None and read.get("date") == found:
            return value
    return ANY


def _child_box(wanted: CaseFilter) -> Block:
    """Part of a child's name; Slack sends it when the reader presses enter."""
    found = wanted.get("child")
    box: Block = {"type": "plain_text_input", "action_id": ActionId.CASES_CHILD, "max_length": CHILD_CHARS,
                  "placeholder": plain_text("Part of a child's name, then enter"),
                  "dispatch_action_config": {"trigger_actions_on": ["on_enter_pressed"]}}
    if isinstance(found, ChildNamed):
        box["initial_value"] = found.text
    # Slack keeps what was typed in an input whose block_id stays the same when a view is published
    # again: a box named after the filter's child shows what the list is filtered by, never a name
    # left over from before (a Home reset to "open" after a reassign, say).
    shown = found.text if isinstance(found, ChildNamed) else ""
    block_id = f"{CASES_CHILD_BLOCK}:{hashlib.sha256(shown.encode()).hexdigest()[:12]}"
    return {"type": "input", "block_id": block_id, "dispatch_action": True, "optional": True,
            "label": plain_text("Child"), "element": box}


def _menu(action_id: str, placeholder: str, options: Sequence[tuple[str, str]], chosen: str) -> Block:
    listed = [{"text": plain_text(label), "value": value} for value, label in options]
    menu: Block = {"type": "static_select", "action_id": action_id, "placeholder": plain_text(placeholder),
                   "options": listed}
    initial = next((option for option in listed if option["value"] == chosen), None)
    if initial is not None:
        menu["initial_option"] = initial
    return menu


def _button(action_id: str, label: str, reference: str) -> Block:
    button: Block = {"type": "button", "action_id": action_id, "text": plain_text(label), "value": reference}
    if action_id == ActionId.ACKNOWLEDGE:
        button["style"] = "primary"
    return button


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": escape(text)}]}
