"""The summary the reporter confirms, and the ReportDraft it becomes."""

from __future__ import annotations

from dialogs import anonymity, evidence
from dialogs.prompts import CANCEL, Choice, Command, InputKind, Reply, Tone
from dialogs.pupils import PupilSearchQuestion
from dialogs.questions import Context
from dialogs.report import NamedPupil, PupilRole, ReportDraft
from dialogs.state import StepId
from dialogs.steps import BY_ID, PUPIL_KEYS, QUESTIONS, SLOTS
from routing.vocabulary import (
    ABOUT_THE_REPORTER,
    CATEGORY_LABELS,
    FLAG_LABELS,
    FLAG_ORDER,
    Category,
    Flag,
    Subject,
    Target,
)

SEND = Choice("send", "Send")
CHANGE = Choice(Command.BACK, "Change something")
SUMMARY_CHOICES = (SEND, CHANGE, CANCEL)

# A "yes" to these questions sets the flag (routing.vocabulary.Flag).
FLAG_QUESTIONS = {
    StepId.IMMEDIATE_RISK: Flag.IMMEDIATE_RISK,
    StepId.ILLEGAL: Flag.ILLEGAL,
    StepId.SELF_GENERATED_IMAGERY: Flag.SELF_GENERATED_IMAGERY,
    StepId.SCHOOL_DEVICE: Flag.SCHOOL_DEVICE,
}
# KCSIE 2024 Part four: "not sure" is handled as a possible allegation; the DSL or
# headteacher decides, not the reporter.
ALLEGATION_ANSWERS = ("yes", "not_sure")
HANDLED_AS = {"yes": "an allegation", "not_sure": "a possible allegation (the DSL or headteacher decides)"}
NAME_KEY = "Name of individual accessing the content"
WHO_LABEL = {
    Category.FRIEND_REQUEST: "From", Category.INAPPROPRIATE_CONTENT: "Accessed by", Category.CYBERBULLYING: "By",
}


def summary_choices(ctx: Context) -> tuple[Choice, ...]:
    """Send, Send without my name where it is offered (dialogs/anonymity.py), Change something, Cancel."""
    return (SEND, anonymity.SEND_WITHOUT_NAME, CHANGE, CANCEL) if anonymity.offered(ctx) else SUMMARY_CHOICES


def build_report(ctx: Context) -> ReportDraft:
    """The report from a draft whose questions are all answered."""
    category = ctx.category
    assert category is not None, "a report needs its category"
    return ReportDraft(
        category=category,
        subject=_subject(ctx, category),
        subject_person=ctx.value(StepId.COLLEAGUE),
        flags=frozenset(flag for step, flag in FLAG_QUESTIONS.items() if ctx.value(step) == "yes"),
        allegation=ctx.value(StepId.HARM_THRESHOLD) in ALLEGATION_ANSWERS,
        details=details(ctx),
        target=Target(target) if (target := ctx.value(StepId.TARGET)) in set(Target) else None,
        pupils=named_pupils(ctx),
        screenshots=ctx.evidence.count if StepId.EVIDENCE in ctx.answers else 0,
    )


def named_pupils(ctx: Context) -> tuple[NamedPupil, ...]:
    """The pupils the answers name, each in their role (a pupil "not known" is not among them)."""
    return tuple(named for slot in SLOTS if (named := slot.named(ctx)) is not None)


def details(ctx: Context) -> dict[str, str]:
    """The answers people read, under human-readable keys, in the order they were asked."""
    # Appendix B asks for the name of who accessed the content "if known": always say which.
    found = {NAME_KEY: "Not known"} if ctx.category is Category.INAPPROPRIATE_CONTENT else {}
    for question in QUESTIONS:
        if isinstance(question, PupilSearchQuestion) and question.slot is not None:
            # A pupil is asked over up to three questions (search, pick, year): the details say who, once.
            pupil = question.slot.shown(ctx)
            if pupil is not None:
                found[question.slot.key(ctx)] = pupil
            continue
        key = question.detail_key(ctx)
        answer = ctx.answers.get(question.id)
        if key is not None and answer is not None:
            found[key] = answer.shown  # a named 'Other' platform replaces 'Other'
    if ctx.category in evidence.CATEGORIES and ctx.evidence.refused:
        # Whoever takes the case must know there is an image to ask about (UKCIS: the DSL decides).
        found["Screenshots"] = evidence.NONE_TAKEN
    return found


def summary_reply(ctx: Context) -> Reply:
    """One compact message listing the report, with Send, Change something and Cancel."""
    report = build_report(ctx)
    lines = ["Please check your report:", CATEGORY_LABELS[report.category]]
    lines.append(f"{WHO_LABEL.get(report.category, 'About')}: {_who(ctx)}")
    # Whole answers, as they will be sent: a reporter who pasted several links must be able to check each one.
    lines += [f"{key}: {value}" for key, value in report.details.items() if key != _who_key(ctx)]
    if StepId.HARM_THRESHOLD in ctx.answers:
        threshold = ctx.value(StepId.HARM_THRESHOLD)
        lines.append(f"Handled as: {HANDLED_AS.get(threshold or '', 'a low-level concern')}")
    shots = evidence.summary_line(ctx)
    if shots is not None:
        lines.append(shots)
    nameless = anonymity.summary_line(ctx)
    if nameless is not None:
        lines.append(nameless)
    flagged = [FLAG_LABELS[flag] for flag in FLAG_ORDER if flag in report.flags]
    lines.append(f"Flagged: {'; '.join(flagged) if flagged else 'nothing'}")
    return Reply(
        "\n".join(lines),
        tone=Tone.SUMMARY,
        input=InputKind.CONFIRM,
        choices=summary_choices(ctx),
        field=StepId.SUMMARY.value,
    )


def _subject(ctx: Context, category: Category) -> Subject:
    if ctx.value(StepId.COLLEAGUE) is not None:
        return Subject.STAFF
    if category is Category.PUPIL_DISCLOSURE:
        return Subject.PUPIL
    if category in ABOUT_THE_REPORTER:
        return Subject.STAFF  # the reporter, named when it is sent (ReportDraft.by)
    return Subject(ctx.value(StepId.SUBJECT) or Subject.UNKNOWN)


def _who(ctx: Context) -> str:
    if ctx.category in ABOUT_THE_REPORTER:
        return "You (a self-referral, sent with your name)"
    colleague = ctx.answers.get(StepId.COLLEAGUE)
    if colleague is not None:
        return f"{colleague.shown} (member of staff)"
    child = _child(ctx)
    if child is not None:
        return child.shown
    subject = ctx.answers.get(StepId.SUBJECT)
    return "A pupil" if subject is None else subject.shown


def _child(ctx: Context) -> NamedPupil | None:
    """The child a misuse report or a disclosure is about, when named: the "About" line names them."""
    if ctx.category not in (Category.MISUSE, Category.PUPIL_DISCLOSURE):
        return None
    return next((p for p in named_pupils(ctx) if p.role is PupilRole.CHILD), None)


def _who_key(ctx: Context) -> str | None:
    # The colleague's (or child's) name is already on the "About" line; the details keep it for the record.
    if StepId.COLLEAGUE in ctx.answers:
        return BY_ID[StepId.COLLEAGUE].detail_key(ctx)
    return PUPIL_KEYS[PupilRole.CHILD] if _child(ctx) is not None else None
