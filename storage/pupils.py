"""Pupils: the roster imported from the school's MIS, pupils typed into reports, and the reports naming each.

Names, MIS ids and year groups are encrypted (Fernet tokens differ each time), so nothing is
looked up by them in SQL: a school's pupils are read and compared once decrypted. A school
has a few hundred to a couple of thousand pupils, and the dialog's copy of the roster is
cached (RosterCache) until an import changes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from dialogs.report import NamedPupil
from dialogs.report import Pupil as RosterPupil
from dialogs.validation import normalise
from storage.log import SYSTEM, EventKind, append_event, utc
from storage.models import Pupil, PupilSource, Report, ReportPupil


@dataclass(frozen=True)
class RosterRow:
    """One pupil as the roster file gives them."""

    mis_id: str
    name: str
    year: str


@dataclass(frozen=True)
class Imported:
    """What an import did, in pupils (never who)."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    left: int = 0  # on the roster before, not in this file: kept, and still linked to their reports

    def as_event(self) -> dict[str, Any]:
        """The `pupils_imported` event's data: counts only."""
        return {"added": self.added, "updated": self.updated, "unchanged": self.unchanged, "left": self.left}


async def import_roster(session: AsyncSession, *, now: datetime, school: str, rows: Sequence[RosterRow],
                        chain: str = "") -> Imported:
    """Add or update each row by its MIS id; pupils missing from `rows` leave the roster but keep their row.

    `chain` is the school's chain of the log (its code in a trust), so the import is in its own records.
    """
    now = utc(now)
    query = select(Pupil).where(Pupil.school == school, Pupil.source == PupilSource.ROSTER.value)
    known = {pupil.mis_id: pupil for pupil in await session.scalars(query)}
    added = updated = unchanged = 0
    for row in rows:
        pupil = known.pop(row.mis_id, None)
        if pupil is None:
            session.add(Pupil(school=school, source=PupilSource.ROSTER.value, mis_id=row.mis_id, name=row.name,
                              year=row.year, on_roster=True, created_at=now, updated_at=now))
            added += 1
        elif (pupil.name, pupil.year, pupil.on_roster) == (row.name, row.year, True):
            unchanged += 1
        else:
            pupil.name, pupil.year, pupil.on_roster, pupil.updated_at = row.name, row.year, True, now
            updated += 1
    left = 0
    for pupil in known.values():
        if pupil.on_roster:
            pupil.on_roster, pupil.updated_at = False, now
            left += 1
    done = Imported(added, updated, unchanged, left)
    await session.flush()
    await append_event(session, now=now, actor=SYSTEM, kind=EventKind.PUPILS_IMPORTED, report_ref=None,
                       data={"school_pupils": len(rows), **done.as_event()}, chain=chain)
    return done


async def roster(session: AsyncSession | AsyncConnection, school: str) -> tuple[RosterPupil, ...]:
    """The pupils on the school's latest roster, as the dialog takes them."""
    query = select(Pupil.id, Pupil.name, Pupil.year).where(
        Pupil.school == school, Pupil.source == PupilSource.ROSTER.value, Pupil.on_roster.is_(True)).order_by(Pupil.id)
    return tuple(RosterPupil(str(id_), name, year) for id_, name, year in await session.execute(query))


@dataclass
class RosterCache:
    """The dialog's copy of each school's roster, read again only when an import has changed it."""

    _held: dict[str, tuple[tuple[Any, ...], tuple[RosterPupil, ...]]] = field(default_factory=dict)

    async def get(self, session: AsyncSession | AsyncConnection, school: str) -> tuple[RosterPupil, ...]:
        """The school's roster (one small query when nothing changed)."""
        stamp = tuple((await session.execute(
            select(func.count(), func.max(Pupil.updated_at))
            .where(Pupil.school == school, Pupil.source == PupilSource.ROSTER.value)
        )).one())
        return await self.at(session, school, stamp)

    async def at(self, session: AsyncSession | AsyncConnection, school: str,
                 stamp: tuple[Any, ...]) -> tuple[RosterPupil, ...]:
        """The school's roster, given its stamp (count, latest change) read already (storage.drafts.read_turn)."""
        held = self._held.get(school)
        if held is not None and held[0] == stamp:
            return held[1]
        pupils = await roster(session, school)
        self._held[school] = (stamp, pupils)
        return pupils


def same_pupil(pupil: Pupil, name: str, year: str) -> bool:
    """Whether a stored pupil has exactly this name and year (case and spacing aside)."""
    return normalise(pupil.name) == normalise(name) and normalise(pupil.year) == normalise(year)


async def link_pupils(session: AsyncSession, *, now: datetime, school: str, report: Report,
                      named: Sequence[NamedPupil]) -> None:
    """Link a report to the pupils it names; a typed name matches an earlier pupil of that name and year, or is added."""
    everyone: list[Pupil] | None = None
    linked: set[tuple[int, str]] = set()
    for child in named:
        pupil = None
        if child.pupil_id is not None and child.pupil_id.isdigit():
            pupil = await session.get(Pupil, int(child.pupil_id))
            pupil = pupil if pupil is not None and pupil.school == school else None
        if pupil is None:
            if everyone is None:
                everyone = list(await session.scalars(select(Pupil).where(Pupil.school == school).order_by(Pupil.id)))
            # The roster's pupil first, then one typed before: later reports about the same child link up.
            matches = sorted((p for p in everyone if same_pupil(p, child.name, child.year)),
                             key=lambda p: (p.source != PupilSource.ROSTER.value, p.id))
            pupil = matches[0] if matches else None
        if pupil is None:
            pupil = Pupil(school=school, source=PupilSource.TYPED.value, mis_id=None, name=child.name,
                          year=child.year, on_roster=False, created_at=utc(now), updated_at=utc(now))
            session.add(pupil)
            await session.flush()
            if everyone is not None:
                everyone.append(pupil)
        if (pupil.id, child.role.value) not in linked:
            linked.add((pupil.id, child.role.value))
            session.add(ReportPupil(report_id=report.id, pupil_id=pupil.id, role=child.role.value))
    await session.flush()


async def pupils_of(session: AsyncSession, report: Report) -> list[tuple[Pupil, str]]:
    """The pupils a report names, with their roles, in the order they were named."""
    query = (select(Pupil, ReportPupil.role).join(ReportPupil, ReportPupil.pupil_id == Pupil.id)
             .where(ReportPupil.report_id == report.id).order_by(Pupil.id))
    return [(pupil, role) for pupil, role in (await session.execute(query)).all()]


async def reports_about(session: AsyncSession, pupil: Pupil, *, before: Report | None = None) -> list[tuple[Report, str]]:
    """Every report naming this pupil (only those made before `before`, if given), oldest first, with the role."""
    query = (select(Report, ReportPupil.role).join(ReportPupil, ReportPupil.report_id == Report.id)
             .where(ReportPupil.pupil_id == pupil.id).order_by(Report.created_at, Report.id))
    if before is not None:
        query = query.where(Report.id < before.id)
    return [(report, role) for report, role in (await session.execute(query)).all()]


class EarlierReport(NamedTuple):
    """What an earlier report about a child was about: enough to judge who may count it, and nothing decrypted."""

    subject: str
    subject_person: str | None


async def earlier_reports_about(session: AsyncSession, pupil: Pupil, *, before: Report) -> list[EarlierReport]:
    """What each report naming this pupil before `before` was about, oldest first.

    An alert to the DSL counts the child's earlier reports. Loading each whole report to count
    it (its words decrypted) cost every alert more as a child's reports grew: fifty alerts about
    a child with two hundred earlier reports took over a second (bench/alert.py).
    """
    query = (select(Report.subject, Report.subject_person).join(ReportPupil, ReportPupil.report_id == Report.id)
             .where(ReportPupil.pupil_id == pupil.id, Report.id < before.id).order_by(Report.created_at, Report.id))
    return [EarlierReport(subject, subject_person) for subject, subject_person in (await session.execute(query)).all()]


async def reports_naming(session: AsyncSession, pupil_ids: Sequence[int]) -> set[int]:
    """The ids of the reports naming any of these pupils, in any role."""
    if not pupil_ids:
        return set()
    query = select(ReportPupil.report_id).where(ReportPupil.pupil_id.in_(list(pupil_ids))).distinct()
    return set(await session.scalars(query))


async def find_pupils(session: AsyncSession, school: str, text: str) -> list[Pupil]:
    """The school's pupils (on the roster, left, or typed) every typed word is part of, in name order."""
    words = normalise(text).split()
    if not words:
        return []
    everyone = await session.scalars(select(Pupil).where(Pupil.school == school))
    found = [p for p in everyone if all(w in normalise(f"{p.name} {p.year}") for w in words)]
    return sorted(found, key=lambda p: (normalise(p.name), normalise(p.year), p.id))
