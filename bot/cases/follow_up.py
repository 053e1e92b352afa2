"""Two-way follow-up in chat: ask a report's reporter a question, the reporter answers, and adds to it later.

Everything goes through the outbox, as alerts do: the words are stored (encrypted, their
digest logged) in the same transaction as the notice that carries them, before anyone is
told "sent", and each notice is delivered at least once and shown once. The reporter is
reached exactly as news of their report reaches them (a notice for `report.reporter` on the
channel they reported from), and who is the reporter is asked of bot.cases.reporter alone.

Asking is for those who answer for the report (bot.cases.access), until it is closed. The
reporter may answer an open question even once the report is closed, and may add to their
report whether or not it is closed: adding reopens nothing, but whoever answers for it is told.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import STORE_ERRORS, App
from bot.cases import access, preview
from bot.cases.access import Action
from bot.cases.lifecycle import Result, erased, on_report, parse_reference
from bot.cases.reporter import is_reporter, reporter_address
from dialogs import Reply, Tone
from dialogs.prompts import error
from dialogs.validation import Invalid, clean_text
from storage import follow_ups
from storage import reports as store
from storage.alerts import queue_alert
from storage.log import EventKind, append_event
from storage.models import NoticeKind, Recipient, Report, ReportNote

log = logging.getLogger(__name__)

TEXT_LENGTH = 2000
UNREACHABLE = "Safeguard cannot reach its database just now, so nothing was sent. Please try again in a minute."


async def ask(app: App, person_id: str, reference_text: str, text: str) -> Result:
    """Put a question to the report's reporter, in their own chat with Safeguard."""
    async def act(app: App, session: AsyncSession, report: Report, recipients: list[Recipient]) -> Result:
        if report.closed_at is not None:
            return Result(error(f"{report.reference} is closed, so its reporter is not asked any more. "
                                "Reopen it first if it needs more done."))
        cleaned = clean_text(text, TEXT_LENGTH)
        if isinstance(cleaned, Invalid):
            return Result(error(f"Nothing was asked. {cleaned.reason}"))
        question = await follow_ups.ask(session, now=app.now(), report=report, author=person_id, text=cleaned)
        if not await _tell_reporter(app, session, report, question):
            return Result(Reply(f"Your question is kept on {report.reference}, but the person who reported it cannot "
                                "be reached in chat just now. Please ask them in person.", tone=Tone.WARNING),
                          changed=True)
        return Result(Reply(f"Your question was sent to the person who reported {report.reference}. Their answer "
                            "will come to you here, and shows in the report's history.", tone=Tone.DONE), changed=True)

    return await on_report(app, person_id, reference_text, Action.ASK, act)


async def answer(app: App, *, channel: str, user_id: str, person_id: str | None, reference_text: str, text: str,
                 question_id: int | None = None) -> Result:
    """The reporter's answer to a question about their report (`question_id`; None: the oldest unanswered).

    Anyone who is not the reporter, a question of another report, and a question already
    answered are refused alike, in one line, and the attempt logged.
    """
    reference = parse_reference(reference_text)
    if isinstance(reference, Invalid):
        return Result(error(reference.reason))
    cleaned = clean_text(text, TEXT_LENGTH)
    if isinstance(cleaned, Invalid):
        return Result(error(f"Your answer was not sent. {cleaned.reason}"))

    async def act(app: App, session: AsyncSession, report: Report) -> Result | None:
        if question_id is None:
            waiting = await follow_ups.unanswered(session, report)
            if not waiting:
                return Result(Reply(f"No question about {reference} is waiting for your answer.", tone=Tone.DONE))
            question: ReportNote | None = waiting[0]
        else:
            question = await follow_ups.question(session, report, question_id)
        answered = None if question is None else await follow_ups.answer(
            session, now=app.now(), report=report, question=question, author=report.reporter, text=cleaned)
        if answered is None:
            return None  # another report's question, or one answered already: refused below
        sent = await _tell_answerers(app, session, report, NoticeKind.ANSWER, answered)
        return Result(Reply(f"Thank you. Your answer about {reference}{sent}", tone=Tone.DONE), changed=True)

    return await _as_reporter(
        app, person_id=person_id, user_id=user_id, reference=reference, action=Action.ANSWER, act=act,
        question_id=question_id, failed="an answer about %s could not be stored",
        refusal="You can't answer that question: it was not asked of you, or it has been answered already.")


async def add(app: App, *, channel: str, user_id: str, person_id: str | None, reference_text: str,
              text: str) -> Result:
    """Something the reporter adds to their report later; whoever answers for it is told (a closed report stays closed)."""
    reference = parse_reference(reference_text)
    if isinstance(reference, Invalid):
        return Result(error(reference.reason))
    cleaned = clean_text(text, TEXT_LENGTH)
    if isinstance(cleaned, Invalid):
        return Result(error(f"Nothing was added to {reference}. {cleaned.reason}"))

    async def act(app: App, session: AsyncSession, report: Report) -> Result | None:
        added = await follow_ups.add(session, now=app.now(), report=report, author=report.reporter, text=cleaned)
        sent = await _tell_answerers(app, session, report, NoticeKind.ADDITION, added)
        closed = " The report is closed; what you added is kept with it." if report.closed_at else ""
        return Result(Reply(f"Thank you. What you added to {reference}{sent}{closed}", tone=Tone.DONE), changed=True)

    return await _as_reporter(
        app, person_id=person_id, user_id=user_id, reference=reference, action=Action.ADD, act=act,
        question_id=None, failed="an addition to %s could not be stored",
        refusal=f"You can't add to {reference}: only the person who reported it can.")


async def _as_reporter(
    app: App, *, person_id: str | None, user_id: str, reference: str, action: Action,
    act: Callable[[App, AsyncSession, Report], Awaitable[Result | None]], question_id: int | None, failed: str,
    refusal: str,
) -> Result:
    """Run `act` on a report if this person is its reporter (bot.cases.reporter) and may still write on it;
    otherwise refuse in one line and log the attempt: the reporters' door, as lifecycle.on_report is the handlers'."""
    report: Report | None = None
    mine = False
    try:
        async with app.sessions.begin() as session:
            report = await store.get_report(session, reference)
            mine = report is not None and person_id is not None and await is_reporter(app, session, report, person_id)
            if report is not None and access.reporter_may(action, report, reporter=mine):
                if report.erased_at is not None:  # once erased, not even its reporter writes on it again
                    return erased(reference)
                done = await act(app.at(report.school), session, report)
                if done is not None:
                    return done
    except STORE_ERRORS:
        log.exception(failed, reference)
        return Result(error(UNREACHABLE))
    return await _refuse(app, _actor(report, mine, person_id or user_id), action, reference, question_id, refusal)


def answerers(report: Report, recipients: Sequence[Recipient]) -> list[str]:
    """Those who answer for the report (bot.cases.access: may ask its reporter), once each, owners first."""
    return list(dict.fromkeys(r.person_id for r in recipients if access.may(r.person_id, Action.ASK, report, recipients)))


async def _tell_reporter(app: App, session: AsyncSession, report: Report, question: ReportNote) -> bool:
    """Queue the question for the reporter, the way all news of their report reaches them; whether it could be."""
    reporter = await reporter_address(app, session, report)
    if reporter is None:
        return False
    await queue_alert(session, now=app.now(), report=report, person_id=reporter.person, channel=reporter.channel,
                      kind=NoticeKind.QUESTION, round=question.id)
    return True


async def _tell_answerers(app: App, session: AsyncSession, report: Report, kind: NoticeKind, note: ReportNote) -> str:
    """Queue an answer or addition for everyone who answers for the report; how the reporter's thanks should end."""
    _, recipients = await store.get_routing(session, report)
    told = 0
    for person_id in answerers(report, recipients):
        channel = app.channel_for(person_id)
        if channel is None:
            log.warning("%s: %s cannot be reached on any running channel", report.reference, person_id)
            continue
        await queue_alert(session, now=app.now(), report=report, person_id=person_id, channel=channel, kind=kind,
                          round=note.id)
        told += 1
    if told:
        return " was sent to the people handling it."
    # Not routed yet, or nobody who answers for it can be reached in chat: kept, and the reporter told to go in person.
    return " is kept with the report, but nobody handling it can be reached in chat just now: please tell your DSL directly."


def _actor(report: Report | None, mine: bool, asker: str) -> str:
    """Who a refusal is logged under: the report's own reporter as it stores them (a handle, if sent
    without a name, so the log never ties them to it), anyone else as themselves."""
    return report.reporter if mine and report is not None else asker


async def _refuse(app: App, actor: str, action: Action, reference: str, question_id: int | None, said: str) -> Result:
    """Refuse an answer or addition in one line, after logging the attempt (as lifecycle.refuse does)."""
    data: dict[str, object] = {"action": action.value}
    if question_id is not None:
        data["question"] = question_id
    try:
        async with app.sessions.begin() as session:
            await append_event(session, now=app.now(), actor=actor, kind=EventKind.REFUSED, report_ref=reference,
                               data=data)
    except STORE_ERRORS:
        log.exception("could not log that %s was refused %s on %s", actor, action.value, reference)
    return Result(Reply(said, tone=Tone.ERROR, preview=preview.refused()))
