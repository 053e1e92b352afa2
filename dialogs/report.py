"""What the conversation is given (the school's staff) and what it produces (a report to send)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from routing.report import Report
from routing.vocabulary import Category, Flag, Subject, Target, subject_for_roles


@dataclass(frozen=True)
class Colleague:
    """A member of staff from the school directory, as the caller supplies them."""

    id: str
    name: str


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
    screenshots: int = 0  # how many screenshots the reporter sent with it (stored apart, see bot.cases.evidence)

    def routing_report(self, person_roles: Iterable[str] = ()) -> Report:
        """The report as routing sees it; pass the named colleague's roles from the directory."""
        subject = self.subject
        # The dialog only knows a named colleague is staff. If they hold a role (say they are
        # the headteacher), the policy's rule for that role applies instead (St Leonard's §8:
        # a concern about the headteacher goes to the chair of governors).
        if self.subject_person is not None and subject is Subject.STAFF:
            subject = subject_for_roles(person_roles)
        return Report(self.category, subject, self.flags, self.subject_person, self.target)
