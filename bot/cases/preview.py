"""What a locked phone and a chat list show of a message: a reference and what is asked, nothing more.

Slack's notification text and Teams' `summary` are read by whoever holds or glances at the
phone, so they never carry a name, a word anyone typed, or what a report is about (its
category, its flags, whether it is an allegation). Every channel takes its preview from here;
the message itself keeps its content. A preview is built only from a reference and fixed
words, never from a message's text.
"""

from __future__ import annotations

from collections.abc import Sequence

from dialogs import Reply, Tone
from dialogs.prompts import Command
from dialogs.state import StepId

BRAND = "Safeguard"

# What a reply of each tone asks, when nothing more specific was set (a dialog's own replies).
BY_TONE = {
    Tone.QUESTION: "a question about your report",
    Tone.ADVICE: "advice about your report",
    Tone.WARNING: "important: please read this message",
    Tone.ERROR: "please read this message",
    Tone.SUMMARY: "details of a report",
    Tone.DONE: "an update",
}
CHECK_REPORT = "please check your report before it is sent"
UNFINISHED = "you have a report you haven't finished"
WELCOME = "welcome"
OPEN_REPORTS = "your open reports"
DIGEST = "your weekly digest"


def line(what: str, reference: str | None = None) -> str:
    """A preview: `Safeguard: <what is asked> (<reference>)`."""
    return f"{BRAND}: {what}" + (f" ({reference})" if reference else "")


def new_alert(reference: str, *, owner: bool, escalated: bool, urgent: bool, acknowledged: bool) -> str:
    """An alert to someone a report was routed (or escalated) to."""
    if acknowledged:
        return line("a report, now acknowledged", reference)
    # "Urgent" says how soon, not why: it is what the reader is asked (a child at immediate risk: within 15 minutes).
    kind = ("an urgent " if urgent else "an " if escalated else "a ") + ("escalated report" if escalated else "new report")
    return line(f"{kind} for you to acknowledge" if owner or escalated else f"{kind} for your information", reference)


def reminder(reference: str, *, acknowledged: bool, urgent: bool) -> str:
    """A reminder that a report is still not acknowledged (or news that it now is)."""
    if acknowledged:
        return line("a report, now acknowledged", reference)
    return line(("urgent: " if urgent else "") + "a report still to acknowledge", reference)


def follow_up(reference: str, *, done: bool) -> str:
    """A reminder of something to record on a report (the LADO consultation: which is not said, it tells too much)."""
    return line("an update on a report" if done else "a report needs something recorded", reference)


def receipt(reference: str) -> str:
    """The reporter's receipt once their report is stored."""
    return line("your report has been received", reference)


def acknowledged(reference: str) -> str:
    """News for the reporter that their report was acknowledged."""
    return line("your report was acknowledged", reference)


def closed(reference: str) -> str:
    """News for the reporter that their report was closed (not how: that is the case owner's)."""
    return line("your report was closed", reference)


def refused() -> str:
    """Someone may not act on a report (which one is not said: the preview shows no more than the message)."""
    return line("you can't act on that report")


def undelivered(reference: str | None) -> str:
    """To the DSL: a message could not be delivered."""
    return line("a message could not be delivered", reference)


def trouble() -> str:
    """Safeguard could not do what was asked (its database, or itself, failed)."""
    return line("something went wrong: please read this message")


def of_replies(replies: Sequence[Reply]) -> str:
    """The preview of a message made of these replies: the first one's own, else what its kind asks."""
    for reply in replies:
        if reply.preview is not None:
            return reply.preview
    if not replies:
        return line(BY_TONE[Tone.DONE])
    last = replies[-1]
    if last.field == StepId.SUMMARY.value:
        return line(CHECK_REPORT)
    if any(choice.id == Command.RESUME for choice in last.choices):
        return line(UNFINISHED)
    if last.field is not None or last.choices:
        return line(BY_TONE[Tone.QUESTION])
    return line(BY_TONE[replies[0].tone])
