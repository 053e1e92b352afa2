"""The screenshots step: its limits, its wording, and whether a file that arrives may be taken.

The conversation never touches a file. A channel fetches it, bot.cases.evidence checks and
stores it (encrypted), and the draft here only counts it (dialogs.state.Evidence).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from enum import StrEnum

from dialogs import advice
from dialogs.prompts import Choice, Reply, Tone
from dialogs.questions import Context
from dialogs.state import Answer, Draft, Evidence, StepId
from routing.vocabulary import Category

# The limits, stated once: the README and the replies quote these.
MAX_SCREENSHOTS = 3
MAX_SCREENSHOT_BYTES = 5 * 1024 * 1024
# A screenshot from a large phone is about 4 million pixels; 40 million leaves room for a tablet
# and refuses a "decompression bomb" (a small file that unpacks into a vast picture).
MAX_SCREENSHOT_PIXELS = 40_000_000

# Where a screenshot is the evidence the school acts on (St Leonard's §5, §7, §10).
CATEGORIES = (Category.MISUSE, Category.FRIEND_REQUEST, Category.CYBERBULLYING)

DONE = Choice("done", "Done")
NO_SCREENSHOTS = Choice("none", "No screenshots")
INDECENT = Choice("indecent", "It may be an indecent image of a child")
NONE_TAKEN = "None: it may be an indecent image of a child, so none was taken"


class ImageVerdict(StrEnum):
    """What to do with a file that arrives while this draft is open."""

    TAKE = "take"  # at the screenshots step, with room for it: fetch it, check it, store it
    FULL = "full"  # at the screenshots step, but it has MAX_SCREENSHOTS already
    REFUSE_UNREAD = "refuse_unread"  # it may be an indecent image of a child: never fetched at all
    NOT_NOW = "not_now"  # no report under way, or not at the screenshots step


def megabytes(size: int = MAX_SCREENSHOT_BYTES) -> str:
    """`5 MB`."""
    return f"{size / (1024 * 1024):g} MB"


def may_be_indecent(answers: Mapping[StepId, Answer]) -> bool:
    """Whether the reporter said the imagery is a pupil's own, or may be an indecent image of a child."""
    said = answers.get(StepId.SELF_GENERATED_IMAGERY), answers.get(StepId.EVIDENCE)
    return (said[0] is not None and said[0].value == "yes") or (said[1] is not None and said[1].value == INDECENT.id)


def settle(evidence: Evidence, answers: Mapping[StepId, Answer]) -> Evidence:
    """The screenshots after an answer: once it may be an indecent image, none are kept and none taken, for good."""
    return Evidence(0, True) if may_be_indecent(answers) else evidence


def image_arrives(draft: Draft | None) -> ImageVerdict:
    """Whether a file that arrived now may be fetched: decided before a single byte of it is read."""
    if draft is None:
        return ImageVerdict.NOT_NOW
    if draft.evidence.refused or may_be_indecent(draft.answers):
        return ImageVerdict.REFUSE_UNREAD
    if draft.step is not StepId.EVIDENCE:
        return ImageVerdict.NOT_NOW
    return ImageVerdict.FULL if draft.evidence.count >= MAX_SCREENSHOTS else ImageVerdict.TAKE


def refusal(verdict: ImageVerdict) -> Reply | None:
    """What to say about a file not taken (None for NOT_NOW: the channel's own words for a file out of turn)."""
    if verdict is ImageVerdict.REFUSE_UNREAD:
        return advice.image_refused_unread()
    if verdict is ImageVerdict.FULL:
        return Reply(f"That one was not taken: a report takes up to {MAX_SCREENSHOTS} screenshots. Choose Done.",
                     tone=Tone.ERROR)
    return None


def offered(ctx: Context) -> bool:
    """The step is asked where a screenshot is the evidence, unless it may be an indecent image of a child."""
    return ctx.category in CATEGORIES and not ctx.evidence.refused and not may_be_indecent(ctx.answers)


def wording(ctx: Context) -> str:
    """The question, as it stands with the screenshots taken so far."""
    count = ctx.evidence.count
    if count == 0:
        return (f"Send any screenshots now (up to {MAX_SCREENSHOTS} pictures, {megabytes()} each), then choose "
                "Done. If you have none, choose No screenshots. If it may be an indecent image of a child, do not "
                "send it: choose that option.")
    if count >= MAX_SCREENSHOTS:
        return f"{count} screenshots received, the most one report takes. Choose Done."
    return f"{count} of {MAX_SCREENSHOTS} screenshots received. Send another, or choose Done."


def choices(ctx: Context) -> tuple[Choice, ...]:
    """Done once there is something to be done with; No screenshots before."""
    return (DONE if ctx.evidence.count else NO_SCREENSHOTS, INDECENT)


def after(answer: Answer, ctx: Context) -> list[Reply]:
    """It may be an indecent image of a child: what to do with it instead of sending it."""
    return [advice.indecent_image()] if answer.value == INDECENT.id else []


def received(evidence: Evidence) -> Reply:
    """Said once a screenshot is stored."""
    return Reply(f"Screenshot {evidence.count} received.", tone=Tone.DONE)


def summary_line(ctx: Context) -> str | None:
    """`Screenshots: 2` for the summary, where the step was asked."""
    if StepId.EVIDENCE not in ctx.answers:
        return None
    return f"Screenshots: {ctx.evidence.count or 'none'}"


def count_taken(evidence: Evidence) -> Evidence:
    """One more screenshot stored."""
    return replace(evidence, count=evidence.count + 1)
