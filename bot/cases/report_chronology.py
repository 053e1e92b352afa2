"""A report's history in words: one line per event of the log, with the words kept for it (notes, reasons).

The log holds digests of what people wrote; the words are in the report's own rows (notes,
the closing reason), found here by the note ids the events carry. A note whose words were
erased under retention shows as such instead of failing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.app import App
from bot.cases.messages import CLOSE_DECISIONS, who
from bot.cases.reporter import is_anonymous
from routing.vocabulary import CATEGORY_LABELS, Category
from storage.log import SYSTEM, Entry, EventKind
from storage.models import Report, ReportNote

NO_WORDS = "(no words kept)"
PLATFORMS = {"slack": "Slack", "teams": "Teams", "console": "the console"}
NOTICES = {
    "alert": "the alert", "reminder": "a reminder", "lado": "the LADO reminder", "receipt": "the receipt",
    "acknowledged": "news that it was acknowledged", "closed": "news that it was closed",
    "reopened": "news that it was reopened", "undelivered": "news of an undelivered message",
}
WHAT = {
    EventKind.CREATED: "Reported", EventKind.ROUTED: "Routed", EventKind.EVIDENCE_ATTACHED: "Screenshots stored",
    EventKind.ALERT_DELIVERED: "Delivered", EventKind.DELIVERY_FAILED: "Not delivered",
    EventKind.ACKNOWLEDGED: "Acknowledged", EventKind.NOTE_ADDED: "Note", EventKind.ACTION_RECORDED: "Action taken",
    EventKind.ESCALATED: "Escalated", EventKind.REMINDED: "Reminders sent", EventKind.LADO_DUE: "LADO consultation due",
    EventKind.LADO_CONSULTED: "LADO consulted", EventKind.REASSIGNED: "Reassigned", EventKind.REOPENED: "Reopened",
    EventKind.CLOSED: "Closed", EventKind.VIEWED: "Viewed", EventKind.REFUSED: "Refused",
    EventKind.EXPORTED: "Exported", EventKind.EVIDENCE_SHOWN: "Screenshots shown",
    EventKind.REPORTER_ASKED: "Question to the reporter", EventKind.REPORTER_ANSWERED: "The reporter answered",
    EventKind.REPORTER_ADDED: "The reporter added", EventKind.HELD: "Legal hold placed",
    EventKind.RELEASED: "Legal hold released", EventKind.HANDED_ON: "Handed on",
    EventKind.ERASED: "Words erased under retention",
}
# Who a report sent without its reporter's name shows as, wherever its handle acted (bot.cases.reporter).
UNNAMED_REPORTER = "The reporter (sent without their name)"


@dataclass(frozen=True)
class Moment:
    """One entry of the chronology: when, what, who, and the details in words."""

    seq: int
    at: datetime  # UTC, as the log keeps it
    when: str  # in the school's zone
    what: str
    who: str
    details: str
    hash: str  # the event's hash in the log, to check a line against `safeguard log export`


def local_time(app: App, at: datetime) -> str:
    """A time as the record shows it, in the school's zone with its abbreviation: `Fri 20 Nov 2026, 09:15:00 GMT`."""
    shown = at.astimezone(app.zone)
    return f"{shown:%a} {shown.day} {shown:%b %Y, %H:%M:%S} {shown.tzname() or app.school.timezone}"


def chronology(app: App, report: Report, history: Sequence[Entry], notes: Mapping[int, ReportNote]) -> list[Moment]:
    """Each event of `history` (the report's, oldest first) as a line of the chronology."""
    last_closed = max((e.seq for e in history if e.kind == EventKind.CLOSED), default=None)
    words = _Words(app, report, notes, last_closed)
    moments = []
    for entry in history:
        data: dict[str, Any] = entry.data if isinstance(entry.data, dict) else {}
        describe = words.by_kind.get(entry.kind)
        details = describe(entry, data) if describe is not None else ""
        actor = "Safeguard" if entry.actor == SYSTEM else words.name(entry.actor)
        what = WHAT.get(EventKind(entry.kind), entry.kind.replace("_", " ").capitalize()) \
            if entry.kind in set(EventKind) else entry.kind.replace("_", " ").capitalize()
        moments.append(Moment(entry.seq, entry.at, local_time(app, entry.at), what, actor, details, entry.hash))
    return moments


class _Words:
    """The details of each kind of event, in words."""

    def __init__(self, app: App, report: Report, notes: Mapping[int, ReportNote], last_closed: int | None) -> None:
        self.app = app
        self.report = report
        self.notes = notes
        self.last_closed = last_closed
        self.by_kind: dict[str, Callable[[Entry, dict[str, Any]], str]] = {
            EventKind.CREATED: self.created, EventKind.ROUTED: self.routed,
            EventKind.EVIDENCE_ATTACHED: self.evidence, EventKind.ALERT_DELIVERED: self.delivered,
            EventKind.DELIVERY_FAILED: self.failed, EventKind.NOTE_ADDED: self.note,
            EventKind.ACTION_RECORDED: self.note, EventKind.ESCALATED: self.escalated,
            EventKind.REMINDED: self.reminded, EventKind.LADO_DUE: self.lado_due,
            EventKind.LADO_CONSULTED: self.lado_consulted, EventKind.REASSIGNED: self.reassigned,
            EventKind.REOPENED: self.reopened, EventKind.CLOSED: self.closed, EventKind.VIEWED: self.viewed,
            EventKind.REFUSED: self.refused, EventKind.EXPORTED: self.exported,
            EventKind.EVIDENCE_SHOWN: self.shown, EventKind.REPORTER_ASKED: self.note,
            EventKind.REPORTER_ANSWERED: self.note, EventKind.REPORTER_ADDED: self.note,
            EventKind.ERASED: self.erased, EventKind.HANDED_ON: self.handed_on,
        }

    def time(self, text: object) -> str:
        if not isinstance(text, str):
            return ""
        try:
            return local_time(self.app, datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            return text

    def name(self, person: str) -> str:
        """A person's name; the report's own handle, if it was sent without a name, as its reporter."""
        return UNNAMED_REPORTER if is_anonymous(self.report) and person == self.report.reporter else self.app.name(person)

    def people(self, ids: object) -> str:
        return ", ".join(self.name(str(i)) for i in ids) if isinstance(ids, list) and ids else "nobody"

    def words(self, note_id: object) -> str:
        note = self.notes.get(note_id) if isinstance(note_id, int) else None
        return (note.text if note is not None else "") or NO_WORDS

    def created(self, entry: Entry, data: dict[str, Any]) -> str:
        category = data.get("category")
        label = CATEGORY_LABELS[Category(category)] if category in set(Category) else str(category or "")
        answers = "; ".join(f"{key}: {value}" for key, value in (self.report.details or {}).items())
        return f"{label}. {'; '.join(who(self.report, self.app))}. Answers: {answers or NO_WORDS}"

    def routed(self, entry: Entry, data: dict[str, Any]) -> str:
        decision = data.get("decision") if isinstance(data.get("decision"), dict) else {}
        owner = self.app.role_name(str(decision.get("owner", ""))) if decision else ""
        sent = [f"{self.app.name(str(r.get('person')))} ({self.app.role_name(str(r.get('role')))}, {r.get('kind')})"
                for r in data.get("recipients", []) if isinstance(r, dict)]
        due = self.time(data.get("ack_deadline"))
        return (f"Owner: {owner}. To: {'; '.join(sent) or 'nobody'}. Acknowledge by {due}."
                + (f" LADO to be consulted by {self.time(data['lado_due'])}." if data.get("lado_due") else ""))

    def evidence(self, entry: Entry, data: dict[str, Any]) -> str:
        listed = data.get("sha256")
        digests: list[Any] = listed if isinstance(listed, list) else []
        return f"{data.get('count', len(digests))} screenshot(s); sha256: " + ", ".join(map(str, digests))

    def delivered(self, entry: Entry, data: dict[str, Any]) -> str:
        notice = NOTICES.get(str(data.get("notice")), str(data.get("notice", "a message")))
        channel = PLATFORMS.get(str(data.get("channel")), str(data.get("channel", "")))
        return f"{notice.capitalize()} to {self.name(str(data.get('person', '')))} on {channel}"

    def failed(self, entry: Entry, data: dict[str, Any]) -> str:
        return f"{self.delivered(entry, data)} could not be delivered: {data.get('error', '')}"

    def note(self, entry: Entry, data: dict[str, Any]) -> str:
        return self.words(data.get("note"))

    def escalated(self, entry: Entry, data: dict[str, Any]) -> str:
        return (f"Not acknowledged after {data.get('waited', '')}: step {data.get('step', '')}, to the "
                f"{self.app.role_name(str(data.get('role', '')))} ({self.people(data.get('to'))}); "
                f"reminded: {self.people(data.get('reminded'))}")

    def reminded(self, entry: Entry, data: dict[str, Any]) -> str:
        return (f"Not acknowledged after {data.get('waited', '')}, the ladder used up; reminded: "
                f"{self.people(data.get('reminded'))}")

    def lado_due(self, entry: Entry, data: dict[str, Any]) -> str:
        return f"No LADO consultation recorded by {self.time(data.get('due'))} (one working day, KCSIE Part four)"

    def lado_consulted(self, entry: Entry, data: dict[str, Any]) -> str:
        return "Within the working day" if data.get("in_time", True) else "After the working day had passed"

    def reassigned(self, entry: Entry, data: dict[str, Any]) -> str:
        role = self.app.role_name(str(data.get("role", "")))
        return (f"From {self.people(data.get('from'))} to {self.app.name(str(data.get('to', '')))} ({role}). "
                f"Reason: {self.words(data.get('note'))}")

    def reopened(self, entry: Entry, data: dict[str, Any]) -> str:
        return f"Reason: {self.words(data.get('note'))}. As it had been: {self.words(data.get('closing_note'))}"

    def closed(self, entry: Entry, data: dict[str, Any]) -> str:
        decision = CLOSE_DECISIONS.get(str(data.get("decision")), str(data.get("decision", "")))
        if entry.seq == self.last_closed and self.report.closed_at is not None:
            return f"{decision}. Reason: {self.report.close_reason or NO_WORDS}"
        return f"{decision}. Its reason was kept when it was reopened (below)"

    def viewed(self, entry: Entry, data: dict[str, Any]) -> str:
        return "Its progress, as its reporter" if data.get("scope") == "progress" else "The whole report"

    def refused(self, entry: Entry, data: dict[str, Any]) -> str:
        return f"Not entitled to {str(data.get('action', 'act')).replace('_', ' ')} it; refused and logged"

    def exported(self, entry: Entry, data: dict[str, Any]) -> str:
        return f"As {data.get('format', '')}, through event {data.get('through', '')}"

    def erased(self, entry: Entry, data: dict[str, Any]) -> str:
        return (f"Under the school's retention rule {data.get('rule', '')}: its details, notes, reasons and "
                "screenshots are gone; its outline, routing and this chronology are kept")

    def handed_on(self, entry: Entry, data: dict[str, Any]) -> str:
        return f"To {self.report.handed_on_to or NO_WORDS}"

    def shown(self, entry: Entry, data: dict[str, Any]) -> str:
        return f"{data.get('count', 0)} screenshot(s), into their own chat"
