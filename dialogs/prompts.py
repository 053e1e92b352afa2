"""Neutral replies: what a step says, as data each channel renders its own way (never markup)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class InputKind(StrEnum):
    """What kind of answer a reply waits for, so a channel can pick the right control."""

    CHOICE = "choice"
    TEXT = "text"
    URL = "url"
    DATE = "date"
    PERSON = "person"
    CONFIRM = "confirm"
    NONE = "none"


class Tone(StrEnum):
    """How a reply should look: a question, advice, a warning, an error, the summary, or done."""

    QUESTION = "question"
    ADVICE = "advice"
    WARNING = "warning"
    ERROR = "error"
    SUMMARY = "summary"
    DONE = "done"


class Command(StrEnum):
    """Choice ids that steer the conversation instead of answering a question."""

    BACK = "back"
    CANCEL = "cancel"
    START_AGAIN = "start_again"
    KEEP = "keep"
    RESUME = "resume"


@dataclass(frozen=True)
class Choice:
    """One option: a stable id the channel sends back, and a short label (a button on a phone)."""

    id: str
    label: str

    def __post_init__(self) -> None:
        # Ids are stored in drafts and sent back by channels: keep them plain strings, not enums.
        object.__setattr__(self, "id", str(self.id))


@dataclass(frozen=True)
class Reply:
    """One message to the reporter; `field` names the question it asks, if it asks one."""

    text: str
    tone: Tone = Tone.QUESTION
    input: InputKind = InputKind.NONE
    choices: tuple[Choice, ...] = ()
    field: str | None = None
    max_length: int | None = None
    # What a locked phone shows of it (bot.cases.preview words it); None: bot.cases.preview derives it from the reply's kind.
    preview: str | None = None


BACK = Choice(Command.BACK, "Back")
CANCEL = Choice(Command.CANCEL, "Cancel")
KEEP = Choice(Command.KEEP, "Keep my answer")
CARRY_ON = Choice(Command.RESUME, "Carry on")
YES = Choice("yes", "Yes")
NO = Choice("no", "No")
YES_NO = (YES, NO)

# Typed words that steer the conversation on any step, even where no button offers them.
TYPED_COMMANDS: dict[str, Command] = {
    "back": Command.BACK,
    "cancel": Command.CANCEL,
    "start again": Command.START_AGAIN,
    "start_again": Command.START_AGAIN,
    "restart": Command.START_AGAIN,
    "resume": Command.RESUME,
    "carry on": Command.RESUME,
}


def cancelled() -> Reply:
    """The short confirmation after Cancel."""
    return Reply("Cancelled. Nothing was sent.", tone=Tone.DONE)


def sent() -> Reply:
    """What a channel says once the submitted report is stored (stored, then "sent", never the other way round)."""
    return Reply("Thank you. Your report has been sent.", tone=Tone.DONE)


def error(text: str) -> Reply:
    """Why an answer was not accepted; the question follows it."""
    return Reply(text, tone=Tone.ERROR)


def advice(text: str) -> Reply:
    """Advice at the moment it helps."""
    return Reply(text, tone=Tone.ADVICE)
