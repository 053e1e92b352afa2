"""What happened to each generated report, as plain rows and events: made, routed, acknowledged, closed.

A report's life follows the real lifecycle's order and data (storage/reports.py, bot/cases/escalation.py,
storage/escalations.py), drawn at random from a seeded generator so a store can be grown again
identically. Everyone is fictional: the example school's people own reports, `staff-NNN` report them.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from bot.cases.messages import CLOSE_DECISIONS, waited_words
from routing.engine import Decision, decide
from routing.report import Report as RoutingReport
from routing.school import School
from routing.vocabulary import FLAG_ORDER, Category, Flag, Subject
from storage.digests import text_digest
from storage.log import SYSTEM, EventKind, as_json_value, content_digest, timestamp

T = TypeVar("T")
# Monday morning after ISO week 2026-W47: that week's digest is the one measured.
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SPAN = timedelta(days=5 * 365)  # reports are spread over the five years before NOW
REPORTERS = 120  # staff-001 .. staff-120
CATEGORY_WEIGHTS = {
    Category.MISUSE: 30, Category.FRIEND_REQUEST: 15, Category.INAPPROPRIATE_CONTENT: 25,
    Category.COLLEAGUE_CONCERN: 10, Category.PUPIL_DISCLOSURE: 20,
}
SUBJECT_WEIGHTS: dict[Category, dict[Subject, int]] = {
    Category.MISUSE: {Subject.PUPIL: 60, Subject.PARENT: 25, Subject.STAFF: 10, Subject.OTHER: 4, Subject.HEADTEACHER: 1},
    Category.FRIEND_REQUEST: {Subject.PUPIL: 55, Subject.PARENT: 45},
    Category.INAPPROPRIATE_CONTENT: {Subject.PUPIL: 85, Subject.STAFF: 5, Subject.UNKNOWN: 10},
    Category.COLLEAGUE_CONCERN: {Subject.STAFF: 88, Subject.HEADTEACHER: 5, Subject.DSL: 4, Subject.DEPUTY_DSL: 3},
    Category.PUPIL_DISCLOSURE: {Subject.PUPIL: 100},
}
# Who a report about a role-holder names (the example school's fictional people).
NAMED = {Subject.HEADTEACHER: "jellis", Subject.DSL: "smorgan", Subject.DEPUTY_DSL: "rpatel"}
ALLEGATION_SUBJECTS = {Subject.STAFF, Subject.HEADTEACHER, Subject.DSL, Subject.DEPUTY_DSL}
NEVER_ACKNOWLEDGED = 0.01  # of reports older than their deadline: still open (~1% of the store)
NEVER_CLOSED = 0.02  # acknowledged, and still being dealt with
LATE = 0.12  # acknowledged after the deadline (escalated first)
UNDELIVERABLE = 0.004  # an alert the platform refused for good (a `delivery_failed` event)
NOTED = 0.08  # reports with a note added
EXTRA_REMINDERS = 2  # reminder rounds kept once the ladder is used up (the scheduler would go on)


@dataclass
class Ids:
    """The next free ids, and each year's last reference number, carried from one chunk to the next."""

    report: int
    note: int
    counters: dict[int, int]


@dataclass
class Story:
    """One report's rows and its events (at, actor, kind, data), in the order they happened."""

    report: dict[str, Any]
    decision: dict[str, Any]
    notes: list[dict[str, Any]] = field(default_factory=list)
    events: list[tuple[datetime, str, str, dict[str, Any]]] = field(default_factory=list)


class Teller:
    """Tells reports' stories for one school; routing decisions are taken once per kind of report."""

    def __init__(self, school: School) -> None:
        self.school = school
        self._decisions: dict[tuple[Any, ...], tuple[Decision, dict[str, Any]]] = {}
        self._recipients: dict[int, list[dict[str, str]]] = {}  # by id(decision): who it names, as logged
        self._rungs: dict[int, list[list[str]]] = {}  # by id(decision): the ladder, one rung per role

    def created_times(self, rng: random.Random, count: int) -> list[datetime]:
        """`count` report times over SPAN, sorted: mostly school days and hours, some evenings and weekends."""
        start = NOW - SPAN
        times = []
        for _ in range(count):
            day = start + timedelta(days=rng.randrange(SPAN.days))
            if day.weekday() >= 5 and rng.random() < 0.7:
                day -= timedelta(days=day.weekday() - 4)  # most weekend reports are made on Friday
            hour = rng.uniform(8, 17) if rng.random() < 0.8 else rng.uniform(0, 24)
            at = day.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(hours=hour)
            times.append(min(at, NOW - timedelta(minutes=1)))
        times.sort()
        return times

    def tell(self, rng: random.Random, ids: Ids, created_at: datetime) -> Story:
        """One report made at `created_at`, and everything that happened to it up to NOW."""
        category = _weighted(rng, CATEGORY_WEIGHTS)
        subject = _weighted(rng, SUBJECT_WEIGHTS[category])
        about = NAMED.get(subject) or (f"staff-{rng.randrange(1, REPORTERS + 1):03d}" if subject is Subject.STAFF else None)
        flags = _flags(rng, category, subject)
        allegation = subject in ALLEGATION_SUBJECTS and category is Category.COLLEAGUE_CONCERN and rng.random() < 0.4
        report_id, ids.report = ids.report, ids.report + 1
        ids.counters[created_at.year] = number = ids.counters.get(created_at.year, 0) + 1
        reference = f"SG-{created_at.year}-{number:04d}"
        channel = "slack" if rng.random() < 0.7 else "teams"
        row: dict[str, Any] = {
            "id": report_id, "reference": reference, "school": self.school.name, "category": category.value,
            "subject": subject.value, "subject_person": about, "flags": [f.value for f in FLAG_ORDER if f in flags],
            "allegation": allegation, "reporter": f"staff-{rng.randrange(1, REPORTERS + 1):03d}",
            "details": {"what": f"Made-up incident {report_id}: a {category.value.replace('_', ' ')} report "
                                f"for the benchmark, about a {subject.value}",
                        "where": rng.choice(["Instagram", "TikTok", "Snapchat", "WhatsApp", "a school laptop"]),
                        "when": f"{created_at:%d %b}"},
            "created_at": created_at, "channel": channel, "escalation_step": 0,
        }
        decision, decision_json = self._decide(category, subject, flags, about)
        story = Story(row, {"report_id": report_id, "decided_at": created_at + timedelta(seconds=1),
                            "owner_role": decision.owner, "informed": decision_json["informed"],
                            "escalation": decision_json["escalation"],
                            "ack_within_minutes": decision.ack_within_minutes,
                            "citations": decision_json["citations"]})
        story.events.append((created_at, row["reporter"], EventKind.CREATED.value, {
            "digest": content_digest(row), "category": category.value, "subject": subject.value,
            "flags": row["flags"], "allegation": allegation,
        }))
        self._route(rng, story, decision, decision_json)
        self._live(rng, ids, story, decision)
        return story

    def _decide(self, category: Category, subject: Subject, flags: frozenset[Flag],
                about: str | None) -> tuple[Decision, dict[str, Any]]:
        key = (category, subject, flags, about)
        if key not in self._decisions:
            # The example school has no out-of-hours cover, so the time of day changes nothing.
            decision = decide(self.school.policy, RoutingReport(category, subject, flags, about), self.school)
            self._decisions[key] = (decision, as_json_value(decision.as_json()))
        return self._decisions[key]

    def _route(self, rng: random.Random, story: Story, decision: Decision, decision_json: dict[str, Any]) -> None:
        row, people = story.report, decision.people
        assert people is not None
        routed_at = story.decision["decided_at"]
        deadline = row["created_at"] + timedelta(minutes=decision.ack_within_minutes)
        row["ack_deadline"] = deadline
        lado_due = self.school.calendar.add_working_days(row["created_at"], 1) if row["allegation"] else None
        row["lado_due_at"] = lado_due
        recipients = self._recipients.get(id(decision))
        if recipients is None:
            recipients = [{"person": p, "role": decision.owner, "kind": "owner"} for p in people.owner]
            recipients += [{"person": p, "role": self._role_of(p, decision.informed), "kind": "informed"}
                           for p in people.informed]
            recipients += [{"person": p, "role": self._role_of(p, decision.escalation), "kind": "escalation"}
                           for p in people.escalation]
            self._recipients[id(decision)] = recipients
        story.events.append((routed_at, SYSTEM, EventKind.ROUTED.value, {
            "decision": decision_json, "ack_deadline": timestamp(deadline),
            **({"lado_due": timestamp(lado_due)} if lado_due is not None else {}), "recipients": recipients,
        }))
        owner = people.owner[0]
        story.events.append((routed_at + timedelta(seconds=2), SYSTEM, EventKind.ALERT_DELIVERED.value,
                             {"person": owner, "channel": row["channel"], "notice": "alert", "attempts": 1}))
        if rng.random() < UNDELIVERABLE:
            told = (people.informed or people.owner)[0]
            story.events.append((routed_at + timedelta(seconds=3), SYSTEM, EventKind.DELIVERY_FAILED.value, {
                "person": told, "channel": row["channel"], "notice": "alert", "attempts": 1,
                "error": "user_not_found: the user is no longer in the workspace",
            }))

    def _role_of(self, person_id: str, roles: tuple[str, ...]) -> str:
        person = self.school.person(person_id)
        held = person.roles if person is not None else ()
        return next((r for r in roles if r in held), roles[0])

    def _live(self, rng: random.Random, ids: Ids, story: Story, decision: Decision) -> None:
        """Escalation while nobody acknowledges, then acknowledgement, the LADO, a note, closing."""
        row, people = story.report, decision.people
        assert people is not None
        owner, minutes, created = people.owner[0], decision.ack_within_minutes, row["created_at"]
        deadline: datetime = row["ack_deadline"]
        acked: datetime | None
        if rng.random() < NEVER_ACKNOWLEDGED:
            acked = None
        elif rng.random() < LATE:
            acked = deadline + timedelta(minutes=rng.expovariate(1 / 90))
        else:
            acked = created + timedelta(minutes=minutes * min(0.98, rng.lognormvariate(math.log(0.35), 0.6)))
        if acked is not None:
            acked = _jitter(rng, max(acked, created + timedelta(seconds=10)))  # after its routing
            if acked >= NOW:
                acked = None
        self._escalate(story, decision, deadline, acked)
        if acked is not None:
            row["next_escalation_at"] = None  # acknowledged: the ladder stops
        if row["lado_due_at"] is not None:
            self._lado(rng, story, owner, acked)
        if acked is None:
            row["status"] = "open"
            return
        row |= {"acknowledged_at": acked, "acknowledged_by": owner, "status": "acknowledged"}
        story.events.append((acked, owner, EventKind.ACKNOWLEDGED.value, {"by": owner}))
        if rng.random() < NOTED:
            at = _jitter(rng, acked + timedelta(hours=rng.uniform(0.2, 30)))
            if at < NOW:
                text = f"Made-up note {ids.note}: spoke to the form tutor; nothing more to add."
                story.notes.append({"id": ids.note, "report_id": row["id"], "kind": "note", "author": owner,
                                    "at": at, "text": text})
                story.events.append((at, owner, EventKind.NOTE_ADDED.value, {"note": ids.note, "digest": text_digest(text)}))
                ids.note += 1
        closed = _jitter(rng, acked + timedelta(hours=rng.uniform(0.5, 240)))
        if closed >= NOW or rng.random() < NEVER_CLOSED:
            return
        choice = rng.choice(list(CLOSE_DECISIONS))
        reason = f"Made-up reason for {row['reference']}: {CLOSE_DECISIONS[choice].lower()} after review."
        row |= {"status": "closed", "closed_at": closed, "closed_by": owner, "close_decision": choice,
                "close_reason": reason}
        story.events.append((closed, owner, EventKind.CLOSED.value,
                             {"decision": choice, "reason_digest": text_digest(reason)}))

    def _escalate(self, story: Story, decision: Decision, deadline: datetime, acked: datetime | None) -> None:
        """The scheduler's steps between the deadline and the acknowledgement (or NOW), as bot/cases/escalation.py logs them."""
        people = decision.people
        assert people is not None
        row, minutes = story.report, decision.ack_within_minutes
        asked = list(people.owner)
        rungs = self._rungs.get(id(decision))
        if rungs is None:
            rungs = [[p for p in people.escalation if self._role_of(p, decision.escalation) == role]
                     for role in dict.fromkeys(decision.escalation)]
            rungs = self._rungs[id(decision)] = [rung for rung in rungs if rung]
        until = acked if acked is not None else NOW
        step, at = 0, deadline
        while at < until and step < len(rungs) + EXTRA_REMINDERS:
            step += 1
            data: dict[str, Any]
            if step <= len(rungs):
                rung = rungs[step - 1]
                role = self._role_of(rung[0], decision.escalation)
                kind, data = EventKind.ESCALATED, {"step": step, "role": role, "to": list(rung)}
            else:
                rung, kind, data = [], EventKind.REMINDED, {"step": step, "ladder_used_up": True}
            data |= {"reminded": list(dict.fromkeys(asked)), "waited": waited_words(at - row["created_at"]),
                     "deadline": timestamp(deadline)}
            story.events.append((at, SYSTEM, kind.value, data))
            asked += rung
            at += timedelta(minutes=minutes)
        row["escalation_step"] = step
        row["next_escalation_at"] = at

    def _lado(self, rng: random.Random, story: Story, owner: str, acked: datetime | None) -> None:
        """KCSIE Part four: the LADO consulted within a working day, mostly; a reminder logged when not."""
        row = story.report
        due: datetime = row["lado_due_at"]
        if acked is not None and rng.random() < 0.85:
            at = _jitter(rng, acked + (due - acked) * rng.uniform(0.1, 1.15))
            if at < NOW:
                row |= {"lado_consulted_at": at, "lado_consulted_by": owner}
                story.events.append((at, owner, EventKind.LADO_CONSULTED.value,
                                     {"due": timestamp(due), "in_time": at <= due}))
                return
        if due < NOW:
            at = due + timedelta(minutes=1)
            row["lado_reminded_at"] = at
            story.events.append((at, SYSTEM, EventKind.LADO_DUE.value, {"due": timestamp(due), "consulted": False}))


def _weighted(rng: random.Random, weights: dict[T, int]) -> T:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _flags(rng: random.Random, category: Category, subject: Subject) -> frozenset[Flag]:
    flags = set()
    if category is Category.PUPIL_DISCLOSURE and rng.random() < 0.05:
        flags.add(Flag.IMMEDIATE_RISK)
    if category is Category.INAPPROPRIATE_CONTENT and rng.random() < 0.4:
        flags.add(Flag.SCHOOL_DEVICE)
    if category is Category.MISUSE and subject is Subject.PUPIL and rng.random() < 0.02:
        flags.add(Flag.SELF_GENERATED_IMAGERY)
    if rng.random() < 0.01:
        flags.add(Flag.ILLEGAL)
    return frozenset(flags)


def _jitter(rng: random.Random, at: datetime) -> datetime:
    """Times to the microsecond, as real clocks give them."""
    return at.replace(microsecond=rng.randrange(1_000_000))
