"""Every question in the order it is asked, and which categories and earlier answers ask it."""

from __future__ import annotations

from dialogs import advice, evidence
from dialogs.prompts import YES_NO, Choice
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


def _any_category(ctx: Context) -> bool:
    return ctx.category is not None


def _first(ctx: Context) -> bool:
    return True


inappropriate = category_is(C.INAPPROPRIATE_CONTENT)
disclosure = category_is(C.PUPIL_DISCLOSURE)

QUESTIONS: tuple[Question, ...] = (
    ChoiceQuestion(StepId.CATEGORY, "What are you reporting?", _first, choices=CATEGORY_CHOICES),
    ChoiceQuestion(StepId.TARGET, "Who is being bullied?", category_is(C.CYBERBULLYING),
                   detail="Who is being bullied", after=advice.after_target, choices=TARGET_CHOICES),
    # Who it is about.
    ChoiceQuestion(StepId.SUBJECT, _subject_wording, category_is(*SUBJECTS), choices=_subject_choices),
    ChoiceQuestion(StepId.ABOUT_STAFF, "Is the child telling you about an adult who works at the school?",
                   disclosure, choices=YES_NO),
    PersonQuestion(StepId.COLLEAGUE, _colleague_wording, _names_staff, detail=_colleague_key),
    # Inappropriate content: the fields of St Leonard's appendix B report form (§5, §9).
    TextQuestion(StepId.ACCESSED_BY_NAME, "What is the pupil's name, if you know it?",
                 both(inappropriate, answered(StepId.SUBJECT, Subject.PUPIL)),
                 detail="Name of individual accessing the content", max_length=100, skip=SKIP),
    DateQuestion(StepId.DATE, "When was it accessed?", inappropriate, detail="Date"),
    UrlQuestion(StepId.URLS, "Paste the full web address (URL). If there is more than one, put each on a new line.",
                inappropriate, detail="Full URL(s)", max_length=4000),
    TextQuestion(StepId.NATURE, "Describe the nature of the content, briefly.", inappropriate,
                 detail="Nature of inappropriate content", max_length=500),
    ChoiceQuestion(StepId.SCHOOL_DEVICE, "Was it on a school device or the school network?", inappropriate,
                   detail="On a school device or network", after=advice.after_school_device, choices=YES_NO),
    # Pupil disclosure: St Leonard's §8, as the victim or on behalf of another child.
    ChoiceQuestion(StepId.DISCLOSURE_FOR, "Is the child the victim, or telling you about another child?",
                   disclosure, detail="Disclosure", choices=DISCLOSURE_CHOICES),
    TextQuestion(StepId.CHILD_WORDS, "What did the child say? Use their own words.", disclosure,
                 detail="The child's words", before=lambda: [advice.disclosure_reminder()], max_length=1000),
    # Friend requests, misuse and cyberbullying: where it happened.
    ChoiceQuestion(StepId.PLATFORM, "Which platform was it on?",
                   category_is(C.FRIEND_REQUEST, C.MISUSE, C.CYBERBULLYING), detail="Platform",
                   after=advice.after_platform, choices=PLATFORMS),
    TextQuestion(StepId.PLATFORM_OTHER, "Which platform was it? Type its name.", answered(StepId.PLATFORM, "other"),
                 detail="Platform", after=advice.after_platform_named, max_length=100),
    TextQuestion(StepId.WHAT_HAPPENED, "What happened? A few sentences is enough.",
                 category_is(C.MISUSE, C.COLLEAGUE_CONCERN, C.CYBERBULLYING), detail="What happened", max_length=1000),
    # KCSIE 2024 Part four: the harm threshold separates an allegation from a low-level concern,
    # whether the concern is a colleague's or comes from a child telling of an adult at school.
    ChoiceQuestion(StepId.HARM_THRESHOLD, HARM_THRESHOLD, _about_an_adult_at_school,
                   detail="Might meet the harm threshold", after=advice.after_harm_threshold,
                   choices=THRESHOLD_CHOICES),
    # Risk, for every category.
    ChoiceQuestion(StepId.IMMEDIATE_RISK, "Could a child be at immediate risk of harm?", _any_category,
                   after=advice.after_immediate_risk, choices=YES_NO),
    ChoiceQuestion(StepId.ILLEGAL, "Might it be illegal?", _any_category, choices=YES_NO),
    ChoiceQuestion(StepId.SELF_GENERATED_IMAGERY, "Is it imagery a pupil took of themselves?", _pupil_involved,
                   after=advice.after_self_generated_imagery, choices=YES_NO),
    # Screenshots, last: never where it may be an indecent image of a child (dialogs/evidence.py).
    ChoiceQuestion(StepId.EVIDENCE, evidence.wording, evidence.offered, after=evidence.after,
                   choices=evidence.choices),
)

BY_ID: dict[StepId, Question] = {q.id: q for q in QUESTIONS}
