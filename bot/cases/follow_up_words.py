"""What the follow-up relay says: a question as the reporter reads it, an answer or addition as its owner reads it.

The reporter is told who asks by role only ("The headteacher asks: ..."), never by name: a
reporter who sent a report without their name learns nothing of who holds it beyond what its
receipt said, and the person handling it is not exposed either. What those who answer for it
read of an answer says "The reporter", nothing more. A locked phone shows the reference and
what is asked, never the words (bot.cases.preview).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.app import App
from bot.cases import access, preview
from bot.cases.messages import ASK_REPORTER, VIEW, Alert, ReportButton
from storage.models import Recipient, Report, ReportNote


def answer_button(question: ReportNote) -> ReportButton:
    """Answer, bound to the question it answers (a reply to any other question is refused)."""
    return ReportButton("answer", "Answer", question=question.id)


def asker_role(report: Report, question: ReportNote, recipients: Sequence[Recipient]) -> str | None:
    """The role through which the question's author answers for the report (the first such row)."""
    return next((r.role for r in recipients if r.person_id == question.author
                 and access.may(r.person_id, access.Action.ASK, report, recipients)), None)


def question_for_reporter(app: App, report: Report, question: ReportNote, recipients: Sequence[Recipient]) -> Alert:
    """To the reporter: what they are asked, by whom (a role), and how to answer."""
    role = asker_role(report, question, recipients)
    who = f"The {app.role_name(role)}" if role is not None else "The person handling your report"
    text = "\n".join([
        f"A question about your report {report.reference}",
        f"{who} asks: {question.text}",
        "Press Answer to reply. Only the people handling your report read your answer.",
    ])
    return Alert(report.reference, text, (answer_button(question),), False,
                 preview.line("a question about your report", report.reference))


def answer_for_owner(app: App, report: Report, answer: ReportNote, question: ReportNote | None,
                     buttons: tuple[ReportButton, ...]) -> Alert:
    """To those who answer for the report: the reporter's answer, under the question it answers."""
    lines = [f"Answer from the reporter of {report.reference}"]
    if question is not None:
        lines.append(f"Asked at {app.local(question.at)}: {question.text}")
    lines.append(f"The reporter answers: {answer.text}")
    return Alert(report.reference, "\n".join(lines), buttons, False,
                 preview.line("the reporter answered a question", report.reference))


def addition_for_owner(app: App, report: Report, addition: ReportNote, buttons: tuple[ReportButton, ...]) -> Alert:
    """To those who answer for the report: what its reporter added (a closed report stays closed)."""
    lines = [f"The reporter of {report.reference} added to it", f"The reporter adds: {addition.text}"]
    if report.closed_at is not None:
        lines.append("The report is closed: this does not reopen it. Reopen it if it needs more done.")
    return Alert(report.reference, "\n".join(lines), buttons, False,
                 preview.line("the reporter added to a report", report.reference))


def owner_buttons(report: Report, person_id: str, recipients: Sequence[Recipient]) -> tuple[ReportButton, ...]:
    """What the reader of an answer or addition may do next: ask again while it is open, and view it."""
    rights = access.allowed(person_id, report, recipients)
    wanted = ((ASK_REPORTER, report.closed_at is None), (VIEW, True))
    return tuple(button for button, needed in wanted if needed and access.Action(button.action) in rights)

