"""One report gathered whole, to hand on to the file where the case lives (CPOMS, MyConcern, a personnel file).

A report starts here and is routed here; the case itself is usually kept elsewhere, so when it
is closed the DSL hands it on whole: what was reported, where it went and why, everything
done about it and when, the decision and its reason (KCSIE Part two, "Record keeping": the
concern, the discussions and decisions and the reasons for them). Only the events up to
`through` (the chain's head when the export was recorded) are in it, so it says exactly what
the log held then, and the hash of its last event can be checked against the log.

Words a retention job may have erased (empty details, empty note text) are tolerated: the
document says nothing was kept rather than failing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App
from bot.cases.messages import CLOSE_DECISIONS, STATE_WORDS, flagged, who
from bot.cases.report_chronology import Moment, chronology, local_time
from bot.cases.reporter import reporter_label
from dialogs import PupilRole
from dialogs.steps import PUPIL_KEYS
from routing.school import Person
from routing.vocabulary import CATEGORY_LABELS, Category
from storage import reports as store
from storage.chains import chain_of, shown
from storage.evidence import report_screenshots
from storage.log import Entry, EventKind, entries
from storage.models import Event, Recipient, RecipientKind, Report, RoutingDecision
from storage.pupils import pupils_of

MARKING = "OFFICIAL-SENSITIVE"  # the Government Security Classifications marking for personal safeguarding data


@dataclass(frozen=True)
class Routing:
    """Where the report was routed and why (the decision as taken, with people named)."""

    owner: str  # "Headteacher: Jordan Ellis"
    informed: tuple[str, ...]
    ladder: tuple[str, ...]
    deadline: str
    citations: tuple[str, ...]


@dataclass(frozen=True)
class LogSeal:
    """Where the report's last event stands in the tamper-evident log, to check the document against it."""

    chain: str  # "" for a lone school, else the school's code
    chain_words: str  # "the log", "school BPA's records"
    seq: int
    hash: str
    through: int  # the chain's head when the export was recorded


@dataclass(frozen=True)
class ReportFile:
    """Everything the document shows, already in words and in the school's own time."""

    reference: str
    school: str
    zone: str  # "Europe/London"
    status: str
    category: str
    about: tuple[str, ...]
    allegation: bool
    flags: tuple[str, ...]
    reported_by: str
    reported_at: str
    answers: tuple[tuple[str, str], ...]  # the details, under the labels the dialog stored them with
    pupils: tuple[str, ...]
    routing: Routing | None
    screenshots: tuple[str, ...]  # sha256 of each, in the order sent
    decision: str | None
    reason: str | None
    entries: tuple[Moment, ...]
    seal: LogSeal
    generated_at: str
    authority: str  # "Sam Morgan (Designated safeguarding lead (DSL))"
    export_seq: int = 0  # the `exported` event that records this document, once it is recorded


async def gather(app: App, session: AsyncSession, report: Report, recipients: Sequence[Recipient], *,
                 person: Person, through: int, now: datetime) -> ReportFile:
    """The report as the log held it up to event `through` of its chain, for `person` (who may export it)."""
    chain = chain_of(report.reference)
    history = [entry async for entry in entries(session, Event.chain == chain, Event.report_ref == report.reference,
                                                Event.seq <= through)]
    notes = {note.id: note for note in await store.notes_for(session, report)}
    decision, _ = await store.get_routing(session, report)
    shots = await report_screenshots(session, report) if report.screenshots else []
    closed = report.closed_at is not None
    chosen = CLOSE_DECISIONS.get(report.close_decision or "", report.close_decision) if closed else None
    last = history[-1] if history else None
    roles = ", ".join(app.role_name(role) for role in person.roles)
    return ReportFile(
        reference=report.reference,
        school=app.school.name,
        zone=app.school.timezone,
        status=STATE_WORDS.get(report.status, report.status),
        category=CATEGORY_LABELS[Category(report.category)],
        about=tuple(who(report, app)),
        allegation=report.allegation,
        flags=tuple(flagged(report)),
        reported_by=reporter_label(app, report),
        reported_at=local_time(app, report.created_at),
        answers=tuple((str(key), str(value)) for key, value in (report.details or {}).items()),
        pupils=tuple(await _pupils(session, report)),
        routing=_routing(app, decision, _routed_to(history, recipients), report) if decision is not None else None,
        screenshots=tuple(shot.sha256 for shot in shots),
        decision=chosen,
        reason=(report.close_reason or "") if closed else None,
        entries=tuple(chronology(app, report, history, notes)),
        seal=_seal(chain, last, through),
        generated_at=local_time(app, now),
        authority=f"{person.name} ({roles})" if roles else person.name,
    )


async def _pupils(session: AsyncSession, report: Report) -> list[str]:
    named = []
    for pupil, role in await pupils_of(session, report):
        label = PUPIL_KEYS.get(PupilRole(role), role) if role in set(PupilRole) else role
        year = f" ({pupil.year})" if pupil.year else ""
        named.append(f"{label}: {pupil.name}{year}")
    return named


def _routed_to(history: Sequence[Entry], recipients: Sequence[Recipient]) -> list[tuple[str, str, str]]:
    """(person, role, kind) as the report was first routed (its `routed` event), else as its rows stand now."""
    routed = next((e for e in history if e.kind == EventKind.ROUTED and isinstance(e.data, dict)), None)
    listed = routed.data.get("recipients") if routed is not None else None
    if isinstance(listed, list):
        return [(str(r.get("person", "")), str(r.get("role", "")), str(r.get("kind", "")))
                for r in listed if isinstance(r, dict)]
    return [(r.person_id, r.role, r.kind) for r in recipients]


def _routing(app: App, decision: RoutingDecision, recipients: Sequence[tuple[str, str, str]], report: Report) -> Routing:
    def named(kind: RecipientKind) -> tuple[str, ...]:
        return tuple(f"{app.role_name(role)}: {app.name(person)}" for person, role, held in recipients
                     if held == kind.value)

    owners = named(RecipientKind.OWNER)
    owner = "; ".join(owners) if owners else f"{app.role_name(decision.owner_role)} (nobody named)"
    deadline = (f"{local_time(app, report.ack_deadline)} ({decision.ack_within_minutes} minutes)"
                if report.ack_deadline is not None else f"{decision.ack_within_minutes} minutes")
    return Routing(owner, named(RecipientKind.INFORMED), named(RecipientKind.ESCALATION), deadline,
                   tuple(str(c) for c in decision.citations))


def _seal(chain: str, last: Entry | None, through: int) -> LogSeal:
    if last is None:
        return LogSeal(chain, shown(chain), 0, "", through)
    return LogSeal(chain, shown(chain), last.seq, last.hash, through)
