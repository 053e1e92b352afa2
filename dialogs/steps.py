"""Every question in the order it is asked, and which categories and earlier answers ask it."""

from __future__ import annotations

from dialogs import advice, evidence
from dialogs.prompts import YES_NO, Choice
from dialogs.pupils import Slot, questions
from dialogs.questions import (
    ChoiceQuestion,
    Context,
    DateQuestion,
    PersonQuestion,
    Predicate,
    Question,
    TextQuestion,
    UrlQuestion,
)
from dialogs.report import PupilRole
from dialogs.state import StepId
from routing.vocabulary import Category, Subject, Target

C = Category

# Button labels, short enough for a phone; the summary uses the full CATEGORY_LABELS.
CATEGORY_CHOICES = (
    Choice(C.MISUSE, "Social media misuse"),
    Choice(C.FRIEND_REQUEST, "Friend or follow request"),
    Choice(C.INAPPROPRIATE_CONTENT, "Inappropriate content"),
    Choice(C.COLLEAGUE_CONCERN, "Concern about a colleague"),
    Choice(C.PUPIL_DISCLOSURE, "Pupil disclosure"),
    Choice(C.CYBERBULLYING, "Cyberbullying"),
    Choice(C.SELF_REFERRAL, "Something about myself"),
)

PUPIL = Choice(Subject.PUPIL, "A pupil")
PARENT = Choice(Subject.PARENT, "A parent or carer")
STAFF = Choice(Subject.STAFF, "A member of staff")
SOMEONE_ELSE = Choice(Subject.OTHER, "Someone else")
UNKNOWN = Choice(Subject.UNKNOWN, "Don't know")

# Who it is about, per category. Friend requests: St Leonard's §5 and §7 ("pupils or parents").
SUBJECTS: dict[Category, tuple[str, tuple[Choice, ...]]] = {
    C.MISUSE: ("Whose social media misuse is it?", (PUPIL, PARENT, STAFF, SOMEONE_ELSE, UNKNOWN)),
    C.FRIEND_REQUEST: ("Who tried to friend, follow or contact you?", (PUPIL, PARENT)),
    C.INAPPROPRIATE_CONTENT: ("Who accessed it, if you know?", (PUPIL, STAFF, UNKNOWN)),
    C.CYBERBULLYING: ("Who is doing the bullying?", (
        Choice(Subject.PUPIL, "Pupils"), Choice(Subject.PARENT, "A parent or carer"), STAFF,
        Choice(Subject.OTHER, "Someone outside the school"), UNKNOWN,
    )),
}

# Cyberbullying is routed by who is bullied as well as by who is doing it (St Leonard's §10).
TARGET_CHOICES = (
    Choice(Target.PUPIL, "A pupil"),
    Choice(Target.STAFF, "A member of staff"),
    Choice(Target.SCHOOL, "The school"),
)

COLLEAGUE_WORDING = {
    C.MISUSE: "Which member of staff?",
    C.INAPPROPRIATE_CONTENT: "Which member of staff accessed it?",
    C.COLLEAGUE_CONCERN: "Which member of staff is the concern about?",
    C.PUPIL_DISCLOSURE: "Which adult at school is it about?",
    C.CYBERBULLYING: "Which member of staff is doing it?",
}

PLATFORMS = (
    Choice("facebook", "Facebook"),
    Choice("instagram", "Instagram"),
    Choice("tiktok", "TikTok"),
    Choice("snapchat", "Snapchat"),
    Choice("whatsapp", "WhatsApp"),
    Choice("x", "X (Twitter)"),
    Choice("other", "Other"),
)

HARM_THRESHOLD = (
    "Might this meet the harm threshold: has the person harmed a child, possibly committed an offence "
    "against a child, or behaved in a way that shows they may pose a risk to children?"
)
THRESHOLD_CHOICES = (Choice("yes", "Yes"), Choice("no", "No"), Choice("not_sure", "Not sure"))
DISCLOSURE_CHOICES = (Choice("victim", "The child is the victim"), Choice("other_child", "About another child"))
SKIP = Choice("skip", "Skip")


def category_is(*categories: Category) -> Predicate:
    """Asked for these categories."""
    return lambda ctx: ctx.category in categories


def answered(step: StepId, *values: str) -> Predicate:
    """Asked when `step` was answered with one of `values`."""
    return lambda ctx: ctx.value(step) in values


def both(first: Predicate, second: Predicate) -> Predicate:
    """Asked when both hold."""
    return lambda ctx: first(ctx) and second(ctx)


def _subject_wording(ctx: Context) -> str:
    return SUBJECTS[ctx.category][0] if ctx.category in SUBJECTS else "Who is it about?"


def _subject_choices(ctx: Context) -> tuple[Choice, ...]:
    return SUBJECTS[ctx.category][1] if ctx.category in SUBJECTS else ()


def _colleague_wording(ctx: Context) -> str:
    ask = COLLEAGUE_WORDING[ctx.category] if ctx.category in COLLEAGUE_WORDING else "Which member of staff?"
    return f"{ask} Choose, or type their name."


def _colleague_key(ctx: Context) -> str:
    # Appendix B's own field name, where the colleague is the one who accessed the content.
    if ctx.category is C.INAPPROPRIATE_CONTENT:
        return "Name of individual accessing the content"
    return "Member of staff"


def _names_staff(ctx: Context) -> bool:
    if ctx.category is C.COLLEAGUE_CONCERN:
        return True
    if ctx.category is C.PUPIL_DISCLOSURE:
        return ctx.value(StepId.ABOUT_STAFF) == "yes"
    named_by_subject = (C.MISUSE, C.INAPPROPRIATE_CONTENT, C.CYBERBULLYING)
    return ctx.category in named_by_subject and ctx.value(StepId.SUBJECT) == Subject.STAFF


def _about_an_adult_at_school(ctx: Context) -> bool:
    if ctx.category is C.COLLEAGUE_CONCERN:
        return True
    if ctx.category is C.CYBERBULLYING:
        # St Leonard's §10: bullying by a member of staff is handled as an allegation against staff.
        return ctx.value(StepId.SUBJECT) == Subject.STAFF
    return ctx.category is C.PUPIL_DISCLOSURE and ctx.value(StepId.ABOUT_STAFF) == "yes"


def _pupil_involved(ctx: Context) -> bool:
    # Self-generated imagery (St Leonard's §8: the DSL decides whether police are involved)
    # can only arise where a pupil is in the picture.
    if ctx.category in (C.MISUSE, C.PUPIL_DISCLOSURE):
        return True
    if ctx.category is C.CYBERBULLYING:
        return ctx.value(StepId.TARGET) == Target.PUPIL or ctx.value(StepId.SUBJECT) == Subject.PUPIL
    return ctx.category is C.INAPPROPRIATE_CONTENT and ctx.value(StepId.SUBJECT) == Subject.PUPIL


def _first_pupil(ctx: Context) -> bool:
    # Every report that involves a pupil asks which pupil (or, about a parent, whose parent).
    subject = ctx.value(StepId.SUBJECT)
    if ctx.category is C.PUPIL_DISCLOSURE:
        return StepId.DISCLOSURE_FOR in ctx.answers
    if ctx.category is C.CYBERBULLYING:
        return ctx.value(StepId.TARGET) == Target.PUPIL
    if ctx.category is C.SELF_REFERRAL:
        return ctx.value(StepId.PUPIL_INVOLVED) == "yes"
    if ctx.category is C.FRIEND_REQUEST:
        return StepId.ACCOUNT in ctx.answers and subject in (Subject.PUPIL, Subject.PARENT)
    return ctx.category in (C.MISUSE, C.INAPPROPRIATE_CONTENT) and (
        subject == Subject.PUPIL or (ctx.category is C.MISUSE and subject == Subject.PARENT))


def _first_role(ctx: Context) -> PupilRole:
    if ctx.category is C.PUPIL_DISCLOSURE and ctx.value(StepId.DISCLOSURE_FOR) == "other_child":
        return PupilRole.TOLD_BY
    if ctx.category is C.FRIEND_REQUEST and ctx.value(StepId.SUBJECT) == Subject.PUPIL:
        return PupilRole.ACCOUNT_OF
    if ctx.value(StepId.SUBJECT) == Subject.PARENT and ctx.category is not C.CYBERBULLYING:
        return PupilRole.PARENT_OF
    return PupilRole.CHILD


def _second_pupil(ctx: Context) -> bool:
    if ctx.category is C.PUPIL_DISCLOSURE:
        return ctx.value(StepId.DISCLOSURE_FOR) == "other_child" and StepId.PUPIL in ctx.answers
    if ctx.category is not C.CYBERBULLYING or ctx.value(StepId.SUBJECT) not in (Subject.PUPIL, Subject.PARENT):
        return False
    return ctx.value(StepId.TARGET) != Target.PUPIL or StepId.PUPIL in ctx.answers


def _second_role(ctx: Context) -> PupilRole:
    if ctx.category is C.CYBERBULLYING:
        return PupilRole.PARENT_OF if ctx.value(StepId.SUBJECT) == Subject.PARENT else PupilRole.BULLYING
    return PupilRole.CHILD


ASK = {
    PupilRole.CHILD: "Which pupil is it?",
    PupilRole.TOLD_BY: "Which child told you?",
    PupilRole.ACCOUNT_OF: "Whose account is it, if you know? Which pupil?",
    PupilRole.PARENT_OF: "Which pupil's parent or carer is it, if you know?",
    PupilRole.BULLYING: "Which pupil is doing it, if you know?",
}
ASK_CHILD = {
    C.PUPIL_DISCLOSURE: "Which child told you?",
    C.INAPPROPRIATE_CONTENT: "Which pupil accessed it?",
    C.CYBERBULLYING: "Which pupil is being bullied?",
    C.SELF_REFERRAL: "Which pupil was it?",
}
PUPIL_KEYS = {
    PupilRole.CHILD: "Child", PupilRole.TOLD_BY: "Told by", PupilRole.ACCOUNT_OF: "Whose account",
    PupilRole.PARENT_OF: "Parent or carer of", PupilRole.BULLYING: "Pupil doing it",
}
# Appendix B's own field name, where the pupil is the one who accessed the content.
NAME_KEY = "Name of individual accessing the content"


def _ask_first(ctx: Context) -> str:
    role = _first_role(ctx)
    if role is PupilRole.CHILD and ctx.category in ASK_CHILD:
        return ASK_CHILD[ctx.category]
    return ASK[role]


def _ask_second(ctx: Context) -> str:
    if ctx.category is C.PUPIL_DISCLOSURE:
        return "Which child is it about, if you know?"
    return ASK[_second_role(ctx)]


def _first_key(ctx: Context) -> str:
    return NAME_KEY if ctx.category is C.INAPPROPRIATE_CONTENT else PUPIL_KEYS[_first_role(ctx)]


def _first_unknown(ctx: Context) -> bool:
    # The reporter always knows the child who told them; anyone else may be unknown to them.
    return ctx.category is not C.PUPIL_DISCLOSURE


FIRST_PUPIL = Slot(StepId.PUPIL, StepId.PUPIL_PICK, StepId.PUPIL_YEAR, _first_pupil, _first_role, _ask_first,
                   _first_key, _first_unknown)
SECOND_PUPIL = Slot(StepId.OTHER_PUPIL, StepId.OTHER_PUPIL_PICK, StepId.OTHER_PUPIL_YEAR, _second_pupil,
                    _second_role, _ask_second, lambda ctx: PUPIL_KEYS[_second_role(ctx)], lambda ctx: True)
SLOTS = (FIRST_PUPIL, SECOND_PUPIL)

WHERE_CHOICES = (
    Choice("with_me", "With me"), Choice("in_class", "In class"), Choice("gone_home", "Gone home"),
    Choice("unknown", "Don't know"),
)
WHERE_KEY = "Where the child is now"


def _where_now(ctx: Context) -> bool:
    # The DSL's first question on a disclosure, or a child at immediate risk: where is the child?
    if ctx.category is C.PUPIL_DISCLOSURE:
        return True
    return ctx.value(StepId.IMMEDIATE_RISK) == "yes" and any(slot.applies(ctx) for slot in SLOTS)


def _where_wording(ctx: Context) -> str:
    for slot in SLOTS:
        named = slot.named(ctx)
        if named is not None and named.role is PupilRole.CHILD:
            return f"Where is {named.name} now?"
    named = FIRST_PUPIL.named(ctx)
    if named is not None and named.role is PupilRole.TOLD_BY:
        return f"Where is {named.name} now?"
    return "Where is the child now?"


def _any_category(ctx: Context) -> bool:
    return ctx.category is not None


def _not_about_myself(ctx: Context) -> bool:
    # A self-referral is a low-level concern (KCSIE 2024 Part four, section two): the reporter is
    # not asked to judge whether their own conduct might be illegal; whoever takes it decides.
    return ctx.category is not None and ctx.category is not C.SELF_REFERRAL


def _date_wording(ctx: Context) -> str:
    return "When did it happen?" if ctx.category is C.SELF_REFERRAL else "When was it accessed?"


def _what_happened_wording(ctx: Context) -> str:
    if ctx.category is C.SELF_REFERRAL:
        return "What happened? Say it plainly, as you would to the headteacher. A few sentences is enough."
    return "What happened? A few sentences is enough."


def _first(ctx: Context) -> bool:
    return True


inappropriate = category_is(C.INAPPROPRIATE_CONTENT)
disclosure = category_is(C.PUPIL_DISCLOSURE)
myself = category_is(C.SELF_REFERRAL)

QUESTIONS: tuple[Question, ...] = (
    ChoiceQuestion(StepId.CATEGORY, "What are you reporting?", _first, after=advice.after_category,
                   choices=CATEGORY_CHOICES),
    ChoiceQuestion(StepId.TARGET, "Who is being bullied?", category_is(C.CYBERBULLYING),
                   detail="Who is being bullied", after=advice.after_target, choices=TARGET_CHOICES),
    # Who it is about.
    ChoiceQuestion(StepId.SUBJECT, _subject_wording, category_is(*SUBJECTS), choices=_subject_choices),
    ChoiceQuestion(StepId.ABOUT_STAFF, "Is the child telling you about an adult who works at the school?",
                   disclosure, choices=YES_NO),
    PersonQuestion(StepId.COLLEAGUE, _colleague_wording, _names_staff, detail=_colleague_key),
    # Pupil disclosure: St Leonard's §8, as the victim or on behalf of another child.
    ChoiceQuestion(StepId.DISCLOSURE_FOR, "Is the child the victim, or telling you about another child?",
                   disclosure, detail="Disclosure", choices=DISCLOSURE_CHOICES),
    TextQuestion(StepId.ACCOUNT, "What is the account's name or handle?", category_is(C.FRIEND_REQUEST),
                 detail="Account name or handle", max_length=100),
    # Something about myself: the pupil is optional, and named so the DSL can see a pattern
    # in the child's record (KCSIE Annex C) and the headteacher knows whom it touched.
    ChoiceQuestion(StepId.PUPIL_INVOLVED, "Was a pupil involved?", myself, detail="A pupil involved",
                   choices=YES_NO),
    # Which pupil (or pupils): the DSL needs the child's name, not "a pupil", to act.
    *questions(FIRST_PUPIL),
    *questions(SECOND_PUPIL),
    # Inappropriate content: the fields of St Leonard's appendix B report form (§5, §9).
    DateQuestion(StepId.DATE, _date_wording, category_is(C.INAPPROPRIATE_CONTENT, C.SELF_REFERRAL), detail="Date"),
    UrlQuestion(StepId.URLS, "Paste the full web address (URL). If there is more than one, put each on a new line.",
                inappropriate, detail="Full URL(s)", max_length=4000),
    TextQuestion(StepId.NATURE, "Describe the nature of the content, briefly.", inappropriate,
                 detail="Nature of inappropriate content", max_length=500),
    ChoiceQuestion(StepId.SCHOOL_DEVICE, "Was it on a school device or the school network?", inappropriate,
                   detail="On a school device or network", after=advice.after_school_device, choices=YES_NO),
    TextQuestion(StepId.CHILD_WORDS, "What did the child say? Use their own words.", disclosure,
                 detail="The child's words", before=lambda: [advice.disclosure_reminder()], max_length=1000),
    # Friend requests, misuse and cyberbullying: where it happened.
    ChoiceQuestion(StepId.PLATFORM, "Which platform was it on?",
                   category_is(C.FRIEND_REQUEST, C.MISUSE, C.CYBERBULLYING, C.SELF_REFERRAL), detail="Platform",
                   after=advice.after_platform, choices=PLATFORMS),
    TextQuestion(StepId.PLATFORM_OTHER, "Which platform was it? Type its name.", answered(StepId.PLATFORM, "other"),
                 detail="Platform", after=advice.after_platform_named, max_length=100),
    TextQuestion(StepId.WHAT_HAPPENED, _what_happened_wording,
                 category_is(C.MISUSE, C.COLLEAGUE_CONCERN, C.CYBERBULLYING, C.SELF_REFERRAL), detail="What happened",
                 max_length=1000),
    TextQuestion(StepId.WHAT_I_DID, "What did you do? For example: replied, blocked the account, told a colleague.",
                 myself, detail="What I did", max_length=1000),
    TextQuestion(StepId.ANYTHING_ELSE, "Is there anything else the school should know? Type it, or Skip.", myself,
                 detail="Anything else", max_length=1000, skip=SKIP, skipped="Nothing more"),
    # KCSIE 2024 Part four: the harm threshold separates an allegation from a low-level concern,
    # whether the concern is a colleague's or comes from a child telling of an adult at school.
    ChoiceQuestion(StepId.HARM_THRESHOLD, HARM_THRESHOLD, _about_an_adult_at_school,
                   detail="Might meet the harm threshold", after=advice.after_harm_threshold,
                   choices=THRESHOLD_CHOICES),
    # Risk, for every category.
    ChoiceQuestion(StepId.IMMEDIATE_RISK, "Could a child be at immediate risk of harm?", _any_category,
                   after=advice.after_immediate_risk, choices=YES_NO),
    ChoiceQuestion(StepId.WHERE_NOW, _where_wording, _where_now, detail=WHERE_KEY, choices=WHERE_CHOICES),
    ChoiceQuestion(StepId.ILLEGAL, "Might it be illegal?", _not_about_myself, choices=YES_NO),
    ChoiceQuestion(StepId.SELF_GENERATED_IMAGERY, "Is it imagery a pupil took of themselves?", _pupil_involved,
                   after=advice.after_self_generated_imagery, choices=YES_NO),
    # Screenshots, last: never where it may be an indecent image of a child (dialogs/evidence.py).
    ChoiceQuestion(StepId.EVIDENCE, evidence.wording, evidence.offered, after=evidence.after,
                   choices=evidence.choices),
)

BY_ID: dict[StepId, Question] = {q.id: q for q in QUESTIONS}
