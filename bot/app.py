"""What every channel shares: the school, the database, the clock, and where each person is reached."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import overload
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs import Colleague
from routing.school import Person, School
from storage.alerts import CLAIM_SECONDS
from storage.crypto import KeyringError
from storage.log import LogError
from storage.pupils import RosterCache

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

    school: School
    sessions: async_sessionmaker[AsyncSession]
    channels: tuple[str, ...] = (CONSOLE,)
    clock: Callable[[], datetime] = field(default=utc_now)
    # How long a sender holds the messages it took before another may take them (see storage.alerts).
    lease: timedelta = timedelta(seconds=CLAIM_SECONDS)
    # How many times this process has queued notices from a report sent, so a channel can skip
    # an outbox round after a dialog message that sent nothing (most do not; bench/ack.py).
    reports_queued: int = field(default=0, init=False, compare=False)
    # The directory as the dialogs take it, built once per school config, not once per message.
    _directory: tuple[School | None, tuple[Colleague, ...]] = field(default=(None, ()), init=False, repr=False,
                                                                      compare=False)
    # The pupil roster as the dialogs take it, read again only after an import changed it.
    rosters: RosterCache = field(default_factory=RosterCache, init=False, repr=False, compare=False)

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
        person = self.school.person(person_id)
        return person.name if person is not None else person_id

    def role_name(self, role: str) -> str:
        """A role as the school's policy names it ("Designated Safeguarding Lead")."""
        return self.school.role_name(role)

    def channel_for(self, person_id: str, preferred: str | None = None) -> str | None:
        """The channel to reach a person on: `preferred` if it can, else the first running one that can."""
        person = self.school.person(person_id)
        if person is None:
            return None
        order = ((preferred,) if preferred in self.channels else ()) + self.channels
        return next((channel for channel in order if channel is not None and reaches(channel, person)), None)

    def colleagues(self, reporter_id: str) -> Sequence[Colleague]:
        """The staff a report can be about: everyone in the directory but the reporter."""
        school, everyone = self._directory
        if school is not self.school:
            everyone = tuple(Colleague(p.id, p.name) for p in self.school.people)
            self._directory = (self.school, everyone)
        return Others(everyone, reporter_id)


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
