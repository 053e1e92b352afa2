"""Send without my name: which reports may go without the reporter's name, and what is said when one may not.

KCSIE 2024 Part four (low-level concerns) asks schools to make it easy for staff to raise a
concern about another adult; many stay quiet for fear of being known, above all about someone
senior. So a concern about a member of staff may be sent without the reporter's name. A pupil's
disclosure may not: the DSL must be able to speak to whoever heard the child (St Leonard's §8).
"""

from __future__ import annotations

from dialogs.prompts import Choice
from dialogs.questions import Context
from dialogs.state import StepId
from dialogs.validation import normalise
from routing.vocabulary import SENIOR_SUBJECTS, Category, Subject

SEND_WITHOUT_NAME = Choice("send_without_name", "Send without my name")

# Who a misuse report may be about and still go without a name: an adult who works at the school.
STAFF_SUBJECTS = frozenset({Subject.STAFF, *SENIOR_SUBJECTS})

# What a reporter may type to ask for it, on any question with options, or at the summary.
ASKING = frozenset(normalise(words) for words in (
    "send without my name", "without my name", "without name", "no name", "anonymous", "anonymously",
    "send anonymously", "anon", "don't use my name", "do not use my name", "keep my name out",
))

OFFERED = "To keep your name from everyone at school, choose Send without my name."
DISCLOSURE = ("A pupil's disclosure cannot be sent without your name: the DSL must be able to speak to "
              "whoever heard the child.")
NOT_SET_UP = "Sending without your name is not set up here: it needs a relay key your IT admin has not set."
ABOUT_YOURSELF = "Something about yourself always goes with your name: raising it yourself is what counts."
ONLY_STAFF = "Only a concern about a member of staff can be sent without your name."
AT_THE_END = "You can choose Send without my name when you check your report, at the end."


def may_be_anonymous(category: Category, subject: Subject) -> bool:
    """Whether a report of this kind may be sent without its reporter's name (a concern about an adult at school)."""
    if category is Category.COLLEAGUE_CONCERN:
        return True
    return category is Category.MISUSE and subject in STAFF_SUBJECTS


def eligible(ctx: Context) -> bool:
    """Whether this draft is a report that may go without a name (before the summary knows the person's roles)."""
    if ctx.category is Category.COLLEAGUE_CONCERN:
        return True
    return ctx.category is Category.MISUSE and ctx.value(StepId.SUBJECT) == Subject.STAFF


def offered(ctx: Context) -> bool:
    """Whether the summary offers Send without my name: the report may go so, and the school has set it up."""
    return ctx.anonymity and eligible(ctx)


def asked(text: str) -> bool:
    """Whether typed words ask to send without a name."""
    return normalise(text) in ASKING


def summary_line(ctx: Context) -> str | None:
    """What the summary says about sending without a name, if anything."""
    if not eligible(ctx):
        return None
    return OFFERED if ctx.anonymity else NOT_SET_UP


def answer(ctx: Context) -> str:
    """The one line for a reporter who asks to send without their name where the summary does not offer it."""
    if ctx.category is Category.PUPIL_DISCLOSURE:
        return DISCLOSURE
    if ctx.category is Category.SELF_REFERRAL:  # KCSIE Part four: a self-referral is made as oneself
        return ABOUT_YOURSELF
    if not ctx.anonymity:
        return NOT_SET_UP
    if not eligible(ctx):  # another category, or none chosen yet
        return ONLY_STAFF
    return AT_THE_END
