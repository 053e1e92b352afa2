"""What the bot says about reports: the alert, "sent", refusals, and news for the reporter.

Replies are neutral (dialogs.prompts.Reply); each channel renders them. Alerts go only to
people a report was routed to, so they may carry its details; news for the reporter and
anything a refused person sees carries the reference and roles, never a name or details.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.cases import access, preview
from bot.app import App
from dialogs import Choice, Reply, Tone
from routing.vocabulary import (
    ABOUT_THE_REPORTER,
    CATEGORY_LABELS,
    FLAG_LABELS,
    FLAG_ORDER,
    TARGET_LABELS,
    Category,
    Flag,
    Role,
    Target,
)
from storage.models import Recipient, RecipientKind, Report, ReportNote
from storage.log import Entry
from storage.sealed_reporters import is_handle

EMERGENCY = "If a child is in immediate danger, call 999 now and follow the school's emergency procedure."

# How a closed report ended. The statutory guidance asks that decisions and the reasons for
# them are recorded (KCSIE Part two, "Record keeping"), so closing needs one of these and a reason.
CLOSE_DECISIONS: dict[str, str] = {
    "no_further_action": "No further action",
    "handled_in_school": "Handled in school",
    "early_help": "Referred to early help",
    "social_care": "Referred to children's social care",
    "police": "Reported to the police",
    "lado": "Referred to the LADO",
}

STATE_WORDS = {"open": "open, not yet acknowledged", "acknowledged": "acknowledged, still open", "closed": "closed"}

SUBJECT_WORDS = {
    "pupil": "a pupil", "parent": "a parent or carer", "staff": "a member of staff",
    "headteacher": "the headteacher", "dsl": "the DSL", "deputy_dsl": "a deputy DSL",
    "governor": "a governor", "chair_of_governors": "the chair of governors",
    "other": "someone else", "unknown": "someone not known",
}


@dataclass(frozen=True)
class ReportButton:
    """Something the reader of an alert can do to the report, as a channel shows it."""

    action: str  # "acknowledge", "note", "record_action", "view"
    label: str
    question: int | None = None  # Answer: the question it answers (bot.cases.follow_up)


ACKNOWLEDGE = ReportButton("acknowledge", "Acknowledge")
ADD_NOTE = ReportButton("note", "Add note")
RECORD_ACTION = ReportButton("record_action", "Record action")
VIEW = ReportButton("view", "View log")
LADO_CONSULTED = ReportButton("lado", "LADO consulted")
REASSIGN = ReportButton("reassign", "Reassign")
REOPEN = ReportButton("reopen", "Reopen")
SCREENSHOTS = ReportButton("screenshots", "Screenshots")  # sent to the presser's own chat (bot.cases.evidence)
ASK_REPORTER = ReportButton("ask", "Ask the reporter")  # a question into the reporter's own chat (bot.cases.follow_up)
ADD_TO_REPORT = ReportButton("add", "I have something to add")  # on the reporter's receipt
# How a report's history labels the follow-up relay's notes; the reporter's words are signed "the reporter", never a name.
FOLLOW_UP_LABELS = {"question": "Question to the reporter", "answer": "The reporter answered",
                    "addition": "The reporter added"}
EXPORT = ReportButton("export", "Export")  # a closed report as a PDF, into the presser's own chat (bot.cases.report_export)


@dataclass(frozen=True)
class Alert:
    """A report routed to someone, as their alert shows it."""

    reference: str
    text: str
    buttons: tuple[ReportButton, ...]
    urgent: bool
    preview: str  # what a locked phone shows (bot.cases.preview): never the text's names or details


def about(report: Report, app: App) -> str:
    """Who the report is about, for someone entitled to read it."""
    if report.subject_person is not None and report.subject_person == report.reporter \
            and report.category in ABOUT_THE_REPORTER:
        return f"{app.name(report.subject_person)} (about themself: a self-referral)"
    if report.subject_person is not None:
        return f"{app.name(report.subject_person)} (member of staff)"
    return SUBJECT_WORDS.get(report.subject, report.subject).capitalize()


def who(report: Report, app: App) -> list[str]:
    """Who the report is about; for cyberbullying, who is being bullied and who is doing it."""
    if report.target is None:
        return [f"About: {about(report, app)}"]
    return [f"Who is being bullied: {TARGET_LABELS[Target(report.target)].capitalize()}", f"By: {about(report, app)}"]


def flagged(report: Report) -> list[str]:
    """The report's flags in their usual order, in words."""
    return [FLAG_LABELS[flag] for flag in FLAG_ORDER if flag.value in report.flags]


def alert(app: App, report: Report, recipient: Recipient | None, recipients: Sequence[Recipient]) -> Alert:
    """The alert for one person the report was routed to (or escalated to), saying what is asked of them.

    Its buttons are what bot.cases.access lets this reader do, where the report still needs it: an
    informed reader sees who owns it and its state, and no Acknowledge button unless the rule
    lets them (the DSL does).
    """
    rights = access.allowed(recipient.person_id, report, recipients) if recipient is not None else frozenset()
    owner = recipient is not None and recipient.kind == RecipientKind.OWNER.value
    escalated = recipient is not None and recipient.escalated_at is not None
    done = report.acknowledged_at is not None and report.acknowledged_by is not None
    open_to_ack = report.acknowledged_at is None and report.closed_at is None
    # Once acknowledged, nothing is urgent or asked any more: the heading says who took it, and when.
    urgent = Flag.IMMEDIATE_RISK.value in report.flags and not done
    if done:
        assert report.acknowledged_at is not None and report.acknowledged_by is not None
        heading = (f"Report {report.reference} acknowledged by {app.name(report.acknowledged_by)} "
                   f"at {app.local(report.acknowledged_at)}")
    elif escalated:
        heading = ("URGENT: " if urgent else "") + f"ESCALATED: report {report.reference} for you to acknowledge"
    else:
        heading = ("URGENT: " if urgent else "") + f"New report {report.reference} " + (
            "for you to acknowledge" if owner else "for your information")
    lines = [heading]
    if escalated:
        assert recipient is not None and recipient.escalated_at is not None
        waited = waited_words(recipient.escalated_at - report.created_at)
        # Who failed to respond is not said: the ladder's rung is told it has waited, not why.
        lines.append(f"Not acknowledged {waited} after it was reported, so it has come to you "
                     f"as {app.role_name(recipient.role)}.")
    lines += [CATEGORY_LABELS[Category(report.category)], *who(report, app)]
    if report.allegation:
        lines.append("Handled as: a possible allegation (KCSIE Part four)")
    marks = flagged(report)
    if marks:
        lines.append("Flagged: " + "; ".join(marks))
    lines.append(reported(app, report))
    if report.screenshots:  # never in a preview: they go to the presser's own chat (bot.cases.evidence)
        lines.append(f"{report.screenshots} screenshot{'s' if report.screenshots != 1 else ''}: " + (
            "press Screenshots" if access.Action.SCREENSHOTS in rights else "sent to whoever answers for it"))
    carries = owner or escalated
    if not carries:
        lines.append(_owned_by(app, report, recipients))
    # Acknowledged, the heading says who and when; until then, whoever carries it is told by when.
    due = report.next_escalation_at if escalated and report.next_escalation_at is not None else report.ack_deadline
    if carries and not done and due is not None:
        lines.append(f"Acknowledge by {app.local(due)}")
    if report.closed_at is not None and report.closed_by is not None:
        lines.append(f"Closed by {app.name(report.closed_by)} at {app.local(report.closed_at)}")
    lines += lado_lines(app, report)
    if not carries:
        lines.append(_what_you_can_do(recipient, rights))
    shown = preview.new_alert(report.reference, owner=owner, escalated=escalated, urgent=urgent, acknowledged=done)
    return Alert(report.reference, "\n".join(lines), _buttons(report, recipient, rights, open_to_ack), urgent, shown)


def _owned_by(app: App, report: Report, recipients: Sequence[Recipient]) -> str:
    """Who owns the report, by role, and whether they have still to acknowledge it: for a reader only told of it."""
    owner = next((r.role for r in recipients if r.kind == RecipientKind.OWNER.value), None)
    line = f"Owned by the {app.role_name(owner)}" if owner is not None else "Not owned by anyone yet"
    if report.acknowledged_at is None and report.closed_at is None and report.ack_deadline is not None:
        line += f", who is asked to acknowledge it by {app.local(report.ack_deadline)}"
    return line


def _what_you_can_do(recipient: Recipient | None, rights: frozenset[access.Action]) -> str:
    """What an informed reader is asked, in the words of what the access rule lets them do."""
    can = [words for action, words in CAN_DO if action in rights]
    if not can:
        return "You cannot act on it."
    # The DSL may acknowledge and close a case she is only told of: say why her copy offers it.
    as_dsl = recipient is not None and recipient.role == Role.DSL.value and access.Action.CLOSE in rights
    listed = ", ".join(can[:-1]) + " and " + can[-1] if len(can) > 1 else can[0]
    return f"You are told of it{' as the DSL' if as_dsl else ''}: you can {listed}."


# What an alert's reader may be able to do, in the order a sentence says it.
CAN_DO = (
    (access.Action.VIEW, "view it"), (access.Action.NOTE, "add a note"),
    (access.Action.RECORD_ACTION, "record the action taken"), (access.Action.ACKNOWLEDGE, "acknowledge it"),
    (access.Action.CLOSE, "close it"),
)


def _buttons(report: Report, recipient: Recipient | None, rights: frozenset[access.Action],
             open_to_ack: bool) -> tuple[ReportButton, ...]:
    """The buttons this reader may use (bot.cases.access decides), where the report still needs them."""
    wanted = [
        # Once acknowledged (or closed), an alert sent late or updated in place offers no Acknowledge.
        (ACKNOWLEDGE, open_to_ack),
        (ADD_NOTE, True),
        (ASK_REPORTER, report.closed_at is None),
        # Appendix B: the action taken is recorded on an inappropriate-content report, or by its officer.
        (RECORD_ACTION, report.category == Category.INAPPROPRIATE_CONTENT
         or (recipient is not None and recipient.role == Role.ONLINE_SAFETY_OFFICER)),
        (LADO_CONSULTED, lado_pending(report)),
        (VIEW, True),
        (REASSIGN, report.closed_at is None),
        (REOPEN, report.closed_at is not None),
        # Closed, a report is handed on whole to the file where the case lives (CPOMS, MyConcern).
        (EXPORT, report.closed_at is not None),
    ]
    shown = tuple(button for button, needed in wanted if needed and access.Action(button.action) in rights)
    # Screenshots go only to those who answer for the report (bot.cases.access), not to all it was told to.
    return shown + ((SCREENSHOTS,) if report.screenshots and access.Action.SCREENSHOTS in rights else ())


def reminder(app: App, report: Report, recipients: Sequence[Recipient]) -> Alert:
    """To the people already asked to acknowledge, when the deadline passed and nobody has."""
    if report.acknowledged_at is not None and report.acknowledged_by is not None:
        # Sent after someone acknowledged after all: say so rather than raise a false alarm.
        return Alert(report.reference, f"Update: {report.reference} has now been acknowledged by "
                     f"{app.name(report.acknowledged_by)} at {app.local(report.acknowledged_at)}.", (VIEW,), False,
                     preview.reminder(report.reference, acknowledged=True, urgent=False))
    urgent = Flag.IMMEDIATE_RISK.value in report.flags
    due = f" It was due by {app.local(report.ack_deadline)}." if report.ack_deadline is not None else ""
    lines = [("URGENT: " if urgent else "") + f"Reminder: {report.reference} has not been acknowledged.{due}"]
    reached = list(dict.fromkeys(app.role_name(r.role) for r in recipients if r.escalated_at is not None))
    if reached:
        lines.append("It has been escalated to the " + " and the ".join(reached) + ".")
    else:
        lines.append("Nobody further up the ladder is left to escalate to.")
    lines.append(f"{CATEGORY_LABELS[Category(report.category)]}. Please acknowledge it now.")
    if urgent:
        lines.append(EMERGENCY)
    return Alert(report.reference, "\n".join(lines), (ACKNOWLEDGE, VIEW), urgent,
                 preview.reminder(report.reference, acknowledged=False, urgent=urgent))


def lado_reminder(app: App, report: Report) -> Alert:
    """To the case owner when an allegation's working day for consulting the LADO has passed."""
    if report.lado_consulted_at is not None:
        return Alert(report.reference, f"Update: the LADO consultation for {report.reference} is recorded.", (VIEW,), False,
                     preview.follow_up(report.reference, done=True))
    due = f" by {app.local(report.lado_due_at)}" if report.lado_due_at is not None else ""
    text = (f"LADO: {report.reference} is a possible allegation against someone who works with children. "
            f"The local authority designated officer should have been consulted{due} (within one working day, "
            "KCSIE Part four). If you have consulted them, record it with LADO consulted; if not, please do so today.")
    return Alert(report.reference, text, (LADO_CONSULTED, VIEW), False, preview.follow_up(report.reference, done=False))


def lado_pending(report: Report) -> bool:
    """Whether the report still waits for its LADO consultation to be recorded."""
    return report.lado_due_at is not None and report.lado_consulted_at is None and report.closed_at is None


def lado_lines(app: App, report: Report) -> list[str]:
    """The LADO clock as an alert or a view shows it."""
    if report.lado_consulted_at is not None and report.lado_consulted_by is not None:
        return [f"LADO consulted: recorded by {app.name(report.lado_consulted_by)} at {app.local(report.lado_consulted_at)}"]
    if lado_pending(report):
        assert report.lado_due_at is not None
        return [f"Consult the LADO by {app.local(report.lado_due_at)} (one working day, KCSIE Part four)"]
    return []


def waited_words(waited: timedelta) -> str:
    """A wait as a person says it: `45 min`, `2 h 5 min`."""
    minutes = max(0, int(waited.total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    if hours == 0:
        return f"{minutes} min"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def sent(app: App, reference: str, owner_role: str, deadline: datetime | None, urgent: bool) -> list[Reply]:
    """Told to the reporter once their report is stored and routed: never before it is stored."""
    text = f"Thank you. Your report {reference} has been sent to the {app.role_name(owner_role)}."
    if deadline is not None:
        text += f" They are asked to acknowledge it by {app.local(deadline)}; you will hear when they do."
    replies = [Reply(text, tone=Tone.DONE, preview=preview.receipt(reference))]
    if urgent:
        replies.append(Reply(EMERGENCY, tone=Tone.WARNING))
    return replies


def stranger(account: str) -> Reply:
    """Told to someone whose `account` (Slack, Teams) is not in the school config: no report is taken from them there."""
    return Reply(
        f"Safeguard doesn't know your {account} account yet, so it can't take a report from you here. Please ask "
        f"your school's Safeguard administrator to add you to the staff list. {EMERGENCY} "
        "Meanwhile, tell your Designated Safeguarding Lead in person.",
        tone=Tone.ERROR,
    )


# Said to anyone who sends a file: images of children are never copied or passed on, even to report them.
NO_FILES = Reply(
    "Safeguard can't take that file here. It takes pictures only as screenshots, at the screenshots question "
    "of a report of social media misuse, a friend request or cyberbullying. Never copy, save or forward an image "
    "that may be an indecent image of a child, even to report it: describe what you saw in words instead.",
    tone=Tone.WARNING,
)


def not_saved(app: App, reporter_id: str, retry: Sequence[Choice] = ()) -> Reply:
    """Told when the report could not be stored: it was not sent, and who to go to instead."""
    contacts = _dsl_contacts(app, reporter_id)
    return Reply(
        "Your report could not be saved, so it has NOT been sent. Please tell "
        + (f"{contacts} directly" if contacts else "your Designated Safeguarding Lead directly")
        + f" now. {EMERGENCY} Your answers are kept here: choose Send to try again.",
        tone=Tone.ERROR,
        choices=tuple(retry),
        preview=preview.line("your report has NOT been sent: please read this message"),
    )


def saved_not_routed(app: App, reporter_id: str, reference: str) -> Reply:
    """Told when the report is stored but could not be routed just now (it is retried at the next start)."""
    contacts = _dsl_contacts(app, reporter_id)
    return Reply(
        f"Your report {reference} is saved, but it could not be passed on just now. Please tell "
        + (f"{contacts}" if contacts else "your Designated Safeguarding Lead")
        + f" directly and quote {reference}. {EMERGENCY}",
        tone=Tone.ERROR,
        preview=preview.line("your report is saved but not yet passed on: please read this message", reference),
    )


def unavailable(app: App, reporter_id: str) -> Reply:
    """Told when the database cannot be reached mid-conversation."""
    contacts = _dsl_contacts(app, reporter_id)
    return Reply(
        "Safeguard cannot reach its database just now, so that answer was not saved. Please try again in a "
        "minute. If this is urgent, tell " + (contacts or "your Designated Safeguarding Lead") + f" directly. {EMERGENCY}",
        tone=Tone.ERROR,
        preview=preview.trouble(),
    )


def refused(reference: str, verb: str) -> Reply:
    """Told to someone who may not act on a report; the same words whether or not it exists."""
    return Reply(
        f"You can't {verb} {reference}: it was not sent to you. If you think it should have been, "
        "speak to your Designated Safeguarding Lead.",
        tone=Tone.ERROR,
        preview=preview.refused(),
    )


def acknowledged_for_reporter(app: App, reference: str, role: str | None, at: datetime) -> Reply:
    """News for the reporter: their report was acknowledged (by a role, not a name)."""
    by = f" by the {app.role_name(role)}" if role is not None else ""
    return Reply(f"Your report {reference} was acknowledged{by} at {app.local(at)}.", tone=Tone.DONE,
                 preview=preview.acknowledged(reference))


def closed_for_reporter(app: App, reference: str, at: datetime) -> Reply:
    """News for the reporter: their report was closed (when, not the decision or the reason)."""
    return Reply(f"Your report {reference} was closed at {app.local(at)}. Thank you for reporting it.", tone=Tone.DONE,
                 preview=preview.closed(reference))


def reported(app: App, report: Report) -> str:
    """Who reported it and when; for a report sent without a name, only that it was (storage/sealed_reporters.py)."""
    if is_handle(report.reporter):
        return f"Sent without the reporter's name at {app.local(report.created_at)}"
    return f"Reported by {app.name(report.reporter)} at {app.local(report.created_at)}"


def progress_for_reporter(app: App, report: Report, recipients: Sequence[Recipient]) -> Reply:
    """A report as its reporter follows it: where it went (by role), and when it was acknowledged and closed.

    Never the details, the notes, the decision or who else did what: the case is its owner's.
    """
    owner = next((r.role for r in recipients if r.kind == RecipientKind.OWNER.value), None)
    lines = [f"Your report {report.reference}: {STATE_WORDS.get(report.status, report.status)}"]
    lines.append(f"Sent to the {app.role_name(owner)}" if owner is not None
                 else "Not passed on yet: please tell your Designated Safeguarding Lead directly.")
    lines.append(f"Reported at {app.local(report.created_at)}")
    if report.acknowledged_at is not None:
        by = next((r.role for r in recipients if r.person_id == report.acknowledged_by), None)
        lines.append(f"Acknowledged{f' by the {app.role_name(by)}' if by is not None else ''} "
                     f"at {app.local(report.acknowledged_at)}")
    elif report.closed_at is None:
        lines.append("Not acknowledged yet")
    if report.closed_at is not None:
        lines.append(f"Closed at {app.local(report.closed_at)}")
    return Reply("\n".join(lines), tone=Tone.SUMMARY)


ERASED = "(erased under retention)"


def report_view(
    app: App, report: Report, recipients: Sequence[Recipient], notes: Sequence[ReportNote], history: Sequence[Entry],
    labels: Mapping[int, str] | None = None,
) -> Reply:
    """Everything about a report, for someone entitled to see it."""
    lines = [f"Report {report.reference}: {report.status}", CATEGORY_LABELS[Category(report.category)]]
    lines.append(f"About: {about(report, app)}")
    if report.allegation:
        lines.append("Handled as: a possible allegation (KCSIE Part four)")
    lines += [f"{key}: {value}" for key, value in report.details.items()]
    marks = flagged(report)
    lines.append("Flagged: " + ("; ".join(marks) if marks else "nothing"))
    lines.append(reported(app, report))
    for person in recipients:
        if person.kind != RecipientKind.ESCALATION.value or person.escalated_at is not None:
            lines.append(f"Sent to: {app.name(person.person_id)} ({app.role_name(person.role)}, {person.kind})")
    if report.ack_deadline is not None and report.acknowledged_at is None:
        lines.append(f"Acknowledge by {app.local(report.ack_deadline)}")
    if report.acknowledged_at is not None and report.acknowledged_by is not None:
        lines.append(f"Acknowledged by {app.name(report.acknowledged_by)} at {app.local(report.acknowledged_at)}")
    lines += lado_lines(app, report)
    for note in notes:
        if note.kind in ("answer", "addition"):
            lines.append(f"{FOLLOW_UP_LABELS[note.kind]} at {app.local(note.at)}: {note.text or ERASED}")
            continue
        label = (labels or {}).get(note.id) or FOLLOW_UP_LABELS.get(note.kind) or (
            "Action taken" if note.kind == "action" else "Note")
        lines.append(f"{label} by {app.name(note.author)} at {app.local(note.at)}: {note.text or ERASED}")
    if report.closed_at is not None and report.closed_by is not None:
        decision = CLOSE_DECISIONS.get(report.close_decision or "", report.close_decision or "")
        lines.append(f"Closed by {app.name(report.closed_by)} at {app.local(report.closed_at)}: {decision}. "
                     f"Reason: {report.close_reason or ERASED}")
    if report.erased_at is not None:
        lines.append(f"Its words were erased under the school's retention rules at {app.local(report.erased_at)}.")
    lines.append("History: " + "; ".join(f"{entry.kind.replace('_', ' ')} {app.local(entry.at)}" for entry in history))
    return Reply("\n".join(lines), tone=Tone.SUMMARY, preview=preview.line("the report you asked to see", report.reference))


def _dsl_contacts(app: App, reporter_id: str) -> str:
    """The DSL and deputies by name, for a reporter who must reach them another way."""
    named = [
        f"{person.name} ({app.role_name(role)})"
        for role in (Role.DSL, Role.DEPUTY_DSL)
        for person in app.school.holders(role)
        if person.id != reporter_id
    ]
    return " or ".join(dict.fromkeys(named))
