"""The guided request form (routing.requests): one question per field, a summary, then Send.

Platform-free like the report dialog: a turn takes the state and what was typed or pressed
and returns the new state and neutral replies. The form's fields come from the preset, so a
second kind of request is new data, not a new dialog.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dialogs.prompts import BACK, CANCEL, Choice, Command, InputKind, Reply, Tone
from dialogs.request_answers import options_of, read_answer, tick
from dialogs.validation import Invalid, match_choice
from routing.request_form import FieldKind, FormField, asked
from routing.requests import RequestKind

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
    return RequestTurn(state, [_ask(kind, 0, {}, intro=True)])


def answer(kind: RequestKind, state: dict[str, Any], text: str) -> RequestTurn:
    """Take one answer (or Back, Cancel, Send) and move the form on."""
    index = int(state.get("index", 0))
    answers: dict[str, str] = dict(state.get("answers", {}))
    typed = text.strip()
    command = STEERING.get(typed.lower(), typed.lower())
    if index < len(kind.fields) and kind.fields[index].kind is FieldKind.CHOICES:
        # Back and Cancel follow the options and Done, numbered as the console shows them.
        found = match_choice(typed, _ask(kind, index, answers).choices)
        command = found.id if found is not None and found.id in STEERING else command
    if command == Command.CANCEL.value:
        return RequestTurn(state, [Reply("Cancelled: nothing was sent.", tone=Tone.DONE)], cancelled=True)
    if command == Command.BACK.value:
        index = _previous(kind, index, answers)
        return RequestTurn({**state, "index": index}, [_ask(kind, index, answers)])
    if index >= len(kind.fields):  # at the summary
        if command == SEND.id:
            # An answer to a question no longer asked (pupils unticked after giving their ages) is not sent.
            return RequestTurn(state, [], sent={f.id: answers.get(f.id, "") for f in asked(kind.fields, answers)})
        return RequestTurn(state, [Reply("Press Send, Back or Cancel.", tone=Tone.ERROR), _summary(kind, answers)])
    question = kind.fields[index]
    if question.kind is FieldKind.CHOICES:
        ticks = tick(question, answers.get(question.id, ""), typed)
        if isinstance(ticks, Invalid):
            return RequestTurn(state, [Reply(ticks.reason, tone=Tone.ERROR), _ask(kind, index, answers)])
        answers[question.id], finished = ticks
        if not finished:
            return RequestTurn({**state, "answers": answers}, [_ask(kind, index, answers)])
    else:
        kept = read_answer(question, typed)
        if isinstance(kept, Invalid):
            return RequestTurn(state, [Reply(kept.reason, tone=Tone.ERROR), _ask(kind, index, answers)])
        answers[question.id] = kept
    index = _next(kind, index, answers)
    state = {**state, "index": index, "answers": answers}
    if index < len(kind.fields):
        return RequestTurn(state, [_ask(kind, index, answers)])
    return RequestTurn(state, [_summary(kind, answers)])


def _next(kind: RequestKind, index: int, answers: dict[str, str]) -> int:
    """The next question asked after `index` given the answers (len(fields): the summary)."""
    index += 1
    while index < len(kind.fields) and not kind.fields[index].applies(answers):
        index += 1
    return index


def _previous(kind: RequestKind, index: int, answers: dict[str, str]) -> int:
    index -= 1
    while index > 0 and not kind.fields[index].applies(answers):
        index -= 1
    return max(index, 0)


INPUTS = {FieldKind.URL: InputKind.URL, FieldKind.DATE: InputKind.DATE, FieldKind.CHOICES: InputKind.CHOICE}


def _ask(kind: RequestKind, index: int, answers: dict[str, str], *, intro: bool = False) -> Reply:
    question = kind.fields[index]
    shown = asked(kind.fields, answers)
    number = next((n for n, f in enumerate(shown, 1) if f.id == question.id), index + 1)
    optional = len(kind.fields) - len(asked(kind.fields, {}))
    about = f"{len(shown)} questions" + (f" (up to {len(kind.fields)}, as your answers need)" if optional else "")
    lead = f"{kind.title}: {about}, then you check and send it.\n" if intro else ""
    steer = (BACK, CANCEL) if index else (CANCEL,)
    if question.kind is FieldKind.CHOICES:
        hint = " Tick each that applies, then Done (or type their numbers, like 1,3)."
        return Reply(f"{lead}{number}/{len(shown)}. {question.label}?{hint}", input=InputKind.CHOICE,
                     choices=options_of(question, answers.get(question.id, "")) + steer, field=question.id)
    hint = {FieldKind.NAMES: f" (at least {question.minimum}, separated by commas)" if question.minimum > 1 else
            " (separated by commas)", FieldKind.DATE: " (dd/mm/yyyy)"}.get(question.kind, "")
    return Reply(f"{lead}{number}/{len(shown)}. {question.label}{hint}?",
                 input=INPUTS.get(question.kind, InputKind.TEXT), choices=steer, field=question.id,
                 max_length=question.max_length)


def _summary(kind: RequestKind, answers: dict[str, str]) -> Reply:
    lines = [f"{kind.title}: please check it."]
    lines += [f"{f.label}: {f.shown(answers.get(f.id, ''))}" for f in asked(kind.fields, answers)]
    return Reply("\n".join(lines), tone=Tone.SUMMARY, input=InputKind.CONFIRM, choices=(SEND, BACK, CANCEL))
