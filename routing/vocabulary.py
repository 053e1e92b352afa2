"""The words every preset, dialog and channel share: report categories, subjects, flags, roles."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Category(StrEnum):
    """What kind of incident a member of staff is reporting."""

    MISUSE = "misuse"
    FRIEND_REQUEST = "friend_request"
    INAPPROPRIATE_CONTENT = "inappropriate_content"
    COLLEAGUE_CONCERN = "colleague_concern"
    PUPIL_DISCLOSURE = "pupil_disclosure"
    CYBERBULLYING = "cyberbullying"
    SELF_REFERRAL = "self_referral"  # "something about myself": its subject is the reporter


class Subject(StrEnum):
    """Who the report is about."""

    PUPIL = "pupil"
    PARENT = "parent"
    STAFF = "staff"
    HEADTEACHER = "headteacher"
    DSL = "dsl"
    DEPUTY_DSL = "deputy_dsl"
    GOVERNOR = "governor"
    CHAIR_OF_GOVERNORS = "chair_of_governors"
    OTHER = "other"
    UNKNOWN = "unknown"


class Target(StrEnum):
    """Who is being bullied, in a cyberbullying report; routing differs for each."""

    PUPIL = "pupil"
    STAFF = "staff"
    SCHOOL = "school"


class Flag(StrEnum):
    """Facts about a report that change who hears of it, or how fast."""

    ILLEGAL = "illegal"
    IMMEDIATE_RISK = "immediate_risk"
    SELF_GENERATED_IMAGERY = "self_generated_imagery"
    SCHOOL_DEVICE = "school_device"


class Role(StrEnum):
    """Roles the product knows; a preset defines those its policy uses and may add its own."""

    DSL = "dsl"
    DEPUTY_DSL = "deputy_dsl"
    HEADTEACHER = "headteacher"
    CHAIR_OF_GOVERNORS = "chair_of_governors"
    ONLINE_SAFETY_OFFICER = "online_safety_officer"
    GOVERNOR_LEAD = "governor_lead"


# The roles a subject may be held by. A report about "a governor" might be about the
# governor lead, so the lead is kept out of it; nobody can be excluded for "staff" or
# "other" without a named person (subject_person), which the dialog asks for.
SUBJECT_ROLES: dict[Subject, frozenset[str]] = {
    Subject.HEADTEACHER: frozenset({Role.HEADTEACHER}),
    Subject.DSL: frozenset({Role.DSL}),
    Subject.DEPUTY_DSL: frozenset({Role.DEPUTY_DSL}),
    Subject.CHAIR_OF_GOVERNORS: frozenset({Role.CHAIR_OF_GOVERNORS}),
    Subject.GOVERNOR: frozenset({Role.GOVERNOR_LEAD}),
}

# When a named person is the subject and no subject was given, the subject is read from
# the most senior role they hold, so that the rule for (say) a concern about the
# headteacher applies even when the reporter only picked the person.
SUBJECT_BY_ROLE_SENIORITY: tuple[tuple[str, Subject], ...] = (
    (Role.HEADTEACHER, Subject.HEADTEACHER),
    (Role.CHAIR_OF_GOVERNORS, Subject.CHAIR_OF_GOVERNORS),
    (Role.DSL, Subject.DSL),
    (Role.DEPUTY_DSL, Subject.DEPUTY_DSL),
    (Role.GOVERNOR_LEAD, Subject.GOVERNOR),
)

# Reports about these people may reach governors (and a trust's executive): KCSIE Part four
# has the chair of governors manage an allegation about the headteacher, and governors
# oversee the school's senior leaders. Every other report (a child's case, a parent's
# misuse, a concern about a member of staff) is handled inside the school's leadership:
# governors oversee such cases through counts, they never receive one.
SENIOR_SUBJECTS: frozenset[Subject] = frozenset({
    Subject.HEADTEACHER, Subject.DSL, Subject.DEPUTY_DSL, Subject.GOVERNOR, Subject.CHAIR_OF_GOVERNORS,
})

# Roles that oversee rather than handle cases, whatever a policy calls them; a policy marks
# its own (BPET's Chief Executive) with `oversight: true`.
OVERSIGHT_ROLES: frozenset[str] = frozenset({Role.CHAIR_OF_GOVERNORS, Role.GOVERNOR_LEAD})

CATEGORY_LABELS: dict[Category, str] = {
    Category.MISUSE: "Social media misuse by a pupil, parent or member of staff",
    Category.FRIEND_REQUEST: "A pupil or parent tried to friend, follow or contact staff on a personal account",
    Category.INAPPROPRIATE_CONTENT: "Inappropriate content accessed online",
    Category.COLLEAGUE_CONCERN: "A concern about a member of staff's online behaviour",
    Category.PUPIL_DISCLOSURE: "A pupil disclosed online abuse, harassment or exploitation",
    Category.CYBERBULLYING: "Cyberbullying of a pupil, a member of staff or the school",
    Category.SELF_REFERRAL: "Something about myself: a self-referral by a member of staff",
}

# KCSIE 2024 Part four, section two: a member of staff may self-refer a situation that could be
# misread or appear compromising. The report is about its reporter, who is then its subject
# (so the rule that nobody is told of a concern about themselves keeps it from coming back to
# them), and it always carries their name: a self-referral is never anonymous.
ABOUT_THE_REPORTER: frozenset[Category] = frozenset({Category.SELF_REFERRAL})

TARGET_LABELS: dict[Target, str] = {
    Target.PUPIL: "a pupil",
    Target.STAFF: "a member of staff",
    Target.SCHOOL: "the school",
}

FLAG_LABELS: dict[Flag, str] = {
    Flag.ILLEGAL: "suspected illegal activity",
    Flag.IMMEDIATE_RISK: "a child may be at immediate risk of harm",
    Flag.SELF_GENERATED_IMAGERY: "a pupil took and shared indecent imagery of themselves",
    Flag.SCHOOL_DEVICE: "accessed on the school's network or devices",
}



def subject_for_roles(roles: Iterable[str]) -> Subject:
    """The subject a named person is, read from the most senior role they hold."""
    held = set(roles)
    return next((s for role, s in SUBJECT_BY_ROLE_SENIORITY if role in held), Subject.STAFF)


# Flags are applied in this order, so a decision never depends on the order a
# reporter ticked them in.
FLAG_ORDER: tuple[Flag, ...] = tuple(Flag)


def allowed(enum: type[StrEnum]) -> str:
    """The values of an enum as a comma-separated list, for error messages."""
    return ", ".join(member.value for member in enum)
