"""A reporter's conversation on any channel: the stored draft, one message at a time, until Send.

The draft is saved after every answer, so a restart (of the bot, or of the reporter's
phone) loses nothing; a draft left alone is reminded once and then discarded (dialogs.idle).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select

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
from storage.drafts import delete_draft, load_draft, save_draft
from storage.evidence import forget_draft_screenshots
from storage.models import Draft as StoredDraft

log = logging.getLogger(__name__)

UNREADABLE = Reply("Your unfinished report could not be read, so it was discarded. Nothing was sent.", tone=Tone.DONE)


async def message(app: App, *, channel: str, user_id: str, text: str) -> list[Reply]:
    """Take one message from a reporter: it starts a report, or answers the current question."""
    try:
        stored = await _load(app, channel, user_id)
        if isinstance(stored, Draft) and stored.step is StepId.SCHOOL and not is_expired(stored, app.now()):
            return await _school_chosen(app, channel, user_id, stored, text)
        app = _acting(app, user_id, stored)
        pupils = await roster(app)
    except STORE_ERRORS:
        log.exception("could not load the draft of %s on %s", user_id, channel)
        return [messages.unavailable(app, user_id)]
    now = app.now()
    before: list[Reply] = []
    if isinstance(stored, Reply):
        before, stored = [stored], None
    elif stored is not None and is_expired(stored, now):
        before, stored = [expired()], None
    if stored is None:
        schools = app.schools_of(user_id)
        if len(schools) > 1:
            return await _ask_school(app, channel, user_id, schools, now, before)
        # Whatever they typed starts a report. It answers the first question only if it names
        # one of its options ("5", "Pupil disclosure"); "hi" is not taken for an answer.
        turn = _start(app, now)
        first = turn.replies[-1].choices
        chosen = match_choice(text, first)
        if chosen is not None and chosen.id not in set(Command):
            turn = handle(turn.draft, text, now=now, today=app.today(), colleagues=app.colleagues(user_id),
                          pupils=pupils, anonymous_ok=app.relay is not None)
        # A new report replaces an expired draft in its row: that draft's screenshots go with it.
        return await _save(app, channel, user_id, turn.draft, [*before, *turn.replies], forget_screenshots=True)
    turn = handle(stored, text, now=now, today=app.today(), colleagues=app.colleagues(user_id), pupils=pupils,
                  anonymous_ok=app.relay is not None)
    if isinstance(turn.outcome, Cancelled):
        return await _forget(app, channel, user_id, turn.replies)
    if isinstance(turn.outcome, Submitted):
        return await lifecycle.submit(app, reporter_id=user_id, channel=channel, report=turn.outcome.report,
                                      anonymous=turn.outcome.anonymous)
    # A draft that stops counting screenshots (Start again, a new category, a possibly indecent image) keeps none.
    dropped = stored.evidence.count > 0 and turn.draft.evidence.count == 0
    return await _save(app, channel, user_id, turn.draft, turn.replies, forget_screenshots=dropped)


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
        state = await load_draft(session, channel=channel, user_id=user_id)
        if state is None:
            return None
        try:
            return Draft.from_dict(state)
        except DraftError:
            log.warning("discarding an unreadable draft of %s on %s", user_id, channel)
            await delete_draft(session, channel=channel, user_id=user_id)
            return UNREADABLE


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
