"""What every channel shares: the school, the database, the clock, and where each person is reached."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import overload
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.metrics import Metrics
from dialogs import Colleague
from routing.school import Person, School
from routing.trust import Trust
from storage.alerts import CLAIM_SECONDS
from storage.crypto import KeyringError
from storage.log import LogError
from storage.pupils import RosterCache
from storage.sealed_reporters import Relay

# A database that is down, locked, unmigrated or unreachable shows up as one of these; so does
# text in it that the server's keys do not open (a key left out after a rotation).
STORE_ERRORS: tuple[type[Exception], ...] = (SQLAlchemyError, OSError, LogError, KeyringError)
CONSOLE = "console"
SLACK = "slack"
TEAMS = "teams"


def utc_now() -> datetime:
    """The real time, in UTC."""
    return datetime.now(UTC)


@dataclass
class App:
    """The application as the lifecycle and the channels see it.

    `channels` lists the channels that are running, in the order a person is tried on
    them: a person is reached on the first one they have an id for (the console reaches
    everyone, since whoever runs it says who they are).
    """

    # The school this view acts for: in a trust, `for_school` gives a view for each of its schools.
    school: School
    sessions: async_sessionmaker[AsyncSession]
    channels: tuple[str, ...] = (CONSOLE,)
    clock: Callable[[], datetime] = field(default=utc_now)
    # How long a sender holds the messages it took before another may take them (see storage.alerts).
    lease: timedelta = timedelta(seconds=CLAIM_SECONDS)
    # Every school the deployment serves (routing.trust); None: `school` stands alone.
    deployment: Trust | None = None
    # Only `school` is offered when a report starts (`safeguard chat --school`), even to someone at two.
    pinned: bool = False
    # SAFEGUARD_RELAY_KEY: with it, a concern about a colleague may be sent without the reporter's
    # name (storage/sealed_reporters.py); None: that is not offered.
    relay: Relay | None = field(default=None, repr=False)
    # What every school's view shares: the views themselves, the rosters, the count of reports queued.
    _shared: Shared = field(default_factory=lambda: Shared(), init=False, repr=False, compare=False)
    # The directory as the dialogs take it, built once per school config, not once per message.
    _directory: tuple[School | None, tuple[Colleague, ...]] = field(default=(None, ()), init=False, repr=False,
                                                                      compare=False)

    def __post_init__(self) -> None:
        if self.deployment is None:
            self.deployment = Trust(name=self.school.name, schools=(self.school,), timezone=self.school.timezone)
        self._shared.views.setdefault(self.school.key, self)

    @property
    def trust(self) -> Trust:
        """The deployment: the trust's schools and people, or the one school alone."""
        assert self.deployment is not None
        return self.deployment

    @property
    def reports_queued(self) -> int:
        """How many times this process has queued notices from a report sent (any school's view).

        A channel can skip an outbox round after a dialog message that sent nothing (most do
        not; bench/ack.py).
        """
        return self._shared.reports_queued

    @reports_queued.setter
    def reports_queued(self, value: int) -> None:
        self._shared.reports_queued = value

    @property
    def metrics(self) -> Metrics:
        """What this process did, counted for GET /metrics (every school's view counts into the same)."""
        return self._shared.metrics

    @property
    def rosters(self) -> RosterCache:
        """The pupil rosters as the dialogs take them, read again only after an import changed one."""
        return self._shared.rosters

    def for_school(self, school: School) -> App:
        """The view of this deployment acting for `school`: its policy, people and calendar, the same database."""
        view = self._shared.views.get(school.key)
        if view is None:
            view = replace(self, school=school)
            view._shared = self._shared
            self._shared.views[school.key] = view
        return view

    def at(self, key: str | None) -> App:
        """The view for the school whose rows are stored under `key` (a report's school); this one if none is."""
        if key is None or key == self.school.key:
            return self
        school = next((s for s in self.trust.schools if key in (s.key, s.name)), None)
        return self if school is None else self.for_school(school)

    def views(self) -> tuple[App, ...]:
        """A view for each school of the deployment, in the config's order."""
        return tuple(self.for_school(school) for school in self.trust.schools)

    def schools_of(self, person_id: str) -> tuple[School, ...]:
        """The schools a person may report for: where they work; every school for the trust's own people."""
        if self.trust.alone or self.pinned:
            return (self.school,) if self.school.person(person_id) is not None else ()
        found = self.trust.schools_of(person_id)
        if found:
            return found
        return self.trust.schools if any(p.id == person_id for p in self.trust.people) else ()

    def for_person(self, person_id: str) -> App:
        """The view for the one school a person works at; this view if they work at several (or none)."""
        schools = self.schools_of(person_id)
        return self.for_school(schools[0]) if len(schools) == 1 else self

    def acting_for(self, person_id: str) -> frozenset[str]:
        """The schools (by key) whose reports a person's lists may show: this one if pinned, else where they work."""
        return frozenset(school.key for school in self.schools_of(person_id))

    def anyone(self, person_id: str) -> Person | None:
        """A person anywhere in the deployment: at this school first, then the trust's other schools."""
        return self.school.person(person_id) or self.trust.person(person_id)

    @property
    def staff(self) -> tuple[Person, ...]:
        """Everyone the deployment knows, once each (a person at two schools is one person)."""
        seen: dict[str, Person] = {}
        for school in self.trust.schools:
            for person in school.everyone:
                seen.setdefault(person.id, person)
        return tuple(seen.values())

    def now(self) -> datetime:
        """The current time, in UTC (tests pass a clock they move by hand)."""
        return self.clock().astimezone(UTC)

    def today(self) -> date:
        """Today's date at the school."""
        return self.now().astimezone(self.zone).date()

    @property
    def zone(self) -> ZoneInfo:
        """The school's timezone."""
        return ZoneInfo(self.school.timezone)

    def local(self, at: datetime) -> str:
        """A time as staff read it on a phone: `09:30 on Fri 20 Nov`."""
        shown = at.astimezone(self.zone)
        return f"{shown:%H:%M} on {shown:%a} {shown.day} {shown:%b}"

    def person(self, person_id: str) -> Person | None:
        """The person with this id in the school config."""
        return self.school.person(person_id)

    def name(self, person_id: str) -> str:
        """A person's name, or their id if they have left the config."""
        person = self.anyone(person_id)
        return person.name if person is not None else person_id

    def role_name(self, role: str) -> str:
        """A role as the school's policy names it ("Designated Safeguarding Lead")."""
        return self.school.role_name(role)

    def channel_for(self, person_id: str, preferred: str | None = None) -> str | None:
        """The channel to reach a person on: `preferred` if it can, else the first running one that can."""
        person = self.anyone(person_id)
        if person is None:
            return None
        order = ((preferred,) if preferred in self.channels else ()) + self.channels
        return next((channel for channel in order if channel is not None and reaches(channel, person)), None)

    def colleagues(self, reporter_id: str) -> Sequence[Colleague]:
        """The staff a report can be about: everyone in the directory but the reporter."""
        school, everyone = self._directory
        if school is not self.school:
            # In a trust the trust's own people are staff a report can be about (the Chief Executive).
            everyone = tuple(Colleague(p.id, p.name) for p in self.school.everyone)
            self._directory = (self.school, everyone)
        return Others(everyone, reporter_id)


@dataclass
class Shared:
    """What the views of one deployment share (App.for_school)."""

    views: dict[str, App] = field(default_factory=dict)
    reports_queued: int = 0
    rosters: RosterCache = field(default_factory=RosterCache)
    metrics: Metrics = field(default_factory=Metrics)


class Others(Sequence[Colleague]):
    """The directory without one person, listed only if a question asks who a report is about.

    Most messages answer other questions; listing a large school's staff for each of them
    cost a tenth of the server's time under load (bench/ack.py).
    """

    def __init__(self, everyone: tuple[Colleague, ...], left_out: str) -> None:
        self._everyone = everyone
        self._left_out = left_out

    @cached_property
    def _listed(self) -> list[Colleague]:
        return [colleague for colleague in self._everyone if colleague.id != self._left_out]

    @overload
    def __getitem__(self, index: int) -> Colleague: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Colleague]: ...

    def __getitem__(self, index: int | slice) -> Colleague | Sequence[Colleague]:
        return self._listed[index]

    def __len__(self) -> int:
        return len(self._listed)


def reaches(channel: str, person: Person) -> bool:
    """Whether `channel` knows how to reach `person`."""
    if channel == SLACK:
        return person.slack is not None
    if channel == TEAMS:
        return person.teams is not None
    return channel == CONSOLE
