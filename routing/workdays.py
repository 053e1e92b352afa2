"""The school's calendar: school hours, and working days that skip weekends and bank holidays.

Bank holidays come from the `holidays` library (kept up to date by its maintainers), not a
hand-typed list. England and Wales share theirs; Scotland and Northern Ireland have their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays

# The config's words for the UK's bank-holiday calendars, and the `holidays` subdivisions they name.
REGIONS = {"england": "ENG", "wales": "WLS", "scotland": "SCT", "northern_ireland": "NIR"}
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAYS = frozenset(range(5))


@dataclass(frozen=True)
class SchoolHours:
    """When the school is staffed: on which days (0 is Monday), from when until when, local time."""

    days: frozenset[int] = WEEKDAYS
    start: time = time(8, 0)
    end: time = time(18, 0)


@dataclass(frozen=True)
class Calendar:
    """Working days and school hours in the school's timezone."""

    timezone: str = "Europe/London"
    region: str = "england"
    hours: SchoolHours = field(default_factory=SchoolHours)
    closed: tuple[tuple[date, date], ...] = ()  # the school's own holidays, first and last day

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def _holidays(self) -> holidays.HolidayBase:
        return holidays.country_holidays("GB", subdiv=REGIONS[self.region])

    def bank_holidays(self, year: int) -> tuple[date, ...]:
        """The bank holidays of `year` the calendar knows, in order (`safeguard doctor` checks there are some)."""
        return tuple(sorted(holidays.country_holidays("GB", subdiv=REGIONS[self.region], years=year)))

    def bank_holiday(self, day: date) -> str | None:
        """The bank holiday's name if `day` is one."""
        return self._holidays.get(day)

    def working_day(self, day: date) -> bool:
        """Monday to Friday, and not a bank holiday."""
        return day.weekday() < 5 and day not in self._holidays

    def add_working_days(self, at: datetime, days: int) -> datetime:
        """The same local time `days` working days after `at` (from a weekend or holiday, counted from the next working day).

        Reported on Friday at 15:00, one working day is Monday at 15:00, or Tuesday if Monday is a bank holiday.
        """
        local = at.astimezone(self.zone)
        day = local.date()
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if self.working_day(day):
                counted += 1
        # Combined in the zone, so a clock change in between keeps the local time.
        return datetime.combine(day, local.time(), tzinfo=self.zone)

    def school_day(self, day: date) -> bool:
        """A day the school is open: one of its days, not a bank holiday, not in its own holidays."""
        return (day.weekday() in self.hours.days and day not in self._holidays
                and not any(first <= day <= last for first, last in self.closed))

    def in_school_hours(self, at: datetime) -> bool:
        """Whether the school is staffed at `at`: a school day within the hours."""
        local = at.astimezone(self.zone)
        return self.school_day(local.date()) and self.hours.start <= local.time() < self.hours.end

    def add_school_minutes(self, at: datetime, minutes: int) -> datetime:
        """The moment `minutes` of school hours after `at`: the clock stops overnight, at weekends and in holidays.

        Reported on Friday at 19:00 with four hours to acknowledge, it is due on Monday at
        12:00 (school from 08:00), or later if Monday is a bank holiday or in the holidays.
        """
        left = timedelta(minutes=minutes)
        local = at.astimezone(self.zone)
        day = local.date()
        for _ in range(3 * 366):  # a year's holidays at most; a calendar with no school days ends here
            if self.school_day(day):
                opens = datetime.combine(day, self.hours.start, tzinfo=self.zone)
                shuts = datetime.combine(day, self.hours.end, tzinfo=self.zone)
                start = max(opens, local)
                if start < shuts:
                    if start + left <= shuts:
                        return start + left
                    left -= shuts - start
            day += timedelta(days=1)
        return at + timedelta(minutes=minutes)
