"""The children a report names: what its alert says first, and a child's history for the DSL and deputies.

An alert opens with the child (name, year group or class), where the child is now, then (after
the flags) the first words of what was said; the whole report is one tap away (View log). The
DSL and deputy DSLs also see how many earlier reports name the child, and can list them; nobody
else sees across reports (bot.cases.access.sees_child_history). None of it reaches a preview,
the event log or the server's log: those carry references and counts.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import STORE_ERRORS, App
from bot.cases import preview
from bot.cases.access import in_child_history, sees_child_history
from bot.cases.messages import CLOSE_DECISIONS, STATE_WORDS, Alert, ReportButton
from dialogs import PupilRole, Reply, Tone
from dialogs.steps import CATEGORY_CHOICES, PUPIL_KEYS, WHERE_KEY
from dialogs.validation import Invalid
from routing.vocabulary import Category
from storage import reports as store
from storage.log import EventKind, append_event
from storage.models import Pupil, PupilSource, Report
from storage.pupils import earlier_reports_about, find_pupils, pupils_of, reports_about

log = logging.getLogger(__name__)

HISTORY = ReportButton("history", "Child's history")
ROLE_ORDER = list(PupilRole)
# What was said, first: the child's own words, else what happened, else what the content was.
SAID_KEYS = ("The child's words", "What happened", "Nature of inappropriate content")
SAID_CHARS = 160
LISTED = 12  # pupils listed when several match a search
# The reporter's own button words, but for a self-referral: "Something about myself" would read as the reader.
SHORT_CATEGORY = {**{choice.id: choice.label for choice in CATEGORY_CHOICES},
                  Category.SELF_REFERRAL.value: "Self-referral"}
REFUSED = "You can't see a child's history: only the DSL and deputy DSLs can."


@dataclass(frozen=True)
class ChildLines:
    """What an alert says of the children it names: first, after its flags, and the buttons it adds."""

    top: tuple[str, ...] = ()
    said: tuple[str, ...] = ()
    buttons: tuple[ReportButton, ...] = ()


@dataclass(frozen=True)
class Found:
    """The answer to a search for a child: what to say, and the pupils listed (for `/child N`)."""

    replies: list[Reply]
    listed: tuple[int, ...] = ()


def shown(pupil: Pupil) -> str:
    """`Ava Stone (Year 5)`."""
    return f"{pupil.name} ({pupil.year})" if pupil.year else pupil.name


async def for_alert(app: App, session: AsyncSession, report: Report, reader_id: str | None) -> ChildLines:
    """The child lines of `report`'s alert as `reader_id` reads it (earlier reports only for the DSL and deputies)."""
    named = sorted(await pupils_of(session, report), key=lambda pair: _role_rank(pair[1]))
    top = [f"{PUPIL_KEYS.get(PupilRole(role), role) if role in set(PupilRole) else role}: {shown(pupil)}"
           for pupil, role in named]
    where = report.details.get(WHERE_KEY)
    if isinstance(where, str) and where:
        top.append(f"{WHERE_KEY}: {where}")
    reader = app.person(reader_id) if reader_id is not None else None
    buttons: tuple[ReportButton, ...] = ()
    if reader is not None and sees_child_history(reader) and named:
        pupils = list({pupil.id: pupil for pupil, _ in named}.values())
        for pupil in pupils:
            earlier = [r for r in await earlier_reports_about(session, pupil, before=report) if in_child_history(reader, r)]
            count = f"{len(earlier) or 'No'} earlier report{'' if len(earlier) == 1 else 's'}"
            top.append(f"{count} about this child" if len(pupils) == 1 else f"{count} about {pupil.name}")
        buttons = (HISTORY,)
    return ChildLines(tuple(top), _said(report), buttons)


def sees_child_history_anywhere(app: App, person_id: str) -> bool:
    """Whether `person_id` is the DSL or a deputy at any school of the deployment (a report's school decides)."""
    return any(person is not None and sees_child_history(person)
               for person in (view.person(person_id) for view in app.views()))


def with_children(alert: Alert, child: ChildLines) -> Alert:
    """The alert with its child lines: the children first (under the heading), what was said after the flags."""
    if not (child.top or child.said or child.buttons):
        return alert
    heading, *lines = alert.text.split("\n")
    if any(line.startswith(f"{PUPIL_KEYS[PupilRole.CHILD]}: ") for line in child.top):
        lines = [line for line in lines if line != "About: A pupil"]  # the child is named above
    after = next((n + 1 for n, line in enumerate(lines) if line.startswith("Flagged: ")), None)
    if after is None:  # no flags: what was said comes just before who reported it
        after = next((n for n, line in enumerate(lines) if line.startswith("Reported by ")), len(lines))
    lines[after:after] = child.said
    return replace(alert, text="\n".join([heading, *child.top, *lines]), buttons=(*alert.buttons, *child.buttons))


def _role_rank(role: str) -> int:
    return ROLE_ORDER.index(PupilRole(role)) if role in set(PupilRole) else len(ROLE_ORDER)


def _said(report: Report) -> tuple[str, ...]:
    """The first words of what was said, on one line, cut short (View log shows them whole)."""
    for key in SAID_KEYS:
        words = report.details.get(key)
        if isinstance(words, str) and words.strip():
            line = " / ".join(part.strip() for part in words.splitlines() if part.strip())
            return (f"{key}: " + (line if len(line) <= SAID_CHARS else line[:SAID_CHARS - 1].rstrip() + "…"),)
    return ()


async def history_for_report(app: App, person_id: str, reference: str) -> Reply:
    """The history of each child a report names, for the DSL or a deputy (the alert's "Child's history")."""
    from bot.cases.lifecycle import parse_reference  # lifecycle stores reports; this only reads them

    parsed = parse_reference(reference)
    if isinstance(parsed, Invalid) or not sees_child_history_anywhere(app, person_id):
        return await _refuse(app, person_id, None if isinstance(parsed, Invalid) else parsed)
    try:
        async with app.sessions.begin() as session:
            report = await store.get_report(session, parsed)
            # The record is the report's own school's: only its DSL and deputies read it (KCSIE Annex C).
            app = app.at(report.school) if report is not None else app
            person = app.person(person_id)
            if report is None or person is None or not in_child_history(person, report):
                named = []
            else:
                named = [pupil for pupil, _ in await pupils_of(session, report)]
            replies = [await _history(app, session, person_id, pupil, parsed) for pupil in dict.fromkeys(named)]
    except STORE_ERRORS:
        log.exception("could not read the child history of %s for %s", parsed, person_id)
        return _unavailable()
    if not replies:
        return await _refuse(app, person_id, parsed)
    return Reply("\n\n".join(r.text for r in replies), tone=Tone.SUMMARY, preview=replies[0].preview)


async def find_child(app: App, person_id: str, text: str, listed: Sequence[int] = ()) -> Found:
    """`/child NAME`: the history of the one pupil matching NAME, or the pupils to choose from (`/child N`)."""
    person = app.person(person_id)
    if person is None or not sees_child_history(person):
        return Found([await _refuse(app, person_id, None)])
    words = " ".join(text.split())
    if not words:
        return Found([Reply("Which child? Type /child and part of their name, like /child ava.", tone=Tone.ERROR)])
    try:
        async with app.sessions.begin() as session:
            if words.isdigit() and listed:
                number = int(words)
                if not 1 <= number <= len(listed):
                    return Found([Reply(f"Choose a number from 1 to {len(listed)}.", tone=Tone.ERROR)], tuple(listed))
                pupil = await session.get(Pupil, listed[number - 1])
                found = [] if pupil is None or pupil.school != app.school.key else [pupil]
            else:
                found = await find_pupils(session, app.school.key, words)
            if len(found) == 1:
                return Found([await _history(app, session, person_id, found[0], None)])
    except STORE_ERRORS:
        log.exception("could not search the pupils for %s", person_id)
        return Found([_unavailable()])
    if not found:
        return Found([Reply(f"No pupil matches {words[:40]!r}. Type part of their first or last name.",
                            tone=Tone.DONE)])
    lines = [f"{len(found)} pupils match{'; the first ' + str(LISTED) + ' are' if len(found) > LISTED else ':'}"]
    lines += [f"  {n}. {shown(p)}{_source(p)}" for n, p in enumerate(found[:LISTED], 1)]
    lines.append("Type /child and a number to see that child's reports, or more of the name.")
    return Found([Reply("\n".join(lines), tone=Tone.SUMMARY, preview=preview.line("pupils to choose from"))],
                 tuple(p.id for p in found[:LISTED]))


async def _history(app: App, session: AsyncSession, person_id: str, pupil: Pupil, reference: str | None) -> Reply:
    """Every report about `pupil` its reader may see in a history: reference, date, category, owner, state."""
    reader = app.person(person_id)
    assert reader is not None
    rows = [(r, role) for r, role in await reports_about(session, pupil) if in_child_history(reader, r)]
    lines = [f"Reports about {shown(pupil)}{_source(pupil)}: {len(rows)}"]
    for report, role in rows:
        decision, _ = await store.get_routing(session, report)
        owner = f"owner: {app.role_name(decision.owner_role)}" if decision is not None else "not yet routed"
        when = report.created_at.astimezone(app.zone)
        state = STATE_WORDS.get(report.status, report.status)
        if report.close_decision is not None:
            state += f": {CLOSE_DECISIONS.get(report.close_decision, report.close_decision)}"
        as_role = "" if role == PupilRole.CHILD.value else f" (as {PUPIL_KEYS[PupilRole(role)].lower()})" \
            if role in set(PupilRole) else ""
        lines.append(f"{report.reference}  {when.day} {when:%b %Y}  {SHORT_CATEGORY.get(report.category, report.category)}"
                     f"{as_role}  {owner}  {state}")
    # The log keeps that the record was read, and how much of it: never who the child is.
    await append_event(session, now=app.now(), actor=person_id, kind=EventKind.CHILD_HISTORY_VIEWED,
                       report_ref=reference, data={"reports": len(rows)})
    return Reply("\n".join(lines), tone=Tone.SUMMARY, preview=preview.line("a child's history", reference))


def _source(pupil: Pupil) -> str:
    if pupil.source == PupilSource.TYPED.value:
        return " (typed in a report; not on the roster)"
    return "" if pupil.on_roster else " (no longer on the roster)"


async def _refuse(app: App, person_id: str, reference: str | None) -> Reply:
    """The same words whoever asks and whatever exists; the attempt is logged."""
    try:
        async with app.sessions.begin() as session:
            await append_event(session, now=app.now(), actor=person_id, kind=EventKind.REFUSED, report_ref=reference,
                               data={"action": "child_history"})
    except STORE_ERRORS:
        log.exception("could not log that %s was refused a child's history", person_id)
    return Reply(REFUSED, tone=Tone.ERROR, preview=preview.refused())


def _unavailable() -> Reply:
    return Reply("Safeguard cannot reach its database just now. Please try again in a minute.", tone=Tone.ERROR,
                 preview=preview.trouble())
