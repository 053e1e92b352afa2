"""The guided request form (routing.requests): one question per field, a summary, then Send.

Platform-free like the report dialog: a turn takes the state and what was typed or pressed
and returns the new state and neutral replies. The form's fields come from the preset, so a
second kind of request is new data, not a new dialog.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from dialogs.prompts import BACK, CANCEL, Choice, Command, InputKind, Reply, Tone
from routing.requests import FieldKind, FormField, RequestKind

SEND = Choice("send", "Send")
STEERING = {"back": Command.BACK.value, "cancel": Command.CANCEL.value}


@dataclass(frozen=True)
class RequestTurn:
    """What one turn of the form gives: the state to keep, what to say, and whether it was sent or cancelled."""

    state: dict[str, Any]
    replies: list[Reply]
    sent: dict[str, str] | None = None  # the answers, when Send was pressed
    cancelled: bool = False


def begin(kind: RequestKind, school: str | None = None) -> RequestTurn:
    """A new form at its first question."""
    state: dict[str, Any] = {"kind": kind.id, "school": school, "index": 0, "answers": {}}
    return RequestTurn(state, [_ask(kind, 0, intro=True)])


def answer(kind: RequestKind, state: dict[str, Any], text: str) -> RequestTurn:
    """Take one answer (or Back, Cancel, Send) and move the form on."""
    index = int(state.get("index", 0))
    answers: dict[str, str] = dict(state.get("answers", {}))
    typed = text.strip()
    command = STEERING.get(typed.lower(), typed.lower())
    if command == Command.CANCEL.value:
        return RequestTurn(state, [Reply("Cancelled: nothing was sent.", tone=Tone.DONE)], cancelled=True)
    if command == Command.BACK.value:
        index = max(index - 1, 0)
        return RequestTurn({**state, "index": index}, [_ask(kind, index)])
    if index >= len(kind.fields):  # at the summary
        if command == SEND.id:
            return RequestTurn(state, [], sent=answers)
        return RequestTurn(state, [Reply("Press Send, Back or Cancel.", tone=Tone.ERROR), _summary(kind, answers)])
    asked = kind.fields[index]
    problem = invalid(asked, typed)
    if problem is not None:
        return RequestTurn(state, [Reply(problem, tone=Tone.ERROR), _ask(kind, index)])
    answers[asked.id] = typed
    index += 1
    state = {**state, "index": index, "answers": answers}
    if index < len(kind.fields):
        return RequestTurn(state, [_ask(kind, index)])
    return RequestTurn(state, [_summary(kind, answers)])


def invalid(asked: FormField, typed: str) -> str | None:
    """Why an answer cannot stand (one line), or None."""
    if not typed:
        return f"Please give the {asked.label.lower()}: it cannot be empty."
    if len(typed) > asked.max_length:
        return f"That is {len(typed)} characters. Please keep it to {asked.max_length}."
    if asked.kind is FieldKind.URL:
        if any(c.isspace() for c in typed):
            return "Please give one address, with no spaces, like https://example.org/page."
        parts = urlsplit(typed)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname or "." not in parts.hostname:
            return "That is not a web address. Please give the full URL, starting http:// or https://."
    return None


def _ask(kind: RequestKind, index: int, *, intro: bool = False) -> Reply:
    asked = kind.fields[index]
    lead = f"{kind.title}: {len(kind.fields)} questions, then you check and send it.\n" if intro else ""
    return Reply(f"{lead}{index + 1}/{len(kind.fields)}. {asked.label}?",
                 input=InputKind.URL if asked.kind is FieldKind.URL else InputKind.TEXT,
                 choices=(BACK, CANCEL) if index else (CANCEL,), field=asked.id, max_length=asked.max_length)


def _summary(kind: RequestKind, answers: dict[str, str]) -> Reply:
    lines = [f"{kind.title}: please check it."]
    lines += [f"{f.label}: {answers.get(f.id, '')}" for f in kind.fields]
    return Reply("\n".join(lines), tone=Tone.SUMMARY, input=InputKind.CONFIRM, choices=(SEND, BACK, CANCEL))
