"""What the conversation is given (the school's staff) and what it produces (a report to send)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum

from routing.report import Report
from routing.vocabulary import ABOUT_THE_REPORTER, Category, Flag, Subject, Target, subject_for_roles


@dataclass(frozen=True)
class Colleague:
    """A member of staff from the school directory, as the caller supplies them."""

    id: str
    name: str


@dataclass(frozen=True)
class Pupil:
    """A pupil from the school's roster, as the caller supplies them (`id` is the caller's own, never shown)."""

    id: str
    name: str
    year: str = ""  # year group or class, as the roster gives it

    @property
    def shown(self) -> str:
        """`Ava Stone (Year 5)`."""
        return f"{self.name} ({self.year})" if self.year else self.name


class PupilRole(StrEnum):
    """How a pupil comes into a report; stored with the link, so never renamed."""

    CHILD = "child"  # the child the report is about
    TOLD_BY = "told_by"  # the child who disclosed, about another child
    ACCOUNT_OF = "account_of"  # whose account sent a friend request
    PARENT_OF = "parent_of"  # the pupil whose parent the report is about
    BULLYING = "bullying"  # a pupil doing the bullying


@dataclass(frozen=True)
class NamedPupil:
    """A pupil a report names: chosen from the roster (`pupil_id`), or typed (no id)."""

    role: PupilRole
    name: str
    year: str = ""
    pupil_id: str | None = None

    @property
    def shown(self) -> str:
        """`Ava Stone (Year 5)`."""
        return Pupil("", self.name, self.year).shown


@dataclass(frozen=True)
class ReportDraft:
    """A report the reporter confirmed: routing's fields plus the details people read."""

    category: Category
    subject: Subject
    subject_person: str | None = None
    flags: frozenset[Flag] = frozenset()
    allegation: bool = False
    details: dict[str, str] = field(default_factory=dict)
    target: Target | None = None  # who is being bullied, in a cyberbullying report
    pupils: tuple[NamedPupil, ...] = ()  # the pupils it names, each in their role
    screenshots: int = 0  # how many screenshots the reporter sent with it (stored apart, see bot.cases.evidence)

    def by(self, reporter_id: str) -> ReportDraft:
        """The report as sent by `reporter_id`: a self-referral names them as the person it is about.

        The dialog does not know who is reporting; the report must, so that it never reaches
        them (KCSIE 2024 Part four, section two: a self-referral is a concern about the reporter).
        """
        if self.category not in ABOUT_THE_REPORTER:
            return self
        return replace(self, subject=Subject.STAFF, subject_person=reporter_id)

    def routing_report(self, person_roles: Iterable[str] = ()) -> Report:
        """The report as routing sees it; pass the named colleague's roles from the directory."""
        subject = self.subject
        # The dialog only knows a named colleague is staff. If they hold a role (say they are
        # the headteacher), the policy's rule for that role applies instead (St Leonard's §8:
        # a concern about the headteacher goes to the chair of governors).
        if self.subject_person is not None and subject is Subject.STAFF:
            subject = subject_for_roles(person_roles)
        return Report(self.category, subject, self.flags, self.subject_person, self.target)
