"""A person's cases: the reports they may see, filtered, in the order a safeguarding lead works them.

Which reports a person may see is bot.cases.access's to say (`may_see`): those routed to them
and those escalated to them once reached, never one about themselves. Open reports come first,
the oldest deadline first; then closed ones, the newest first. Each entry says its state in the
same words for everyone, and what this reader may do to it from their own rights.

A filter is a few words (`open cyberbullying since 2026-11-01 child ava`), the same on every
channel: the console types them, Slack and Teams send the words of the menus chosen and the child
box. Each kind of criterion is a parser of words and a test of a report; adding one is a class
and a line in PARSERS. A criterion that needs the database (which reports name a child) also
has `looked_up`, run once in `cases_for`'s session before any report is tested: `matches`
stays a plain test. The child criterion only narrows the reports `may_see` already allows, so
it shows nobody anything they could not read in those reports.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Protocol, runtime_checkable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App
from bot.cases.access import Action, allowed, may_see
from dialogs.validation import Invalid
from routing.vocabulary import Category
from storage.cases import reached_by
from storage.models import Recipient, RecipientKind, Report, Status
from storage.pupils import find_pupils, reports_naming

# A category as a list shows it (the dialog's own short names).
CATEGORY_NAMES: dict[str, str] = {
    Category.MISUSE: "Social media misuse",
    Category.FRIEND_REQUEST: "Friend request",
    Category.INAPPROPRIATE_CONTENT: "Inappropriate content",
    Category.COLLEAGUE_CONCERN: "Concern about staff",
    Category.PUPIL_DISCLOSURE: "Pupil disclosure",
    Category.CYBERBULLYING: "Cyberbullying",
    Category.SELF_REFERRAL: "Self-referral",
}
# The states a list can be filtered to, as people say them.
STATES: dict[str, tuple[str, frozenset[str]]] = {
    "open": ("open", frozenset({Status.OPEN.value, Status.ACKNOWLEDGED.value})),
    "unacknowledged": ("not yet acknowledged", frozenset({Status.OPEN.value})),
    "acknowledged": ("acknowledged, still open", frozenset({Status.ACKNOWLEDGED.value})),
    "closed": ("closed", frozenset({Status.CLOSED.value})),
}
# What a reader may do, in the order a sentence says it, and whether the report's state still wants it.
CAN_DO: tuple[tuple[Action, str, Callable[[Report], bool]], ...] = (
    (Action.ACKNOWLEDGE, "acknowledge", lambda r: r.acknowledged_at is None and r.closed_at is None),
    (Action.VIEW, "view", lambda r: True),
    (Action.NOTE, "add a note", lambda r: True),
    (Action.RECORD_ACTION, "record action", lambda r: r.closed_at is None and r.category == Category.INAPPROPRIATE_CONTENT),
    (Action.CLOSE, "close", lambda r: r.closed_at is None),
    (Action.REASSIGN, "reassign", lambda r: r.closed_at is None),
    (Action.REOPEN, "reopen", lambda r: r.closed_at is not None),
)
# The date menus of Slack's Home and Teams' My cases: each value is filter words `parse_filter` reads.
DATE_CHOICES = (("all", "Any time"), ("today", "Today"), ("this week", "This week"),
                ("last 30 days", "Last 30 days"), ("last 365 days", "Last 12 months"))
FILTER_HELP = ("open, unacknowledged, acknowledged, closed; a category (" + ", ".join(c.value for c in Category)
               + "); since DATE, until DATE (like 2026-11-01), today, this week, last N days; "
               "child NAME (part of a child's name, last)")
CHILD_CHARS = 60  # as much of a name as anyone types to find a child


class Criterion(Protocol):
    """One test a case must pass; `kind` names it, so a later criterion of the same kind replaces an earlier."""

    @property
    def kind(self) -> str: ...

    @property
    def words(self) -> str: ...

    def matches(self, report: Report, app: App) -> bool: ...


@runtime_checkable
class LookedUp(Protocol):
    """A criterion that reads the database once before a list is filtered, and returns itself with what it read."""

    async def looked_up(self, session: AsyncSession, app: App) -> Criterion: ...


@dataclass(frozen=True)
class StateIs:
    """The report is in one of these states."""

    name: str
    kind: str = "state"

    @property
    def words(self) -> str:
        return STATES[self.name][0]

    def matches(self, report: Report, app: App) -> bool:
        return report.status in STATES[self.name][1]


@dataclass(frozen=True)
class CategoryIs:
    """The report is of this category."""

    category: str
    kind: str = "category"

    @property
    def words(self) -> str:
        return CATEGORY_NAMES.get(self.category, self.category).lower()

    def matches(self, report: Report, app: App) -> bool:
        return report.category == self.category


@dataclass(frozen=True)
class MadeBetween:
    """The report was made on or after `start` and on or before `end` (the school's dates)."""

    start: date | None = None
    end: date | None = None
    kind: str = "date"

    @property
    def words(self) -> str:
        parts = ([f"since {_day(self.start)}"] if self.start else []) + ([f"until {_day(self.end)}"] if self.end else [])
        return " ".join(parts)

    def matches(self, report: Report, app: App) -> bool:
        made = report.created_at.astimezone(app.zone).date()
        return (self.start is None or made >= self.start) and (self.end is None or made <= self.end)


@dataclass(frozen=True)
class ChildNamed:
    """The report names a pupil (in any role) whose name has every word of `text` in it."""

    text: str
    reports: frozenset[int] | None = None  # the reports naming such a pupil; None until looked up
    kind: str = "child"

    @property
    def words(self) -> str:
        # The words the reader typed, which they already know: never a name read from the database.
        return f'child "{self.text}"'

    def matches(self, report: Report, app: App) -> bool:
        return self.reports is not None and report.id in self.reports

    async def looked_up(self, session: AsyncSession, app: App) -> ChildNamed:
        # Across the deployment's schools: it only narrows the reports `may_see` already allows.
        pupils = [p for school in app.trust.schools for p in await find_pupils(session, school.key, self.text)]
        return replace(self, reports=frozenset(await reports_naming(session, [p.id for p in pupils])))


@dataclass(frozen=True)
class CaseFilter:
    """The criteria a case list was asked for (none: every case the person may see)."""

    criteria: tuple[Criterion, ...] = ()

    def matches(self, report: Report, app: App) -> bool:
        """Whether `report` passes every criterion."""
        return all(criterion.matches(report, app) for criterion in self.criteria)

    def with_(self, criterion: Criterion) -> CaseFilter:
        """This filter with `criterion`, in place of any of its kind."""
        return CaseFilter((*(c for c in self.criteria if c.kind != criterion.kind), criterion))

    def get(self, kind: str) -> Criterion | None:
        """The criterion of this kind, if any."""
        return next((c for c in self.criteria if c.kind == kind), None)

    async def looked_up(self, session: AsyncSession, app: App) -> CaseFilter:
        """This filter with what its criteria read from the database (once, before any report is tested)."""
        return CaseFilter(tuple([await c.looked_up(session, app) if isinstance(c, LookedUp) else c
                                 for c in self.criteria]))

    @property
    def words(self) -> str:
        """The filter as a person reads it: `open, cyberbullying, since 1 Nov 2026, child "ava"`."""
        return ", ".join(c.words for c in self.criteria)


OPEN = CaseFilter((StateIs("open"),))

# A parser reads criteria from the words at `at`: the criterion and how many words it took, or None.
Parser = Callable[[App, list[str], int, CaseFilter], "tuple[Criterion, int] | Invalid | None"]


def _state(app: App, words: list[str], at: int, so_far: CaseFilter) -> tuple[Criterion, int] | None:
    return (StateIs(words[at]), 1) if words[at] in STATES else None


def _category(app: App, words: list[str], at: int, so_far: CaseFilter) -> tuple[Criterion, int] | None:
    for length in (3, 2, 1):
        said = "_".join(words[at:at + length])
        for category in Category:
            short = CATEGORY_NAMES[category].lower().replace(" ", "_")
            if len(words) - at >= length and said in (category.value, short, category.value.split("_")[-1]):
                return CategoryIs(category.value), length
    return None


def _dates(app: App, words: list[str], at: int, so_far: CaseFilter) -> tuple[Criterion, int] | Invalid | None:
    found = so_far.get("date")
    start, end = (found.start, found.end) if isinstance(found, MadeBetween) else (None, None)
    today = app.today()
    word, rest = words[at], words[at + 1:]
    if word == "today":
        return MadeBetween(today, end), 1
    if word == "this" and rest[:1] == ["week"]:
        return MadeBetween(today - timedelta(days=today.weekday()), end), 2
    if word in ("last", "past") and len(rest) >= 2 and rest[0].isdigit() and rest[1] in ("days", "day"):
        return MadeBetween(today - timedelta(days=int(rest[0][:4])), end), 3
    if word in ("since", "from", "after", "until", "to", "before"):
        when = _date(rest[0]) if rest else None
        if when is None:
            return Invalid(f"After {word!r} give a date, like 2026-11-01 or 01/11/2026.")
        return (MadeBetween(when, end) if word in ("since", "from", "after") else MadeBetween(start, when)), 2
    return None


def _child(app: App, words: list[str], at: int, so_far: CaseFilter) -> tuple[Criterion, int] | Invalid | None:
    # The name is every word after `child`, so it comes last: a name may be any words at all.
    if words[at] != "child":
        return None
    name = " ".join(word for word in words[at + 1:] if word)
    if not name:
        return Invalid("After 'child' give part of the child's name, like: child ava.")
    if len(name) > CHILD_CHARS:
        return Invalid(f"A child's name in a filter is at most {CHILD_CHARS} characters: type part of it.")
    return ChildNamed(name), len(words) - at


PARSERS: tuple[Parser, ...] = (_state, _category, _dates, _child)


def parse_filter(app: App, text: str) -> CaseFilter | Invalid:
    """The filter `text` asks for (`all` or nothing: no filter), or what in it was not understood."""
    words = [word.strip(",;") for word in _keep_dates(text.casefold()).split()]
    found = CaseFilter()
    at = 0
    while at < len(words):
        if words[at] in ("all", "any", "every", ""):
            at += 1
            continue
        for parse in PARSERS:
            read = parse(app, words, at, found)
            if isinstance(read, Invalid):
                return read
            if read is not None:
                found, at = found.with_(read[0]), at + read[1]
                break
        else:
            return Invalid(f"{words[at][:30]!r} is not a filter Safeguard knows. Filters: {FILTER_HELP}.")
    return found


def _keep_dates(text: str) -> str:
    """Hyphens read as spaces (`friend-request`), except inside a date (`2026-11-01`)."""
    return " ".join(word if _date(word) is not None else word.replace("-", " ") for word in text.split())


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _date(word: str) -> date | None:
    for shape in ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y"):
        try:
            return datetime.strptime(word, shape).date()
        except ValueError:
            continue
    return None


@dataclass(frozen=True)
class Case:
    """A report as a reader's list shows it: the report, what they may do to it, and who owns it."""

    report: Report
    rights: frozenset[Action]
    owner_role: str | None
    recipients: tuple[Recipient, ...] = field(default=(), compare=False)

    @property
    def reference(self) -> str:
        return self.report.reference

    def can(self, action: Action) -> bool:
        """Whether the reader may do `action` to it now (their rights, and its state still wants it)."""
        return any(a is action and a in self.rights and wanted(self.report) for a, _, wanted in CAN_DO)


async def cases_for(app: App, person_id: str, wanted: CaseFilter = CaseFilter()) -> list[Case]:
    """The reports this person may see that pass `wanted`: open first (oldest deadline first), then closed (newest first)."""
    if app.anyone(person_id) is None:  # anywhere in the deployment: each report is judged at its school below
        return []
    schools = app.acting_for(person_id)
    async with app.sessions() as session:
        reached = await reached_by(session, person_id, schools=None if app.trust.alone else schools)
        wanted = await wanted.looked_up(session, app)
    cases = []
    for report, recipients in reached:
        # Judged as the report's own school knows this person (their roles there): one school's
        # reports never reach another's staff, nor a trust person they were not routed to.
        person = app.at(report.school).person(person_id) if not app.trust.alone else app.person(person_id)
        if person is not None and may_see(person, report, recipients) and wanted.matches(report, app):
            cases.append(Case(report, allowed(person_id, report, recipients),
                              next((r.role for r in recipients if r.kind == RecipientKind.OWNER.value), None),
                              tuple(recipients)))
    far = datetime.max.replace(tzinfo=app.now().tzinfo)
    still_open = sorted((c for c in cases if c.report.closed_at is None),
                        key=lambda c: (c.report.ack_deadline or far, c.report.created_at, c.report.id))
    closed = sorted((c for c in cases if c.report.closed_at is not None),
                    key=lambda c: (c.report.closed_at, c.report.id), reverse=True)
    return [*still_open, *closed]


def state_line(app: App, report: Report) -> str:
    """Where a report is, in the same words for everyone who may see it."""
    if report.closed_at is not None:
        return f"Closed at {app.local(report.closed_at)}"
    if report.acknowledged_at is not None and report.acknowledged_by is not None:
        return f"Acknowledged by {app.name(report.acknowledged_by)} at {app.local(report.acknowledged_at)}"
    if report.ack_deadline is None:
        return "Not yet routed"
    if report.ack_deadline <= app.now():
        return f"OVERDUE: not acknowledged, was due by {app.local(report.ack_deadline)}"
    return f"Not yet acknowledged, due by {app.local(report.ack_deadline)}"


def you_can(case: Case) -> str:
    """What this reader may do to the report now, from their own rights."""
    can = [words for action, words, _ in CAN_DO if case.can(action)]
    return "You can " + ", ".join(can) if can else "You can only follow it"


def entry(app: App, case: Case) -> list[str]:
    """A case as a list shows it: reference and category; date, owner role and state; what the reader can do."""
    report = case.report
    app = app.at(report.school)  # the owner's role as the report's own school names it
    made = report.created_at.astimezone(app.zone)
    owner = f"owner: {app.role_name(case.owner_role)}" if case.owner_role is not None else "no owner yet"
    return [f"{report.reference}  {CATEGORY_NAMES.get(report.category, report.category)}",
            f"{_day(made.date())} · {owner} · {state_line(app, report)}",
            you_can(case)]


def heading(cases: Sequence[Case], wanted: CaseFilter) -> str:
    """What a list is: how many cases, and the filter they passed."""
    what = f" ({wanted.words})" if wanted.criteria else ""
    if not cases:
        return f"No cases for you{what}."
    return f"Your cases{what}: {len(cases)}"
