"""Reports sent together are stored together: a burst of Sends takes two transactions, not two each.

When fifty staff tap Send in the same instant (bench/alert.py), each report was stored in a
transaction of its own and routed in another; on SQLite those queue one behind another on the
one connection, so the last reporter's alert waited for a hundred commits. Here the reports
sent while one write is under way are stored in one transaction, and routed in one more
(storage/group_commit.py), so the last waits for a few.

What does not bend:
- A report is committed before its reporter is told it was sent: each caller is answered only
  once the transaction holding its report has committed.
- A routing failure still keeps the report: storing and routing stay separate transactions, so
  a report whose routing fails is stored, its reporter told to go to the DSL, and
  `route_unrouted` routes it later, as for a report sent alone.
- One bad report never loses another: a shared transaction that fails is written again one
  report at a time, and only the report that fails on its own is refused.
- A report is stored once however often Send arrives: sending ends the reporter's draft in the
  same transaction, and a Send whose draft another Send has already ended stores nothing (a
  double tap that two servers took, one each, where no lock in memory is shared).
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from dialogs import Reply, ReportDraft, Tone
from routing.vocabulary import Subject
from storage import reports as store
from storage.drafts import delete_draft
from storage.evidence import attach_draft_screenshots
from storage.group_commit import Together
from storage.pupils import link_pupils
from storage.sealed_reporters import Address, seal

ALREADY_SENT = Reply("That report was already sent. To report something else, send me any message.", tone=Tone.DONE)


class AlreadySent(Exception):
    """The draft this Send would end was ended by another Send of it: it is stored already."""


@dataclass(frozen=True)
class Sending:
    """A report as its reporter sent it, before it is stored; `stored_as` is who the rows name."""

    app: App
    reporter_id: str
    channel: str
    report: ReportDraft
    subject: Subject
    stored_as: str
    anonymous: bool
    ends_draft: bool = False  # sent from a stored draft (the dialog's Send), which must still be there


async def _store(session: AsyncSession, sending: Sending) -> str:
    """Store a sent report (ending its reporter's draft) in the caller's transaction; its reference."""
    app, report, channel, reporter_id = sending.app, sending.report, sending.channel, sending.reporter_id
    stored = await store.create_report(
        session, now=app.now(), school=app.school.key, category=report.category, subject=sending.subject,
        reporter=sending.stored_as, details=report.details, flags=report.flags,
        subject_person=report.subject_person, allegation=report.allegation,
        channel=None if sending.anonymous else channel,
        target=report.target, reference_prefix=app.school.reference_prefix,
    )
    if sending.anonymous:
        assert app.relay is not None
        await seal(session, app.relay, report=stored, address=Address(channel, reporter_id))
    await link_pupils(session, now=app.now(), school=app.school.key, report=stored, named=report.pupils)
    if report.screenshots:  # kept with the draft until now; stored with the report, in this transaction
        await attach_draft_screenshots(session, now=app.now(), channel=channel, user_id=reporter_id,
                                       report=stored, actor=sending.stored_as)
    if not await delete_draft(session, channel=channel, user_id=reporter_id) and sending.ends_draft:
        raise AlreadySent(stored.reference)  # rolled back with the rest of this report
    return stored.reference


Work = Callable[[AsyncSession], Awaitable[object]]


async def _do(session: AsyncSession, work: Work) -> object:
    return await work(session)


# One writer of each kind per database (every school's view of a deployment shares its sessions).
_stores: weakref.WeakKeyDictionary[async_sessionmaker[AsyncSession], Together[Sending, str]] = \
    weakref.WeakKeyDictionary()
_routes: weakref.WeakKeyDictionary[async_sessionmaker[AsyncSession], Together[Work, object]] = \
    weakref.WeakKeyDictionary()


async def store_sent(sending: Sending) -> str:
    """Store a sent report with the others sent at the same moment; its reference, once committed."""
    sessions = sending.app.sessions
    writer = _stores.get(sessions)
    if writer is None:
        _stores[sessions] = writer = Together(sessions, _store)
    return await writer.submit(sending)


async def route_stored(app: App, reference: str, route_in: Callable[[App, AsyncSession, str], Awaitable[object]]) -> None:
    """Route a stored report (`route_in`, in the transaction it is given) with the others stored with it.

    Raises what routing it raised; the report stays stored either way.
    """
    writer = _routes.get(app.sessions)
    if writer is None:
        _routes[app.sessions] = writer = Together(app.sessions, _do)
    await writer.submit(lambda session: route_in(app, session, reference))
