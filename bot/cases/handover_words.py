"""What the bot says when a report changes hands or is reopened: the new owner's alert, the owner's news, the log's labels.

Like every alert, these go only to people the report is routed to, so they may name people;
their previews (bot.cases.preview) carry the reference and what is asked, nothing more. The
reason is never in an alert: it is kept with the report and shown in its log (View log).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.app import App
from bot.cases import messages, preview
from routing.vocabulary import CATEGORY_LABELS, Category
from storage.log import Entry, EventKind
from storage.models import Recipient, Report

REASON_IN_LOG = "The reason is in its log (View log)."


def reassigned_alert(app: App, report: Report, recipient: Recipient | None, recipients: Sequence[Recipient]) -> messages.Alert:
    """To the new owner of a reassigned report: it is theirs now, and by when to acknowledge it."""
    alert = messages.alert(app, report, recipient, recipients)
    if report.acknowledged_at is not None or report.closed_at is not None:
        return alert  # acknowledged (or closed) since: the alert as it stands says who and when
    _, _, rest = alert.text.partition("\n")
    role = f" as {app.role_name(recipient.role)}" if recipient is not None else ""
    heading = ("URGENT: " if alert.urgent else "") + f"Report {report.reference} reassigned to you{role} to acknowledge"
    text = "\n".join([heading, rest, REASON_IN_LOG])
    shown = preview.line(("urgent: " if alert.urgent else "") + "a report reassigned to you to acknowledge",
                         report.reference)
    return messages.Alert(report.reference, text, alert.buttons, alert.urgent, shown)


def reopened_notice(app: App, report: Report, recipient: Recipient | None, recipients: Sequence[Recipient]) -> messages.Alert:
    """To the owner of a report reopened by the DSL or a deputy: it is open again, and what is asked of them."""
    alert = messages.alert(app, report, recipient, recipients)
    if report.closed_at is not None:
        closed = f"Report {report.reference} was reopened, and has been closed again since."
        return messages.Alert(report.reference, closed, alert.buttons, False, preview.line("an update on a report",
                                                                                          report.reference))
    lines = [f"Report {report.reference} has been reopened: it is open again.",
             CATEGORY_LABELS[Category(report.category)]]
    if report.acknowledged_at is None and report.ack_deadline is not None:
        lines.append(f"Acknowledge by {app.local(report.ack_deadline)}")
    lines.append(REASON_IN_LOG)
    return messages.Alert(report.reference, "\n".join(lines), alert.buttons, False,
                          preview.line("a report of yours was reopened", report.reference))


def note_labels(app: App, history: Sequence[Entry]) -> dict[int, str]:
    """What each reason kept as a note is, by note id, read from the events that refer to it."""
    labels: dict[int, str] = {}
    for entry in history:
        data = entry.data if isinstance(entry.data, dict) else {}
        if entry.kind == EventKind.REASSIGNED and isinstance(data.get("note"), int):
            role = app.role_name(str(data.get("role", "")))
            labels[data["note"]] = f"Reassigned to {app.name(str(data.get('to', '')))} ({role}), reason given"
        elif entry.kind == EventKind.REOPENED:
            if isinstance(data.get("note"), int):
                labels[data["note"]] = "Reopened, reason given"
            if isinstance(data.get("closing_note"), int):
                labels[data["closing_note"]] = "How it had been closed, kept when it was reopened"
    return labels


def closing_words(app: App, report: Report) -> str:
    """How a report was closed, in words, kept as a note when it is reopened (its closing columns are cleared)."""
    decision = messages.CLOSE_DECISIONS.get(report.close_decision or "", report.close_decision or "no decision")
    by = app.name(report.closed_by) if report.closed_by is not None else "someone"
    at = app.local(report.closed_at) if report.closed_at is not None else "an unknown time"
    return f"Closed by {by} at {at}: {decision}. Reason: {report.close_reason or ''}"
