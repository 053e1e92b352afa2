"""Block Kit for Safeguard's neutral replies and alerts (dialogs return replies; channels render them).

Replies, which carry what people typed (a report's words, its notes), are sent as plain_text,
which Slack shows exactly as written: a reporter who types `<!channel>`, `<http://x|y>` or
`*Acknowledged*` cannot ping the workspace, forge a link or fake a line of the DSL's view of the
report. What is sent as mrkdwn (an alert's bold heading) goes through `escape` first. The
notification text (`text` beside the blocks: the lock screen and the notification) is the
message's preview from bot.cases.preview, never its content.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.cases import preview
from bot.cases.messages import Alert, ReportButton
from bot.channels.slack.ids import REPORT_ACTIONS, ActionId
from dialogs import Choice, InputKind, Reply, Tone
from dialogs.prompts import Command

Block = dict[str, Any]

# As characters, not :shortcodes:: plain_text shows a typed `:warning:` as typed, so it cannot pass for ours.
TONE_MARK = {Tone.ERROR: "\u26a0\ufe0f ", Tone.WARNING: "\U0001f6a8 ", Tone.ADVICE: "\U0001f4a1 "}
TYPED = {InputKind.TEXT, InputKind.URL, InputKind.DATE, InputKind.PERSON}
STEERING = set(Command)
# Block Kit's limits (api.slack.com/reference/block-kit): text per section, elements per
# actions block, options per menu, characters per button or option label.
SECTION_CHARS = 3000
ACTIONS_PER_BLOCK = 25
MENU_OPTIONS = 100
LABEL_CHARS = 75
QUESTION_BLOCK = "sg_q"  # block_id prefix of a question's buttons: sg_q:<field>:<reply>:<n>
SLACK_MARKUP = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")


@dataclass(frozen=True)
class Message:
    """A message as chat.postMessage takes it: the notification text and the blocks."""

    text: str
    blocks: list[Block]


def escape(text: str) -> str:
    """Text that Slack shows literally: no mention, channel ping or link can hide in it."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def from_slack(text: str) -> str:
    """A message as its author typed it: Slack's links and mentions back to words, then unescaped.

    Slack sends a typed `example.org` as `<http://example.org|example.org>` and `@channel` as
    `<!channel>`; the report keeps what the person wrote, the same on every channel. A link
    whose words differ from its address keeps both: the address may be the evidence.
    """
    def plain(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("!"):
            return label or "@" + target[1:].split("^")[0]
        if target[:1] in ("@", "#"):
            return target[0] + label if label else target
        if not label or label == target.split("://", 1)[-1].removeprefix("mailto:"):
            return label or target
        return f"{label} ({target})"

    return SLACK_MARKUP.sub(plain, text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def typed_in(body: dict[str, Any], block: str, input_id: str) -> str:
    """What was typed into a submitted modal's text input `input_id` of `block` ("" for nothing)."""
    values = ((body.get("view") or {}).get("state") or {}).get("values") or {}
    return str(((values.get(block) or {}).get(input_id) or {}).get("value") or "")


def plain_text(text: str, limit: int = LABEL_CHARS) -> dict[str, Any]:
    """A plain_text object (never parsed for mentions), cut to `limit` characters."""
    shown = text if len(text) <= limit else text[: limit - 1] + "…"
    return {"type": "plain_text", "text": shown, "emoji": True}


def sections(mrkdwn: str) -> list[Block]:
    """Already-escaped mrkdwn as sections of at most 3,000 characters, split at line ends."""
    return [_section(chunk) for chunk in _chunks(mrkdwn, escaped=True)]


def literal_sections(text: str) -> list[Block]:
    """Text shown exactly as written (no markup, mention, link or :emoji: read in it), in sections Slack accepts."""
    return [{"type": "section", "text": {"type": "plain_text", "text": chunk, "emoji": False}}
            for chunk in _chunks(text, escaped=False)]


def _chunks(text: str, *, escaped: bool) -> list[str]:
    """`text` in pieces of at most 3,000 characters, split at line ends where it can be."""
    chunks: list[str] = []
    chunk = ""
    for line in text.split("\n"):
        while len(line) > SECTION_CHARS:
            if chunk:
                chunks.append(chunk)
                chunk = ""
            cut = SECTION_CHARS
            if escaped:  # never split inside an escape such as &amp;: back up to the last '&' if one is cut
                amp = line.rfind("&", cut - 5, cut)
                cut = amp if amp > 0 and ";" not in line[amp:cut] else cut
            chunks.append(line[:cut])
            line = line[cut:]
        candidate = f"{chunk}\n{line}" if chunk else line
        if len(candidate) > SECTION_CHARS:
            chunks.append(chunk)
            candidate = line
        chunk = candidate
    if chunk or not chunks:
        chunks.append(chunk or " ")
    return chunks


def render(replies: Sequence[Reply]) -> Message:
    """A turn's replies as one message: each reply's text, then its buttons or colleague menu."""
    blocks: list[Block] = []
    for index, reply in enumerate(replies):
        blocks += literal_sections(TONE_MARK.get(reply.tone, "") + reply.text)
        block_id = f"{QUESTION_BLOCK}:{reply.field or '-'}:{index}"
        if reply.input is InputKind.PERSON:
            people = [c for c in reply.choices if c.id not in STEERING]
            if people:
                blocks.append({"type": "actions", "block_id": f"{block_id}:menu", "elements": [_person_menu(people)]})
            blocks += _buttons([c for c in reply.choices if c.id in STEERING], block_id)
        else:
            blocks += _buttons(list(reply.choices), block_id)
        if reply.input in TYPED:
            blocks.append(_context(_typing_hint(reply)))
    return Message(notification(preview.of_replies(replies)), blocks)


def answered(blocks: Iterable[Block], label: str) -> list[Block]:
    """A question message once answered: its buttons gone, the answer shown under it."""
    kept = [b for b in blocks if not str(b.get("block_id", "")).startswith(QUESTION_BLOCK) and b.get("type") != "context"]
    return [*kept, _context(f":ballot_box_with_check: {escape(label)}")]


def question_field(block_id: str) -> str | None:
    """The dialog field a question's button answers ('-' in the block id: none)."""
    parts = block_id.split(":")
    if len(parts) < 2 or parts[0] != QUESTION_BLOCK or parts[1] == "-":
        return None
    return parts[1]


def alert_message(alert: Alert) -> Message:
    """An alert: its heading in bold, its lines, then its buttons.

    The lines are shown literally: they carry a child's name and words as the reporter typed them.
    """
    heading, _, rest = alert.text.partition("\n")
    mark = ":rotating_light: " if alert.urgent else ""
    blocks = sections(f"{mark}*{escape(heading)}*") + (literal_sections(rest) if rest else [])
    if alert.buttons:
        blocks.append({
            "type": "actions", "block_id": f"sg_alert:{alert.reference}",
            "elements": [_report_button(button, alert.reference) for button in alert.buttons],
        })
    return Message(notification(alert.preview), blocks)


def notification(shown: str) -> str:
    """The notification text of a message: its preview (Slack reads it as mrkdwn too, so escaped)."""
    return escape(shown)


def _section(mrkdwn: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}


def _context(mrkdwn: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": mrkdwn}]}


def _typing_hint(reply: Reply) -> str:
    limit = f" (up to {reply.max_length:,} characters)" if reply.max_length else ""
    if reply.input is InputKind.PERSON:
        return "Or type their full name as a message."
    if reply.input is InputKind.DATE:
        return "Or type the date as a message, like 14/03/2026."
    return f"Type your answer as a message{limit}."


def _buttons(choices: Sequence[Choice], block_id: str) -> list[Block]:
    blocks = []
    for start in range(0, len(choices), ACTIONS_PER_BLOCK):
        elements = []
        for number, choice in enumerate(choices[start:start + ACTIONS_PER_BLOCK], start):
            button: Block = {
                "type": "button", "action_id": f"{ActionId.CHOICE}_{number}",
                "text": plain_text(choice.label), "value": choice.id,
            }
            if choice.id == "send":
                button["style"] = "primary"
            elements.append(button)
        blocks.append({"type": "actions", "block_id": f"{block_id}:{start}", "elements": elements})
    return blocks


def _person_menu(people: Sequence[Choice]) -> Block:
    menu: Block = {
        "type": "static_select", "action_id": ActionId.PERSON,
        "placeholder": plain_text("Choose a colleague"),
    }
    if len(people) <= MENU_OPTIONS:
        menu["options"] = [_option(c) for c in people]
        return menu
    # A menu holds 100 options; a large staff is grouped by initial, 100 to a group.
    groups: dict[str, list[Choice]] = {}
    for choice in sorted(people, key=lambda c: c.label.casefold()):
        groups.setdefault(choice.label[:1].upper() or "?", []).append(choice)
    menu["option_groups"] = [
        {"label": plain_text(initial if len(members) <= MENU_OPTIONS else f"{initial} ({start // MENU_OPTIONS + 1})"),
         "options": [_option(c) for c in members[start:start + MENU_OPTIONS]]}
        for initial, members in groups.items()
        for start in range(0, len(members), MENU_OPTIONS)
    ][:MENU_OPTIONS]
    return menu


def _option(choice: Choice) -> Block:
    return {"text": plain_text(choice.label), "value": choice.id}


def with_buttons(message: Message, reference: str, buttons: Sequence[ReportButton]) -> Message:
    """A message with report buttons under it (the reporter's receipt: "I have something to add")."""
    if not buttons:
        return message
    row = {"type": "actions", "block_id": f"sg_news:{reference}",
           "elements": [_report_button(button, reference) for button in buttons]}
    return Message(message.text, [*message.blocks, row])


def _report_button(button: ReportButton, reference: str) -> Block:
    # An Answer names its question too (REF#12): an answer is bound to the question it was sent with.
    value = reference if button.question is None else f"{reference}#{button.question}"
    element: Block = {
        "type": "button", "action_id": REPORT_ACTIONS[button.action],
        "text": plain_text(button.label), "value": value,
    }
    if button.action == "acknowledge":
        element["style"] = "primary"
    return element
