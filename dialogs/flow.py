"""The report conversation: start(), then handle() each message; it returns replies, channels send them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from dialogs import anonymity, evidence
from dialogs.progress import first_missing, passed_over, walk
from dialogs.prompts import (
    BACK,
    CANCEL,
    KEEP,
    TYPED_COMMANDS,
    Choice,
    Command,
    InputKind,
    Reply,
    Tone,
    cancelled,
    error,
)
from dialogs.questions import Context
from dialogs.report import Colleague, Pupil, ReportDraft
from dialogs.state import Draft, StepId, utc
from dialogs.steps import BY_ID
from dialogs.summary import SEND, build_report, summary_reply
from dialogs.validation import Invalid, loose_match, match_choice, visible

YOUR_ANSWER_LENGTH = 80


@dataclass(frozen=True)
class Cancelled:
    """The reporter cancelled: nothing is sent, and the stored draft can be deleted."""


@dataclass(frozen=True)
class Submitted:
    """The reporter pressed Send: store `report`, then tell them it was sent (stored first: never "sent" before it is)."""

    report: ReportDraft
    # Sent without the reporter's name (dialogs/anonymity.py): only ever where the summary offered it.
    anonymous: bool = False


Outcome = Cancelled | Submitted


@dataclass(frozen=True)
class Turn:
    """What one message did: the draft to keep, the replies to send, and an outcome once it ends."""

    draft: Draft
    replies: list[Reply]
    outcome: Outcome | None = None


def _with(ctx: Context, anonymous_ok: bool) -> Context:
    return replace(ctx, anonymity=anonymous_ok) if anonymous_ok else ctx


def start(now: datetime) -> Turn:
    """A new report, at its first question."""
    draft = Draft.new(now)
    return Turn(draft, _ask(draft, Context({})))


def handle(
    draft: Draft, user_input: str, *, now: datetime, today: date, colleagues: Sequence[Colleague] = (),
    pupils: Sequence[Pupil] = (), anonymous_ok: bool = False,
) -> Turn:
    """Take one message (a choice id or typed text) and move the conversation on.

    On Send the turn has no replies and the draft is left at the summary: the caller
    stores the report, then says it was sent (prompts.sent()), so a failed store can
    be retried from the same draft. `anonymous_ok`: the school can send a report without its
    reporter's name (it has a relay key), so the summary offers it where the report may go so.
    """
    now = utc(now)
    # Whatever a person sends, every question reads (and the report keeps) only what can be seen.
    user_input = visible(user_input)
    path, ctx = walk(draft.answers, colleagues, today, pupils, draft.evidence)
    ctx = _with(ctx, anonymous_ok)
    step = _current(draft.step, path, ctx)
    if step is not draft.step:
        # The stored step no longer fits its answers (say, the directory changed): ask what is missing.
        moved = replace(draft, step=step, updated_at=now)
        return Turn(moved, _ask(moved, ctx))
    offered = _question(draft, ctx).choices
    chosen = match_choice(user_input, offered)
    options = _options(step, ctx)
    if chosen is None and step is not StepId.SUMMARY and BY_ID[step].input is InputKind.CHOICE:
        # Typed words that name one option ("friend"); never a steering command like Cancel.
        chosen = loose_match(user_input, options)
    command = None
    if chosen is None:
        command = TYPED_COMMANDS.get(" ".join(user_input.split()).casefold())
    elif chosen not in options and chosen.id in set(Command):
        command = Command(chosen.id)
    kept = ctx.answers.get(step)
    if command is Command.KEEP and kept is not None:
        answer = kept
    elif command is not None:
        return _command(command, draft, ctx, path, now)
    elif step is StepId.SUMMARY:
        if chosen == SEND:
            return Turn(draft, [], Submitted(build_report(ctx)))
        if anonymity.offered(ctx) and (chosen == anonymity.SEND_WITHOUT_NAME or anonymity.asked(user_input)):
            return Turn(draft, [], Submitted(build_report(ctx), anonymous=True))
        if anonymity.asked(user_input):
            return _refuse(draft, ctx, anonymity.answer(ctx))
        return _refuse(draft, ctx, "Please choose Send, Change something or Cancel.")
    elif chosen is None and BY_ID[step].input is InputKind.CHOICE and anonymity.asked(user_input):
        # Asked before the end: say at once whether it can be, and why not if not.
        return _refuse(draft, ctx, anonymity.answer(ctx))
    else:
        parsed = BY_ID[step].parse(user_input, chosen if chosen in options else None, ctx)
        if isinstance(parsed, Invalid):
            return _refuse(draft, ctx, parsed.reason)
        answer = parsed
    answers = {**draft.answers, step: answer}
    shots = evidence.settle(draft.evidence, answers)
    path, after = walk(answers, colleagues, today, pupils, shots)
    after = _with(after, anonymous_ok)
    if StepId.EVIDENCE not in path and shots.count:
        # The screenshots step is no longer asked (a new category): its screenshots go with it.
        shots = replace(shots, count=0)
        after = replace(after, evidence=shots)
    following = first_missing(path, after)
    moved = Draft(
        step=following,
        started_at=draft.started_at,
        updated_at=now,
        answers=dict(after.answers),
        history=(*draft.history, step, *passed_over(path, step, following)),
        reminded_at=draft.reminded_at,
        evidence=shots,
        school=draft.school,
    )
    return Turn(moved, [*BY_ID[step].after(answer, after), *_ask(moved, after)])


def attached(
    draft: Draft, *, now: datetime, colleagues: Sequence[Colleague] = (), pupils: Sequence[Pupil] = (),
    anonymous_ok: bool = False,
) -> Turn:
    """A screenshot was taken in (checked and stored by the caller, see evidence.image_arrives): count it, ask again."""
    assert draft.step is StepId.EVIDENCE, "screenshots are taken only at the screenshots step"
    moved = replace(draft, evidence=evidence.count_taken(draft.evidence), updated_at=utc(now))
    _, ctx = walk(moved.answers, colleagues, None, pupils, moved.evidence)
    return Turn(moved, [evidence.received(moved.evidence), _question(moved, _with(ctx, anonymous_ok))])


def resume(draft: Draft, *, colleagues: Sequence[Colleague] = (), pupils: Sequence[Pupil] = (),
           anonymous_ok: bool = False) -> list[Reply]:
    """The current question again, to carry on where the reporter left off."""
    path, ctx = walk(draft.answers, colleagues, None, pupils, draft.evidence)
    ctx = _with(ctx, anonymous_ok)
    step = _current(draft.step, path, ctx)
    return _ask(replace(draft, step=step), ctx)


def _command(command: Command, draft: Draft, ctx: Context, path: list[StepId], now: datetime) -> Turn:
    if command is Command.CANCEL:
        return Turn(draft, [cancelled()], Cancelled())
    if command is Command.START_AGAIN:
        fresh = replace(Draft.new(now), school=draft.school)  # starting again keeps the school chosen
        empty = Context({}, ctx.colleagues, ctx.today, ctx.pupils)
        return Turn(fresh, [Reply("Starting again. Nothing was sent.", tone=Tone.DONE), *_ask(fresh, empty)])
    if command is Command.RESUME:
        touched = replace(draft, updated_at=now)
        return Turn(touched, _ask(touched, ctx))
    if command is Command.KEEP:
        return _refuse(draft, ctx, "There is no answer to keep yet.")
    # Back: the answers stay, so the reporter can change just the one they went back for.
    history = list(draft.history)
    while history and history[-1] not in path:
        history.pop()
    if not history:
        return _refuse(draft, ctx, "This is the first question.")
    previous = history.pop()
    moved = replace(draft, step=previous, history=tuple(history), updated_at=now)
    return Turn(moved, _ask(moved, ctx))


def _current(step: StepId, path: list[StepId], ctx: Context) -> StepId:
    if step is StepId.SUMMARY or step not in path:
        return first_missing(path, ctx)
    return step


def _refuse(draft: Draft, ctx: Context, reason: str) -> Turn:
    """Why the answer was not taken, then the same question; the draft is unchanged."""
    return Turn(draft, [error(reason), _question(draft, ctx)])


def _ask(draft: Draft, ctx: Context) -> list[Reply]:
    """The current question afresh, with anything to be said before it."""
    before = [] if draft.step is StepId.SUMMARY else BY_ID[draft.step].before()
    return [*before, _question(draft, ctx)]


def _options(step: StepId, ctx: Context) -> tuple[Choice, ...]:
    return () if step is StepId.SUMMARY else BY_ID[step].options(ctx)


def _question(draft: Draft, ctx: Context) -> Reply:
    """The reply that asks the current question, offering Keep, Back and Cancel where they make sense."""
    if draft.step is StepId.SUMMARY:
        return summary_reply(ctx)
    question = BY_ID[draft.step]
    text = question.text(ctx)
    steering: list[Choice] = []
    kept = ctx.answers.get(draft.step)
    if kept is not None:
        shown = " ".join(kept.shown.split())
        if len(shown) > YOUR_ANSWER_LENGTH:
            shown = shown[: YOUR_ANSWER_LENGTH - 3] + "..."
        text += f"\nYour answer: {shown}"
        steering.append(KEEP)
    if draft.history:
        steering.append(BACK if question.back_label is None else Choice(BACK.id, question.back_label))
    steering.append(CANCEL)
    return Reply(
        text,
        tone=Tone.QUESTION,
        input=question.input,
        choices=(*question.options(ctx), *steering),
        field=draft.step.value,
        max_length=question.max_length,
    )
