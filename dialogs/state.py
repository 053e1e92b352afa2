"""A half-finished report: where it is, the answers so far, and plain JSON for the database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

VERSION = 1


class StepId(StrEnum):
    """Every question the conversation can ask, and the summary; stored, so never renamed."""

    CATEGORY = "category"
    SUBJECT = "subject"
    ABOUT_STAFF = "about_staff"
    COLLEAGUE = "colleague"
    ACCESSED_BY_NAME = "accessed_by_name"  # no longer asked (the pupil questions took its place); kept for old drafts
    DATE = "date"
    URLS = "urls"
    NATURE = "nature"
    SCHOOL_DEVICE = "school_device"
    DISCLOSURE_FOR = "disclosure_for"
    CHILD_WORDS = "child_words"
    PLATFORM = "platform"
    PLATFORM_OTHER = "platform_other"
    WHAT_HAPPENED = "what_happened"
    HARM_THRESHOLD = "harm_threshold"
    IMMEDIATE_RISK = "immediate_risk"
    ILLEGAL = "illegal"
    SELF_GENERATED_IMAGERY = "self_generated_imagery"
    TARGET = "target"
    ACCOUNT = "account"  # a friend request: the account's name or handle
    PUPIL = "pupil"  # the first pupil a report names: typed, or part of a name to search the roster
    PUPIL_PICK = "pupil_pick"
    PUPIL_YEAR = "pupil_year"
    OTHER_PUPIL = "other_pupil"  # the second (the child a disclosure is about, a pupil doing the bullying)
    OTHER_PUPIL_PICK = "other_pupil_pick"
    OTHER_PUPIL_YEAR = "other_pupil_year"
    WHERE_NOW = "where_now"  # where the child is now
    EVIDENCE = "evidence"
    SUMMARY = "summary"
    SCHOOL = "school"  # in a trust, asked first of someone who works at two schools: which is it for
    PUPIL_INVOLVED = "pupil_involved"  # a self-referral: whether a pupil was involved
    WHAT_I_DID = "what_i_did"  # a self-referral: what the reporter did
    ANYTHING_ELSE = "anything_else"  # a self-referral: anything else the school should know


class DraftError(ValueError):
    """A stored draft this version cannot read (malformed, or another version)."""


@dataclass(frozen=True)
class Answer:
    """One answer: the value the report uses (a choice id, text, an ISO date) and what to show."""

    value: str
    shown: str


@dataclass(frozen=True)
class Evidence:
    """Screenshots as the conversation knows them: how many were taken in, never the files themselves.

    `refused` is set for good once the reporter says it may be an indecent image of a child:
    from then on this draft takes no image at all (UKCIS, see dialogs/advice.py).
    """

    count: int = 0
    refused: bool = False


@dataclass(frozen=True)
class Draft:
    """The conversation so far; a new Draft is returned for every change, this one is never altered."""

    step: StepId
    started_at: datetime
    updated_at: datetime
    answers: dict[StepId, Answer] = field(default_factory=dict)
    history: tuple[StepId, ...] = ()
    reminded_at: datetime | None = None
    evidence: Evidence = Evidence()
    # The school of a trust the report is for (its code); None for a school alone or not yet chosen.
    school: str | None = None

    @classmethod
    def new(cls, now: datetime) -> Draft:
        """A fresh draft at the first question."""
        now = utc(now)
        return cls(step=StepId.CATEGORY, started_at=now, updated_at=now)

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-safe data, with a version, for the database."""
        data: dict[str, object] = {
            "version": VERSION,
            "step": self.step.value,
            "answers": {k.value: {"value": a.value, "shown": a.shown} for k, a in self.answers.items()},
            "history": [s.value for s in self.history],
            "started_at": self.started_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "reminded_at": None if self.reminded_at is None else self.reminded_at.isoformat(),
        }
        if self.evidence != Evidence():
            # Only when there is something to say: a draft without screenshots reads as before.
            data["evidence"] = {"count": self.evidence.count, "refused": self.evidence.refused}
        if self.school is not None:
            data["school"] = self.school
        return data

    @classmethod
    def from_dict(cls, data: object) -> Draft:
        """Read what `to_dict` wrote; anything else raises DraftError saying what is wrong."""
        if not isinstance(data, Mapping):
            raise DraftError("draft: expected a JSON object")
        version = data.get("version")
        if type(version) is not int:
            raise DraftError("draft: version: missing or not a whole number")
        if version != VERSION:
            raise DraftError(f"draft: version {version} is not readable here (this build reads version {VERSION})")
        known = {"version", "step", "answers", "history", "started_at", "updated_at", "reminded_at", "evidence", "school"}
        unknown = sorted(str(k) for k in data if k not in known)
        if unknown:
            raise DraftError(f"draft: unknown field(s) {', '.join(unknown)}")
        reminded = data.get("reminded_at")
        school = data.get("school")
        if school is not None and not isinstance(school, str):
            raise DraftError("draft: school: expected a school's code")
        return cls(
            step=_step(data.get("step"), "step"),
            started_at=_time(data.get("started_at"), "started_at"),
            updated_at=_time(data.get("updated_at"), "updated_at"),
            answers=_answers(data.get("answers")),
            history=_history(data.get("history")),
            reminded_at=None if reminded is None else _time(reminded, "reminded_at"),
            evidence=_evidence(data.get("evidence")),
            school=school,
        )


def utc(moment: datetime) -> datetime:
    """`moment` in UTC; a naive time is refused, since the caller's clock zone is unknown here."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("times passed to dialogs must be timezone-aware (UTC)")
    return moment.astimezone(UTC)


def _step(value: object, where: str) -> StepId:
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return StepId(value)
    except ValueError:
        raise DraftError(f"draft: {where}: unknown step {value!r}") from None


def _time(value: object, where: str) -> datetime:
    if not isinstance(value, str):
        raise DraftError(f"draft: {where}: expected an ISO 8601 time")
    try:
        return utc(datetime.fromisoformat(value))
    except ValueError:
        raise DraftError(f"draft: {where}: {value!r} is not a timezone-aware ISO 8601 time") from None


def _answers(value: object) -> dict[StepId, Answer]:
    if not isinstance(value, Mapping):
        raise DraftError("draft: answers: expected an object")
    answers = {}
    for key, item in value.items():
        step = _step(key, "answers")
        if not isinstance(item, Mapping) or set(item) != {"value", "shown"}:
            raise DraftError(f"draft: answers.{step.value}: expected {{'value': ..., 'shown': ...}}")
        if not isinstance(item["value"], str) or not isinstance(item["shown"], str):
            raise DraftError(f"draft: answers.{step.value}: value and shown must be text")
        answers[step] = Answer(item["value"], item["shown"])
    return answers


def _history(value: object) -> tuple[StepId, ...]:
    if not isinstance(value, list):
        raise DraftError("draft: history: expected a list of steps")
    return tuple(_step(item, "history") for item in value)


def _evidence(value: object) -> Evidence:
    if value is None:
        return Evidence()
    if not isinstance(value, Mapping) or set(value) != {"count", "refused"}:
        raise DraftError("draft: evidence: expected {'count': ..., 'refused': ...}")
    count, refused = value["count"], value["refused"]
    if type(count) is not int or count < 0 or type(refused) is not bool:
        raise DraftError("draft: evidence: count must be a whole number from 0, refused true or false")
    return Evidence(count, refused)
