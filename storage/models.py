"""The tables: reports, their routing and alerts, drafts, inbound ids, and the event log."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.canonical import CanonicalJSON
from storage.encrypted import EncryptedBytes, EncryptedJSON, EncryptedText

# Named constraints, so that migrations can refer to them on every database.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database (SQLite keeps no zone, so store UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()}: pass a timezone-aware UTC time")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """The declarative base: one metadata for every table."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Status(StrEnum):
    """Where a report is in its life."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


class RecipientKind(StrEnum):
    """How a person came to be told of a report."""

    OWNER = "owner"
    INFORMED = "informed"
    ESCALATION = "escalation"


class NoticeKind(StrEnum):
    """What a delivery tells its person."""

    ALERT = "alert"  # a report routed to them (or escalated to them)
    ACKNOWLEDGED = "acknowledged"  # to the reporter: their report was acknowledged
    CLOSED = "closed"  # to the reporter: their report was closed (never the decision or the reason)
    REMINDER = "reminder"  # to the people already told: the deadline passed and nobody has acknowledged
    LADO = "lado"  # to the owner: an allegation's LADO consultation is due (KCSIE Part four)
    RECEIPT = "receipt"  # to the reporter: their report was stored, and where it went (only once it is stored)
    UNDELIVERED = "undelivered"  # to the DSL: a message could not be delivered, and why
    REOPENED = "reopened"  # to the owner: a closed report of theirs was reopened (never to the reporter)
    # The follow-up relay (bot/cases/follow_up.py); `round` is the note's id, so each goes once.
    QUESTION = "question"  # to the reporter: whoever answers for their report asks them something
    ANSWER = "answer"  # to those who answer for a report: its reporter answered a question
    ADDITION = "addition"  # to those who answer for a report: its reporter added something to it
    REQUEST = "request"  # about an approval request (detail names it): a step to act on, its outcome, carry it out


class NoteKind(StrEnum):
    """What a person added to a report after it was made."""

    NOTE = "note"
    ACTION = "action"  # the action taken (the online safety officer's part of appendix B)
    QUESTION = "question"  # asked of the reporter by someone who answers for the report
    ANSWER = "answer"  # the reporter's answer to a question (`answers` names it)
    ADDITION = "addition"  # something the reporter added to their report later


class DeliveryStatus(StrEnum):
    """Whether a message has reached its person."""

    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"  # an attempt failed in a way that can pass (network, 5xx, rate limit): tried again
    UNDELIVERABLE = "undeliverable"  # the platform said it never can (user not found, bot removed): given up


# What a sender still has to send: queued, or failed and waiting for its next attempt.
UNSENT = (DeliveryStatus.QUEUED.value, DeliveryStatus.FAILED.value)


def _one_of(column: str, enum: type[StrEnum]) -> CheckConstraint:
    values = ", ".join(f"'{member.value}'" for member in enum)
    return CheckConstraint(f"{column} IN ({values})", name=f"{column}_known")


class Delivery:
    """What every outbox row has: where it is in being sent, and which sender holds it."""

    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    queued_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    external_ref: Mapped[str | None] = mapped_column(String(200))
    # A sender holds a row until then, so two servers sharing a database never both send it. A
    # claim that ran out without the row being marked means its sender died or hung mid-send:
    # the message may have arrived, so the next sender checks before sending it again.
    claimed_until: Mapped[datetime | None]
    # Not tried again before then: back-off after a failure, or the platform's Retry-After.
    next_attempt_at: Mapped[datetime | None]


class ReportCounter(Base):
    """The last reference number given out in a year under a prefix (SG-BPA-2026-0042 is number 42 of 2026 at BPA).

    A school alone counts under "SG"; each school of a trust under its own prefix, so references
    are unique across the trust and say which school a report belongs to.
    """

    __tablename__ = "report_counters"

    prefix: Mapped[str] = mapped_column(String(12), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer)


class Report(Base):
    """What a member of staff reported, and where it is in its life.

    `details` (the reporter's own words, links and names) and `close_reason` are encrypted at
    rest. The person columns (`reporter`, `subject_person`, `acknowledged_by`, ...) are ids
    from the school config, not names, and queries filter on them, so they stay plain.
    """

    __tablename__ = "reports"
    __table_args__ = (_one_of("status", Status),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    school: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(40))
    subject_person: Mapped[str | None] = mapped_column(String(100))
    # Who is being bullied (routing.vocabulary.Target), in a cyberbullying report; routing reads it.
    target: Mapped[str | None] = mapped_column(String(20))
    flags: Mapped[list[Any]]
    allegation: Mapped[bool] = mapped_column(Boolean)
    details: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON)
    reporter: Mapped[str] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    created_at: Mapped[datetime] = mapped_column(index=True)  # the digest counts reports by week
    ack_deadline: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(100))
    close_decision: Mapped[str | None] = mapped_column(String(100))
    close_reason: Mapped[str | None] = mapped_column(EncryptedText)
    # Where the reporter reported from, so news of their report reaches them there.
    channel: Mapped[str | None] = mapped_column(String(20))
    # When the scheduler next acts if nobody has acknowledged (the deadline, then each later
    # rung's); cleared by acknowledgement. The row, not the scheduler's memory, is the truth.
    next_escalation_at: Mapped[datetime | None] = mapped_column(index=True)
    # How many times the scheduler has acted: the guard that makes each step happen once.
    escalation_step: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # An allegation that may meet the harm threshold: the LADO is consulted within one working day.
    lado_due_at: Mapped[datetime | None] = mapped_column(index=True)
    lado_reminded_at: Mapped[datetime | None]
    lado_consulted_at: Mapped[datetime | None]
    lado_consulted_by: Mapped[str | None] = mapped_column(String(100))
    # How many screenshots came with it (report_evidence): set when it is stored, never changed.
    screenshots: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # Handed on to a record kept elsewhere (a child protection file), which is then the record:
    # its own, shorter retention rule applies (routing/retention.py). Where, encrypted: words.
    handed_on_at: Mapped[datetime | None]
    handed_on_by: Mapped[str | None] = mapped_column(String(100))
    handed_on_to: Mapped[str | None] = mapped_column(EncryptedText)
    # When its words were erased under the school's retention rules (storage/retention.py); the
    # skeleton (reference, category, dates, who acted, the log) stays.
    erased_at: Mapped[datetime | None]


class PupilSource(StrEnum):
    """Where a pupil record came from."""

    ROSTER = "roster"  # `safeguard pupils import`
    TYPED = "typed"  # a name a reporter typed that the roster did not have


class Pupil(Base):
    """A pupil: from the school's roster, or as a reporter typed them; reports link to them.

    The name, the MIS id and the year group or class are encrypted at rest. A pupil who left
    (no longer in the latest roster) keeps their row, so their reports stay linked to them.
    """

    __tablename__ = "pupils"
    __table_args__ = (_one_of("source", PupilSource), Index(None, "school", "source"))

    id: Mapped[int] = mapped_column(primary_key=True)
    school: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(20))
    mis_id: Mapped[str | None] = mapped_column(EncryptedText)  # the roster's own id (UPN, admission number)
    name: Mapped[str] = mapped_column(EncryptedText)
    year: Mapped[str] = mapped_column(EncryptedText)  # year group or class; "" if not known
    on_roster: Mapped[bool] = mapped_column(Boolean)  # in the latest roster imported (typed pupils never are)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ReportPupil(Base):
    """A pupil a report names, and how (dialogs.report.PupilRole: the child, the child who told, ...)."""

    __tablename__ = "report_pupils"

    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id", ondelete="CASCADE"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)


class RoutingDecision(Base):
    """The routing decision taken for a report, as `routing.engine.Decision.as_json()` gave it."""

    __tablename__ = "routing_decisions"

    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    decided_at: Mapped[datetime]
    owner_role: Mapped[str] = mapped_column(String(60))
    informed: Mapped[list[Any]]
    escalation: Mapped[list[Any]]
    ack_within_minutes: Mapped[int] = mapped_column(Integer)
    citations: Mapped[list[Any]]


class Recipient(Base):
    """A person a report was routed to: its owner, someone informed, or a rung of the ladder."""

    __tablename__ = "recipients"
    __table_args__ = (
        _one_of("kind", RecipientKind),
        UniqueConstraint("report_id", "kind", "position"),
        Index(None, "person_id", "report_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    person_id: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer)
    # Set when the ladder reaches this person: from then on they may see and act on the report.
    escalated_at: Mapped[datetime | None]


class AlertDelivery(Delivery, Base):
    """One notice (an alert, or news for a reporter) to one person on one channel: an outbox row."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        _one_of("status", DeliveryStatus),
        UniqueConstraint("report_id", "person_id", "channel", "kind", "round"),
        Index(None, "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # None only for news about something that is not a report (a weekly digest that could not be delivered).
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    person_id: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    # Reminders repeat: each escalation step's is a new round, so queuing one step twice stays one row.
    # A notice that another message could not be delivered takes that message's id as its round.
    round: Mapped[int] = mapped_column(Integer, default=0)
    # What an `undelivered` notice is about (which message, to whom, why): references, never text.
    detail: Mapped[dict[str, Any] | None]


class ReportHold(Base):
    """A legal hold on a report: nothing under a hold is erased. Its reason is encrypted; the log keeps its digest."""

    __tablename__ = "report_holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    held_at: Mapped[datetime]
    held_by: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(EncryptedText)
    released_at: Mapped[datetime | None]  # None while the hold stands
    released_by: Mapped[str | None] = mapped_column(String(100))


class ReportNote(Base):
    """A note, a recorded action, or a question, answer or addition; its words are encrypted at rest, and the log keeps their digest."""

    __tablename__ = "report_notes"
    __table_args__ = (_one_of("kind", NoteKind), UniqueConstraint("answers"))

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    author: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime]
    text: Mapped[str] = mapped_column(EncryptedText)
    # An answer: the question it answers. Unique, so a question is answered once, however many press Send.
    answers: Mapped[int | None] = mapped_column(Integer)


class Draft(Base):
    """A half-finished report conversation, so it survives a restart (encrypted: it holds what was typed so far)."""

    __tablename__ = "drafts"

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON)
    updated_at: Mapped[datetime]


class Screenshot:
    """What every stored screenshot has: its kind, size and digest (for the log), and its bytes, encrypted."""

    position: Mapped[int] = mapped_column(Integer)  # 1, 2, 3 in the order they were sent
    content_type: Mapped[str] = mapped_column(String(40))  # image/png, image/jpeg, image/gif, image/webp
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(EncryptedBytes)


class DraftEvidence(Screenshot, Base):
    """A screenshot sent with a report not yet sent: encrypted, and gone with its draft (sent, cancelled or expired)."""

    __tablename__ = "draft_evidence"
    __table_args__ = (
        ForeignKeyConstraint(["channel", "user_id"], ["drafts.channel", "drafts.user_id"], ondelete="CASCADE"),
    )

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class ReportEvidence(Screenshot, Base):
    """A screenshot sent with a report: encrypted, shown only to those bot.cases.access lets view the report, erased with it."""

    __tablename__ = "report_evidence"
    __table_args__ = (UniqueConstraint("report_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)


class InboundEvent(Base):
    """A platform event id already taken in, so a retried delivery is handled once; forgotten a day on."""

    __tablename__ = "inbound_events"
    __table_args__ = (UniqueConstraint("channel", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(200))
    seen_at: Mapped[datetime | None] = mapped_column(index=True)  # when it came (real time); None only before 0019


class Event(Base):
    """One entry of the append-only, hash-chained log (see storage/log.py)."""

    __tablename__ = "events"

    # Each school of a trust keeps a chain of its own ("bpa"), so its records verify and export on
    # their own; a lone school, and events of the trust as a whole, keep the default chain "".
    chain: Mapped[str] = mapped_column(String(8), primary_key=True, server_default=text("''"))
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # within its chain
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))
    report_ref: Mapped[str | None] = mapped_column(String(20), index=True)
    # Not encrypted: events carry digests of what people wrote, never the words, and anyone
    # must be able to re-check the chain from an export without the key.
    # Stored as the canonical JSON the hash covers, so verify hashes the text as it lies (issue 24).
    data: Mapped[dict[str, Any]] = mapped_column(CanonicalJSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class LogHead(Base):
    """A chain's last event's seq and hash; its row is locked to serialize appends to that chain."""

    __tablename__ = "log_head"

    chain: Mapped[str] = mapped_column(String(8), primary_key=True, server_default=text("''"))
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class ConversationRef(Base):
    """Where a person's chat with the bot is (a Teams conversation reference), so alerts can start it.

    Teams lets a bot message someone only in a conversation it already has with them; the
    reference is kept here, not in memory, so an alert after a restart still reaches them.
    """

    __tablename__ = "conversation_refs"

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    person_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    reference: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON)
    updated_at: Mapped[datetime]


class DigestDelivery(Delivery, Base):
    """The weekly digest for one week to one governor: its text and chart, as queued, and whether it went.

    One row per school, week and person: two servers that both find a digest due insert it once.
    The text carries counts, roles and references only (no names, no free text), so it is not encrypted.
    """

    __tablename__ = "digest_deliveries"
    __table_args__ = (
        _one_of("status", DeliveryStatus),
        UniqueConstraint("school", "week", "person_id"),
        Index(None, "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school: Mapped[str] = mapped_column(String(200))
    week: Mapped[str] = mapped_column(String(10))  # ISO week, as 2026-W47
    person_id: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    chart: Mapped[bytes | None] = mapped_column(LargeBinary)  # PNG


class RequestStatus(StrEnum):
    """Where a request (routing.requests) is: waiting on a step, approved, or refused."""

    OPEN = "open"
    APPROVED = "approved"
    REFUSED = "refused"


class ApprovalRequest(Base):
    """A request passing through approval steps (a blocked site to unblock), and who holds it now.

    `answers` (the form as typed: the URL, the reasons) and `reasons` (the approver's) are
    encrypted at rest; the log keeps their digests. The row, not the scheduler's memory, is the
    truth: `step` and `reminders` guard each step and reminder so that it happens once.
    """

    __tablename__ = "approval_requests"
    __table_args__ = (_one_of("status", RequestStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(24), unique=True)  # AR-2026-0001, AR-BPA-2026-0001 in a trust
    school: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    requester: Mapped[str] = mapped_column(String(100), index=True)
    answers: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON)
    status: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str | None] = mapped_column(String(20))  # where the requester asked, so news reaches them there
    created_at: Mapped[datetime] = mapped_column(index=True)
    step: Mapped[int] = mapped_column(Integer)  # the step waiting (index into the kind's steps)
    approver: Mapped[str | None] = mapped_column(String(100), index=True)
    approver_role: Mapped[str | None] = mapped_column(String(60))
    # Everyone it has been routed to (ids), in order: they, and the requester, may see it (bot.cases.access).
    approvers: Mapped[list[Any]]
    due_at: Mapped[datetime | None] = mapped_column(index=True)  # the next reminder, in school hours
    reminders: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(100))
    reasons: Mapped[str | None] = mapped_column(EncryptedText)
    done_at: Mapped[datetime | None]  # approved, and then carried out (the site unblocked)
    done_by: Mapped[str | None] = mapped_column(String(100))


# The sealed link from an anonymous reporter's handle to them lives in a module of its own (its
# own key, its own rules); imported here so every use of Base.metadata knows its table.
from storage import sealed_reporters as _sealed_reporters  # noqa: E402,F401
