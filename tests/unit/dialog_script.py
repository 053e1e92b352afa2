"""A reporter's side of the conversation, for transcript tests: send messages, read the replies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from dialogs.flow import Turn, handle, start
from dialogs.prompts import Reply, Tone
from dialogs.report import Colleague, NamedPupil, Pupil, PupilRole, ReportDraft
from dialogs.state import Draft
from routing.vocabulary import Category, Flag, Subject, Target
from tests.builders import staff_directory

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
TODAY = date(2025, 3, 14)


@dataclass
class Chat:
    """One report being made; every message moves the clock on a minute."""

    turn: Turn = field(default_factory=lambda: start(NOW))
    colleagues: Sequence[Colleague] = field(default_factory=staff_directory)
    now: datetime = NOW
    today: date = TODAY
    pupils: Sequence[Pupil] = ()  # the school's roster; empty: names are typed
    anonymous_ok: bool = False  # the school has a relay key: a concern about staff may go without a name

    @classmethod
    def resumed(cls, draft: Draft, now: datetime = NOW) -> Chat:
        """Carry on a draft loaded from storage."""
        return cls(turn=Turn(draft, []), now=now)

    def send(self, *messages: str) -> Turn:
        """Send each message in turn; the last turn is returned."""
        for message in messages:
            assert self.turn.outcome is None, f"the conversation already ended before {message!r}"
            self.now += timedelta(minutes=1)
            self.turn = handle(self.turn.draft, message, now=self.now, today=self.today, colleagues=self.colleagues,
                               pupils=self.pupils, anonymous_ok=self.anonymous_ok)
        return self.turn

    @property
    def draft(self) -> Draft:
        """The draft as it stands."""
        return self.turn.draft

    @property
    def question(self) -> Reply:
        """The last reply: the question (or summary) waiting for an answer."""
        return self.turn.replies[-1]

    @property
    def asking(self) -> str | None:
        """The field the last reply asks for."""
        return self.question.field

    def said(self, tone: Tone) -> list[str]:
        """The texts of this turn's replies in `tone`."""
        return [r.text for r in self.turn.replies if r.tone is tone]

    def labels(self) -> list[str]:
        """The labels of the choices on offer."""
        return [c.label for c in self.question.choices]


# A made-up roster: two pupils share the start of a name on purpose.
ROSTER = (
    Pupil("1", "Ava Stone", "Year 5"), Pupil("2", "Leo Marsh", "Year 3"), Pupil("3", "Mia Hart", "Year 4"),
    Pupil("4", "Ava Stoneley", "Year 6"),
)

MISUSE_WORDS = "A Year 5 pupil posted a video mocking a classmate."
CONCERN_WORDS = "A teacher has been messaging a Year 6 pupil on a personal account late at night."
CHILD_WORDS = "He said if I don't send another picture he'll show everyone the first one."
NATURE = "Violent video clip shown in a search result."
BULLYING_WORDS = "Three pupils in a class group chat keep posting edited photos of a Year 4 girl."
SELF_WORDS = "A Year 5 pupil messaged me on Instagram about homework and I replied before thinking."
DID_WORDS = "Replied once, then blocked the account and told my line manager."
PARENT_WORDS = "A parent posted on a community Facebook page calling a named teacher a liar and worse."

# Every category walked to Send: the messages, then the report it must produce.
WALKS: dict[str, tuple[tuple[str, ...], ReportDraft]] = {
    "misuse by a pupil": (
        ("misuse", "pupil", "Ava Stone", "Year 5", "instagram", MISUSE_WORDS, "no", "no", "no", "none", "send"),
        ReportDraft(Category.MISUSE, Subject.PUPIL, None, frozenset(), False,
                    {"Child": "Ava Stone (Year 5)", "Platform": "Instagram", "What happened": MISUSE_WORDS},
                    pupils=(NamedPupil(PupilRole.CHILD, "Ava Stone", "Year 5"),)),
    ),
    "misuse by staff on another platform": (
        ("misuse", "staff", "u-rowan", "other", "Discord", MISUSE_WORDS, "no", "yes", "no", "none", "send"),
        ReportDraft(Category.MISUSE, Subject.STAFF, "u-rowan", frozenset({Flag.ILLEGAL}), False,
                    {"Member of staff": "Alex Rowan", "Platform": "Discord", "What happened": MISUSE_WORDS}),
    ),
    "friend request from a parent": (
        ("friend_request", "parent", "@jo.marsh", "Leo Marsh", "skip", "tiktok", "no", "no", "none", "send"),
        ReportDraft(Category.FRIEND_REQUEST, Subject.PARENT, None, frozenset(), False,
                    {"Account name or handle": "@jo.marsh", "Parent or carer of": "Leo Marsh", "Platform": "TikTok"},
                    pupils=(NamedPupil(PupilRole.PARENT_OF, "Leo Marsh"),)),
    ),
    "inappropriate content by a named pupil": (
        ("inappropriate_content", "pupil", "Casey Example", "Year 6", "12/03/2025",
         "https://video.example/watch?v=1\nhttps://search.example/q", NATURE, "yes", "no", "yes", "no", "send"),
        ReportDraft(Category.INAPPROPRIATE_CONTENT, Subject.PUPIL, None,
                    frozenset({Flag.SCHOOL_DEVICE, Flag.ILLEGAL}), False,
                    {"Name of individual accessing the content": "Casey Example (Year 6)", "Date": "12 March 2025",
                     "Full URL(s)": "https://video.example/watch?v=1\nhttps://search.example/q",
                     "Nature of inappropriate content": NATURE, "On a school device or network": "Yes"},
                    pupils=(NamedPupil(PupilRole.CHILD, "Casey Example", "Year 6"),)),
    ),
    "inappropriate content by a member of staff": (
        ("inappropriate_content", "staff", "u-birch", "today", "https://shop.example/item", NATURE, "no",
         "no", "no", "send"),
        ReportDraft(Category.INAPPROPRIATE_CONTENT, Subject.STAFF, "u-birch", frozenset(), False,
                    {"Name of individual accessing the content": "Sam Birch", "Date": "14 March 2025",
                     "Full URL(s)": "https://shop.example/item", "Nature of inappropriate content": NATURE,
                     "On a school device or network": "No"}),
    ),
    "inappropriate content, nobody known": (
        ("inappropriate_content", "unknown", "2025-03-01", "http://forum.example/t/9", NATURE, "no", "no",
         "no", "send"),
        ReportDraft(Category.INAPPROPRIATE_CONTENT, Subject.UNKNOWN, None, frozenset(), False,
                    {"Name of individual accessing the content": "Not known", "Date": "1 March 2025",
                     "Full URL(s)": "http://forum.example/t/9", "Nature of inappropriate content": NATURE,
                     "On a school device or network": "No"}),
    ),
    "colleague concern meeting the harm threshold": (
        ("colleague_concern", "u-hartley", CONCERN_WORDS, "yes", "yes", "no", "send"),
        ReportDraft(Category.COLLEAGUE_CONCERN, Subject.STAFF, "u-hartley", frozenset({Flag.IMMEDIATE_RISK}), True,
                    {"Member of staff": "Jo Hartley", "What happened": CONCERN_WORDS,
                     "Might meet the harm threshold": "Yes"}),
    ),
    "low-level colleague concern": (
        ("colleague_concern", "u-rowan", "Shared a class photo on a personal account.", "no", "no", "no", "send"),
        ReportDraft(Category.COLLEAGUE_CONCERN, Subject.STAFF, "u-rowan", frozenset(), False,
                    {"Member of staff": "Alex Rowan", "What happened": "Shared a class photo on a personal account.",
                     "Might meet the harm threshold": "No"}),
    ),
    "pupil disclosure as the victim": (
        ("pupil_disclosure", "no", "victim", "Mia Hart", "skip", CHILD_WORDS, "yes", "with_me", "yes", "yes", "send"),
        ReportDraft(Category.PUPIL_DISCLOSURE, Subject.PUPIL, None,
                    frozenset({Flag.IMMEDIATE_RISK, Flag.ILLEGAL, Flag.SELF_GENERATED_IMAGERY}), False,
                    {"Disclosure": "The child is the victim", "Child": "Mia Hart", "The child's words": CHILD_WORDS,
                     "Where the child is now": "With me"},
                    pupils=(NamedPupil(PupilRole.CHILD, "Mia Hart"),)),
    ),
    "pupil disclosure about an adult at school": (
        # KCSIE Part four: what a child tells of an adult at school may be an allegation too.
        ("pupil_disclosure", "yes", "u-birch", "other_child", "Leo Marsh", "Year 3", "dont_know", CHILD_WORDS,
         "not_sure", "no", "in_class", "no", "no", "send"),
        ReportDraft(Category.PUPIL_DISCLOSURE, Subject.STAFF, "u-birch", frozenset(), True,
                    {"Member of staff": "Sam Birch", "Disclosure": "About another child",
                     "Told by": "Leo Marsh (Year 3)", "Child": "Not known",
                     "The child's words": CHILD_WORDS, "Might meet the harm threshold": "Not sure",
                     "Where the child is now": "In class"},
                    pupils=(NamedPupil(PupilRole.TOLD_BY, "Leo Marsh", "Year 3"),)),
    ),
    "cyberbullying of a pupil by pupils": (
        ("cyberbullying", "pupil", "pupil", "Ava Stone", "Year 4", "dont_know", "whatsapp", BULLYING_WORDS, "no",
         "no", "no", "none", "send"),
        ReportDraft(Category.CYBERBULLYING, Subject.PUPIL, None, frozenset(), False,
                    {"Who is being bullied": "A pupil", "Child": "Ava Stone (Year 4)", "Pupil doing it": "Not known",
                     "Platform": "WhatsApp", "What happened": BULLYING_WORDS},
                    target=Target.PUPIL, pupils=(NamedPupil(PupilRole.CHILD, "Ava Stone", "Year 4"),)),
    ),
    "cyberbullying of a teacher by a parent": (
        ("cyberbullying", "staff", "parent", "dont_know", "facebook", PARENT_WORDS, "no", "no", "none", "send"),
        ReportDraft(Category.CYBERBULLYING, Subject.PARENT, None, frozenset(), False,
                    {"Who is being bullied": "A member of staff", "Parent or carer of": "Not known",
                     "Platform": "Facebook", "What happened": PARENT_WORDS},
                    target=Target.STAFF),
    ),
    "cyberbullying of a pupil by a member of staff": (
        ("cyberbullying", "pupil", "staff", "u-rowan", "Ava Stone", "skip", "instagram", BULLYING_WORDS, "not_sure",
         "no", "no", "no", "none", "send"),
        ReportDraft(Category.CYBERBULLYING, Subject.STAFF, "u-rowan", frozenset(), True,
                    {"Who is being bullied": "A pupil", "Member of staff": "Alex Rowan", "Child": "Ava Stone",
                     "Platform": "Instagram", "What happened": BULLYING_WORDS,
                     "Might meet the harm threshold": "Not sure"},
                    target=Target.PUPIL, pupils=(NamedPupil(PupilRole.CHILD, "Ava Stone"),)),
    ),
    # Something about myself (KCSIE Part four, section two): the dialog does not know the reporter; Send names them.
    "self-referral naming a pupil": (
        ("self_referral", "yes", "Ava Stone", "Year 5", "yesterday", "instagram", SELF_WORDS, DID_WORDS, "skip", "no",
         "send"),
        ReportDraft(Category.SELF_REFERRAL, Subject.STAFF, None, frozenset(), False,
                    {"A pupil involved": "Yes", "Child": "Ava Stone (Year 5)", "Date": "13 March 2025",
                     "Platform": "Instagram", "What happened": SELF_WORDS, "What I did": DID_WORDS,
                     "Anything else": "Nothing more"},
                    pupils=(NamedPupil(PupilRole.CHILD, "Ava Stone", "Year 5"),)),
    ),
    "self-referral with no pupil, a child at risk": (
        ("self_referral", "no", "today", "other", "Discord", SELF_WORDS, DID_WORDS, "Their parent rang me.", "yes",
         "send"),
        ReportDraft(Category.SELF_REFERRAL, Subject.STAFF, None, frozenset({Flag.IMMEDIATE_RISK}), False,
                    {"A pupil involved": "No", "Date": "14 March 2025", "Platform": "Discord",
                     "What happened": SELF_WORDS, "What I did": DID_WORDS, "Anything else": "Their parent rang me."}),
    ),
}
