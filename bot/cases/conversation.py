"""A reporter's conversation on any channel: the stored draft, one message at a time, until Send.

The draft is saved after every answer, so a restart (of the bot, or of the reporter's
phone) loses nothing; a draft left alone is reminded once and then discarded (dialogs.idle).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.cases import lifecycle, messages
from bot.app import STORE_ERRORS, App
from dialogs import (
    Cancelled,
    Draft,
    DraftError,
    Pupil,
    Reply,
    Submitted,
    Tone,
    Turn,
    expired,
    handle,
    is_expired,
    mark_reminded,
    needs_reminder,
    reminder,
    resume,
    start,
)
from dialogs.prompts import CANCEL, Choice, Command, cancelled, error
from dialogs.state import StepId
from dialogs.validation import loose_match, match_choice
from routing.school import School
from storage.db import engine_of
from storage.drafts import delete_draft, load_draft, read_turn, save_draft, write_draft
from storage.evidence import forget_draft_screenshots
from storage.inbound import record_event
from storage.models import Draft as StoredDraft

log = logging.getLogger(__name__)

UNREADABLE = Reply("Your unfinished report could not be read, so it was discarded. Nothing was sent.", tone=Tone.DONE)


# What a message leads to that cannot be done inside its transaction (it opens sessions of its own).
Then = Callable[[], Awaitable[list[Reply]]]


async def message(app: App, *, channel: str, user_id: str, text: str) -> list[Reply]:
    """Take one message from a reporter: it starts a report, or answers the current question.

    The draft is read (with the roster's stamp, in one statement), stepped on and written back
    on one connection, in one transaction, with Core statements: this runs for every message
    every reporter sends, and two ORM sessions a message cost more CPU than the dialog itself
    (bench/ack.py). What a step leads to beyond its draft (a report sent, a draft cancelled, a
    school to choose) is done after that transaction, as before.
    """
    taken = await _take(app, channel, user_id, text, None, None)
    return taken if isinstance(taken, list) else []  # neither an event id nor a form to be told of


class Taken(Enum):
    """What `message_once` did instead of a step: the event came before; or a form under way is to take the words."""

    AGAIN = "again"
    FORM = "form"


async def message_once(app: App, *, channel: str, user_id: str, text: str, inbound: tuple[str, str],
                       form_channel: str | None = None) -> list[Reply] | Taken:
    """`message`, for a platform event that may come again: its id (`inbound`, (channel, event id)) is recorded
    in the step's own transaction, so it is committed exactly with the step.

    Taken.AGAIN (nothing done) when that id was recorded before: a retry of an event handled.
    Taken.FORM when the reporter has a draft under `form_channel` (a request's form, which
    takes their words first): the id is recorded, the report's draft untouched.
    One transaction and one commit for a Slack message where there were two (bench/ack.py).
    """
    return await _take(app, channel, user_id, text, inbound, form_channel)


async def _take(app: App, channel: str, user_id: str, text: str, inbound: tuple[str, str] | None,
                form_channel: str | None) -> list[Reply] | Taken:
    guess = app.for_person(user_id)
    try:
        async with engine_of(app.sessions).begin() as conn:
            # The id first: on PostgreSQL a second server's copy of the event waits here, on the
            # unique key, until this transaction ends, and then finds it recorded.
            if inbound is not None and not await record_event(conn, channel=inbound[0], event_id=inbound[1]):
                return Taken.AGAIN
            state, stamp, form = await read_turn(conn, channel=channel, user_id=user_id, school=guess.school.key,
                                                 form_channel=form_channel)
            if form:
                return Taken.FORM
            stored = await _readable(conn, channel, user_id, state)
            if isinstance(stored, Draft) and stored.step is StepId.SCHOOL and not is_expired(stored, app.now()):
                then: list[Reply] | Then = partial(_school_chosen, app, channel, user_id, stored, text)
            else:
                view = _acting(app, user_id, stored)
                school = view.school.key
                pupils = await (view.rosters.at(conn, school, stamp) if school == guess.school.key
                                else view.rosters.get(conn, school))
                then = await _step(view, conn, channel, user_id, stored, text, pupils)
    except STORE_ERRORS:
        log.exception("could not take the message of %s on %s", user_id, channel)
        return [messages.unavailable(app, user_id)]
    return then if isinstance(then, list) else await then()


async def _step(app: App, conn: AsyncConnection, channel: str, user_id: str, stored: Draft | Reply | None, text: str,
                pupils: tuple[Pupil, ...]) -> list[Reply] | Then:
    """One message's step on the draft, written on `conn`; or what is left to do once its transaction is over."""
    now = app.now()
    before: list[Reply] = []
    if isinstance(stored, Reply):
        before, stored = [stored], None
    elif stored is not None and is_expired(stored, now):
        before, stored = [expired()], None
    if stored is None:
        schools = app.schools_of(user_id)
        if len(schools) > 1:
            return partial(_ask_school, app, channel, user_id, schools, now, before)
        # Whatever they typed starts a report. It answers the first question only if it names
        # one of its options ("5", "Pupil disclosure"); "hi" is not taken for an answer.
        turn = _start(app, now)
        first = turn.replies[-1].choices
        chosen = match_choice(text, first)
        if chosen is not None and chosen.id not in set(Command):
            turn = handle(turn.draft, text, now=now, today=app.today(), colleagues=app.colleagues(user_id),
                          pupils=pupils, anonymous_ok=app.relay is not None)
        # A new report replaces an expired draft in its row: that draft's screenshots go with it.
        await _write(conn, channel, user_id, turn.draft, forget_screenshots=True)
        return [*before, *turn.replies]
    turn = handle(stored, text, now=now, today=app.today(), colleagues=app.colleagues(user_id), pupils=pupils,
                  anonymous_ok=app.relay is not None)
    if isinstance(turn.outcome, Cancelled):
        return partial(_forget, app, channel, user_id, turn.replies)
    if isinstance(turn.outcome, Submitted):
        return partial(lifecycle.submit, app, reporter_id=user_id, channel=channel, report=turn.outcome.report,
                       anonymous=turn.outcome.anonymous, ends_draft=True)
    # A draft that stops counting screenshots (Start again, a new category, a possibly indecent image) keeps none.
    dropped = stored.evidence.count > 0 and turn.draft.evidence.count == 0
    await _write(conn, channel, user_id, turn.draft, forget_screenshots=dropped)
    return turn.replies


async def _readable(conn: AsyncConnection | AsyncSession, channel: str, user_id: str,
                    state: dict[str, Any] | None) -> Draft | Reply | None:
    """The stored draft; None if there is none; a Reply if it could not be read (and was discarded)."""
    if state is None:
        return None
    try:
        return Draft.from_dict(state)
    except DraftError:
        log.warning("discarding an unreadable draft of %s on %s", user_id, channel)
        await delete_draft(conn, channel=channel, user_id=user_id)
        return UNREADABLE


async def _write(conn: AsyncConnection, channel: str, user_id: str, draft: Draft, *, forget_screenshots: bool) -> None:
    await write_draft(conn, now=draft.updated_at, channel=channel, user_id=user_id, state=draft.to_dict())
    if forget_screenshots:
        await forget_draft_screenshots(conn, channel=channel, user_id=user_id)


async def begin(app: App, *, channel: str, user_id: str) -> list[Reply]:
    """Asked to report (a command or button): carry on an unfinished report, or start one."""
    try:
        stored = await _load(app, channel, user_id)
        app = _acting(app, user_id, stored)
        pupils = await roster(app)
    except STORE_ERRORS:
        log.exception("could not load the draft of %s on %s", user_id, channel)
        return [messages.unavailable(app, user_id)]
    if isinstance(stored, Draft) and not is_expired(stored, app.now()):
        carry_on = Reply("You have a report you haven't finished. Here is where you left off.", tone=Tone.DONE)
        if stored.step is StepId.SCHOOL:
            return [carry_on, _school_question(app, app.schools_of(user_id))]
        return [carry_on, *resume(stored, colleagues=app.colleagues(user_id), pupils=pupils,
                                          anonymous_ok=app.relay is not None)]
    before = [stored] if isinstance(stored, Reply) else [expired()] if stored is not None else []
    schools = app.schools_of(user_id)
    if len(schools) > 1:
        return await _ask_school(app, channel, user_id, schools, app.now(), before)
    turn = _start(app, app.now())
    return await _save(app, channel, user_id, turn.draft, [*before, *turn.replies], forget_screenshots=True)


async def has_draft(app: App, *, channel: str, user_id: str) -> bool:
    """Whether this person has an unfinished report on this channel."""
    async with app.sessions() as session:
        return await load_draft(session, channel=channel, user_id=user_id) is not None


@dataclass(frozen=True)
class Nudge:
    """A message the bot sends unprompted about someone's draft: a reminder, or that it expired."""

    channel: str
    user_id: str
    reply: Reply


async def sweep(app: App, channel: str | None = None, user_id: str | None = None) -> list[Nudge]:
    """Remind each reporter idle for half an hour once, and discard drafts idle for a day.

    The reminder is recorded in the draft in the same transaction, and rows another
    server is sweeping are skipped, so nobody is reminded twice.
    """
    now = app.now()
    nudges = []
    query = select(StoredDraft.channel, StoredDraft.user_id, StoredDraft.state, StoredDraft.updated_at)
    # A request's form (bot.cases.requests) is kept beside a report's draft, under its own channel key.
    query = query.where(StoredDraft.channel.not_like("%+request"))
    if channel is not None:
        query = query.where(StoredDraft.channel == channel)
    if user_id is not None:
        query = query.where(StoredDraft.user_id == user_id)
    async with app.sessions.begin() as session:
        for row_channel, row_user, state, updated_at in (await session.execute(query.with_for_update(skip_locked=True))).all():
            try:
                draft = Draft.from_dict(state)
            except DraftError:
                draft = None
            if draft is None or is_expired(draft, now):
                await delete_draft(session, channel=row_channel, user_id=row_user)
                nudges.append(Nudge(row_channel, row_user, UNREADABLE if draft is None else expired()))
            elif needs_reminder(draft, now):
                await save_draft(session, now=updated_at, channel=row_channel, user_id=row_user,
                                 state=mark_reminded(draft, now).to_dict())
                nudges.append(Nudge(row_channel, row_user, reminder()))
    return nudges


async def _load(app: App, channel: str, user_id: str) -> Draft | Reply | None:
    """The reporter's draft; None if they have none; a Reply if it could not be read (and was discarded)."""
    async with app.sessions.begin() as session:
        return await _readable(session, channel, user_id, await load_draft(session, channel=channel, user_id=user_id))


async def roster(app: App) -> tuple[Pupil, ...]:
    """The school's pupil roster for the dialog (empty until one is imported: names are then typed)."""
    async with app.sessions() as session:
        return await app.rosters.get(session, app.school.key)


def acting(app: App, user_id: str, draft: Draft | None) -> App:
    """The school's view a reporter's draft is under: the school chosen, else the only school they work at."""
    if draft is not None and draft.school is not None:
        return app.at(draft.school)
    return app.for_person(user_id)


def _acting(app: App, user_id: str, stored: Draft | Reply | None) -> App:
    return acting(app, user_id, stored if isinstance(stored, Draft) else None)


def _start(app: App, now: datetime) -> Turn:
    """A new report at its first question, for the school this view acts for (in a trust)."""
    turn = start(now)
    if app.trust.alone:
        return turn
    return replace(turn, draft=replace(turn.draft, school=app.school.key))


def _school_choices(schools: tuple[School, ...]) -> tuple[Choice, ...]:
    return tuple(Choice(school.key, school.name) for school in schools)


def _school_question(app: App, schools: tuple[School, ...]) -> Reply:
    """Which school: asked first of someone who works at more than one (or of the trust's own people)."""
    return Reply(f"Which school of {app.trust.name} is this report for?", tone=Tone.QUESTION,
                 choices=(*_school_choices(schools), CANCEL), field=StepId.SCHOOL.value)


async def _ask_school(app: App, channel: str, user_id: str, schools: tuple[School, ...], now: datetime,
                      before: list[Reply]) -> list[Reply]:
    # A person at two schools answers to each school's policy: the report is routed under the one they choose.
    draft = replace(Draft.new(now), step=StepId.SCHOOL)
    return await _save(app, channel, user_id, draft, [*before, _school_question(app, schools)],
                       forget_screenshots=True)


async def _school_chosen(app: App, channel: str, user_id: str, draft: Draft, text: str) -> list[Reply]:
    """The answer to "Which school?": the report starts there, at its first question."""
    schools = app.schools_of(user_id)
    offered = (*_school_choices(schools), CANCEL)
    chosen = match_choice(text, offered) or loose_match(text, _school_choices(schools))
    if chosen is None and " ".join(text.split()).casefold() in ("cancel", "stop"):
        chosen = CANCEL
    if chosen == CANCEL:
        return await _forget(app, channel, user_id, [cancelled()])
    school = next((s for s in schools if chosen is not None and s.key == chosen.id), None)
    if school is None:
        return [error(f"{' '.join(text.split())[:40]!r} isn't one of your schools. Please choose one of them."),
                _school_question(app, schools)]
    view = app.for_school(school)
    turn = _start(view, app.now())
    said = Reply(f"This report is for {school.name}.", tone=Tone.DONE)
    return await _save(view, channel, user_id, turn.draft, [said, *turn.replies])


async def _save(app: App, channel: str, user_id: str, draft: Draft, replies: list[Reply], *,
                forget_screenshots: bool = False) -> list[Reply]:
    try:
        async with app.sessions.begin() as session:
            await save_draft(session, now=draft.updated_at, channel=channel, user_id=user_id, state=draft.to_dict())
            if forget_screenshots:
                await forget_draft_screenshots(session, channel=channel, user_id=user_id)
    except STORE_ERRORS:
        log.exception("could not save the draft of %s on %s", user_id, channel)
        return [messages.unavailable(app, user_id)]
    return replies


async def _forget(app: App, channel: str, user_id: str, replies: list[Reply]) -> list[Reply]:
    try:
        async with app.sessions.begin() as session:
            await delete_draft(session, channel=channel, user_id=user_id)
    except STORE_ERRORS:
        log.exception("could not delete the draft of %s on %s", user_id, channel)
        return [messages.unavailable(app, user_id)]
    return replies
