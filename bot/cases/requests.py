"""Approval requests (routing.requests): asked for in a guided form, passed step to step, decided, carried out.

Each step goes to the person the school's preset names for it, never the requester; each
change is one conditional update of the row (storage.requests.move) with its event in the
same transaction, so a step happens once even with two servers or two presses at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import STORE_ERRORS, App
from bot.cases import request_words as words
from bot.cases.access import RequestAction, may_request
from bot.cases.messages import ReportButton
from dialogs import Reply, Tone
from dialogs.idle import EXPIRE_AFTER
from dialogs.request import answer, begin
from routing.engine import SCHOOL_HOURS, due_at
from routing.requests import NoApprover, RequestKind, StepKind, approver
from storage import requests as store
from storage.digests import text_digest
from storage.drafts import delete_draft, load_draft, purge_drafts, save_draft
from storage.log import EventKind, append_event, canonical
from storage.models import AlertDelivery, ApprovalRequest, DeliveryStatus, NoticeKind, RequestStatus

log = logging.getLogger(__name__)
BLOCKED_CONTENT = "blocked_content"
SOCIAL_MEDIA_SITE = "social_media_site"
# Each kind any policy sets out, by the command that starts it in every channel; a school whose
# policy has no such procedure still gets a one-line answer naming it.
COMMANDS = {"/unblock": BLOCKED_CONTENT, "/socialmedia": SOCIAL_MEDIA_SITE}
TITLES = {BLOCKED_CONTENT: "Blocked content access request", SOCIAL_MEDIA_SITE: "Social media site creation approval"}
DRAFT_SUFFIX = "+request"  # a request's form is kept as a draft of its own beside a report's
MAX_REASONS = 1000
DB_DOWN = Reply("Safeguard cannot reach its database just now: nothing was changed. Please try again.",
                tone=Tone.ERROR)


def kind_of(app: App, kind_id: str) -> RequestKind | None:
    """The kind as this school's policy sets it out, or None when the policy has no such procedure."""
    return app.school.policy.requests.get(kind_id)


async def start(app: App, *, channel: str, user_id: str, kind_id: str = BLOCKED_CONTENT) -> list[Reply]:
    """Begin the form (`/unblock`); one line where the school's policy has no such procedure."""
    app = app.for_person(user_id)
    kind = kind_of(app, kind_id)
    if kind is None:
        return [words.not_in_policy(app, TITLES.get(kind_id, kind_id))]
    turn = begin(kind, app.school.key)
    try:
        async with app.sessions.begin() as session:
            await save_draft(session, now=app.now(), channel=channel + DRAFT_SUFFIX, user_id=user_id, state=turn.state)
    except STORE_ERRORS:
        return [DB_DOWN]
    return turn.replies


async def message(app: App, *, channel: str, user_id: str, text: str) -> list[Reply] | None:
    """Take a typed answer for a request form under way; None when there is none."""
    form = await _form(app, channel, user_id)
    if form is None:
        return None
    app, state, kind = form
    if kind is None:
        await _drop(app, channel, user_id)
        return [words.not_in_policy(app, TITLES.get(str(state.get("kind")), "request"))]
    turn = answer(kind, state, text)
    if turn.cancelled:
        await _drop(app, channel, user_id)
        return turn.replies
    if turn.sent is None:
        async with app.sessions.begin() as session:
            await save_draft(session, now=app.now(), channel=channel + DRAFT_SUFFIX, user_id=user_id, state=turn.state)
        return turn.replies
    return [await submit(app, kind, channel=channel, user_id=user_id, answers=turn.sent)]


@dataclass(frozen=True)
class FormAt:
    """Where someone's request form is: the field asked now (None at the check-and-send summary), and all its fields."""

    asks: str | None
    fields: frozenset[str]


async def form_at(app: App, *, channel: str, user_id: str) -> FormAt | None:
    """Where this person's request form is, so a chat app can tell a button of the question asked now from an old one.

    None without a form under way (or when the database cannot say: `message` then answers for it).
    """
    form = await _form(app, channel, user_id)
    if form is None:
        return None
    app, state, kind = form
    if kind is None:
        return FormAt(None, frozenset())
    index = int(state.get("index", 0))
    return FormAt(kind.fields[index].id if index < len(kind.fields) else None, frozenset(f.id for f in kind.fields))


async def _form(app: App, channel: str, user_id: str) -> tuple[App, dict[str, Any], RequestKind | None] | None:
    """Someone's request form under way: the school's view it was started in, its state, and its kind (None when
    the policy no longer has it); None without a form, or when the database cannot say."""
    try:
        async with app.sessions() as session:
            state = await load_draft(session, channel=channel + DRAFT_SUFFIX, user_id=user_id)
    except STORE_ERRORS:
        return None
    if state is None:
        return None
    app = app.at(state.get("school")) if state.get("school") else app.for_person(user_id)
    return app, state, kind_of(app, str(state.get("kind")))


async def submit(app: App, kind: RequestKind, *, channel: str, user_id: str, answers: dict[str, str]) -> Reply:
    """Store the request, log it and queue its first approver's notice, in one transaction; the draft goes with it."""
    now = app.now()
    try:
        first = approver(app.school, kind.steps[0], user_id)
    except NoApprover:
        return Reply(f"Nobody in the school config can review this ({app.role_name(kind.steps[0].role)}): "
                     "your answers are kept; ask your IT admin to name one, then send it again.", tone=Tone.ERROR)
    try:
        async with app.sessions.begin() as session:
            request = await store.create(
                session, now=now, school=app.school.key, school_code=app.school.id, kind=kind.id, requester=user_id,
                prefix=kind.reference_prefix,
                answers=answers, channel=channel, approver=first.person.id, approver_role=first.role,
                due_at=due_at(app.school, SCHOOL_HOURS, now, kind.act_within_minutes),
            )
            await _event(session, app, request, user_id, EventKind.REQUEST_MADE, {
                "kind": kind.id, "answers_digest": text_digest(canonical(answers)), "to_role": first.role,
                "to": first.person.id, **({"instead_of": first.instead_of} if first.instead_of else {}),
            })
            _queue(app, session, request, first.person.id, "act")
            await delete_draft(session, channel=channel + DRAFT_SUFFIX, user_id=user_id)
    except STORE_ERRORS:
        log.exception("a %s request by %s could not be stored", kind.id, user_id)
        return DB_DOWN
    return words.sent(app, request, kind)


async def act(app: App, person_id: str, reference: str, verb: str, reasons: str = "") -> Reply:
    """Pass on, approve, refuse (with reasons), or record as done; one line back either way."""
    reasons = reasons.strip()
    if verb in ("approve", "refuse") and not reasons:
        return Reply(f"Please give your reasons: /{verb} {reference.strip().upper()[:30] or 'REF'} REASONS.", tone=Tone.ERROR)
    if len(reasons) > MAX_REASONS:
        return Reply(f"Please keep the reasons to {MAX_REASONS} characters.", tone=Tone.ERROR)
    try:
        async with app.sessions.begin() as session:
            request = await store.get(session, reference, lock=True)
            if request is None:
                return Reply(f"There is no request {reference.strip()[:30]!r}.", tone=Tone.ERROR)
            app = app.at(request.school)
            kind = kind_of(app, request.kind)
            needed = RequestAction.DONE if verb == "done" else RequestAction.DECIDE
            if kind is not None and not may_request(person_id, needed, request) and person_id in request.approvers:
                # Someone the request went to, pressing again (a double tap, an old notice): told where
                # it is now, and not logged as a refusal, which the log keeps for people not entitled.
                return Reply(f"Nothing changed for {request.reference}. Now: {words.status(app, request, kind)}.",
                             tone=Tone.ERROR)
            if kind is None or not may_request(person_id, needed, request):
                await _event(session, app, request, person_id, EventKind.REFUSED, {"action": verb})
                return Reply(f"You cannot {words.VERBS[verb]} {request.reference}.", tone=Tone.ERROR)
            reply = await _apply(app, session, request, kind, person_id, verb, reasons)
    except STORE_ERRORS:
        return DB_DOWN
    return reply


async def _apply(app: App, session: AsyncSession, request: ApprovalRequest, kind: RequestKind, person_id: str,
                 verb: str, reasons: str) -> Reply:
    now = app.now()
    ref = request.reference
    if verb == "done":
        await store.move(session, request, expected_step=request.step, expected_status=RequestStatus.APPROVED.value,
                         done_at=now, done_by=person_id)
        await _event(session, app, request, person_id, EventKind.REQUEST_DONE, {"kind": kind.id})
        return Reply(f"Recorded: for {ref}, {kind.done_label} at {app.local(now)}.", tone=Tone.DONE)
    step = kind.steps[request.step]
    role = request.approver_role or step.role
    # A review passes it on; an endorse step approves its part (appendix C: the aims, content and brand) and passes it on.
    endorsed = verb == "approve" and step.kind is StepKind.ENDORSE
    if (endorsed or (verb == "pass" and step.kind is StepKind.REVIEW)) and request.step + 1 < len(kind.steps):
        following = kind.steps[request.step + 1]
        try:
            nxt = approver(app.school, following, request.requester)
        except NoApprover:
            return Reply(f"Nobody in the school config can take the next step ({app.role_name(following.role)}).",
                         tone=Tone.ERROR)
        await store.move(session, request, expected_step=request.step, expected_status=RequestStatus.OPEN.value,
                         step=request.step + 1, approver=nxt.person.id, approver_role=nxt.role,
                         approvers=[*request.approvers, nxt.person.id], reminders=0,
                         due_at=due_at(app.school, SCHOOL_HOURS, now, kind.act_within_minutes),
                         **({"reasons": reasons} if endorsed else {}))
        await _event(session, app, request, person_id, EventKind.REQUEST_PASSED_ON, {
            "step": request.step, "by_role": role, "to_role": nxt.role, "to": nxt.person.id,
            **({"instead_of": nxt.instead_of} if nxt.instead_of else {}),
            **({"approved_part": True, "reasons_digest": text_digest(reasons)} if endorsed else {})})
        _queue(app, session, request, nxt.person.id, "act")
        if endorsed:
            # The requester hears that part is approved, and where it is now, with the reasons.
            _queue(app, session, request, request.requester, "endorsed", role)
            return Reply(f"Approved {step.approves}: {ref} is now with the {app.role_name(nxt.role)} "
                         f"({nxt.person.name}) for final approval.", tone=Tone.DONE)
        return Reply(f"Passed on: {ref} is with the {app.role_name(nxt.role)} ({nxt.person.name}).", tone=Tone.DONE)
    if verb == "approve" and step.kind is StepKind.APPROVE:
        doer = _doer(app, kind, request)
        await store.move(session, request, expected_step=request.step, expected_status=RequestStatus.OPEN.value,
                         status=RequestStatus.APPROVED.value, decided_at=now, decided_by=person_id, reasons=reasons,
                         due_at=None, approver=doer, approver_role=kind.done_by,
                         approvers=[*request.approvers, *([doer] if doer and doer not in request.approvers else [])])
        await _event(session, app, request, person_id, EventKind.REQUEST_APPROVED,
                     {"step": request.step, "by_role": role, "reasons_digest": text_digest(reasons)})
        _queue(app, session, request, request.requester, "outcome", role)
        if doer is not None:
            _queue(app, session, request, doer, "carry_out")
        return Reply(f"Approved: {ref}. The requester is told, with your reasons.", tone=Tone.DONE)
    if verb == "refuse":
        await store.move(session, request, expected_step=request.step, expected_status=RequestStatus.OPEN.value,
                         status=RequestStatus.REFUSED.value, decided_at=now, decided_by=person_id, reasons=reasons,
                         due_at=None, approver=None)
        await _event(session, app, request, person_id, EventKind.REQUEST_REFUSED,
                     {"step": request.step, "by_role": role, "reasons_digest": text_digest(reasons)})
        _queue(app, session, request, request.requester, "outcome", role)
        return Reply(f"Refused: {ref}. The requester is told, with your reasons.", tone=Tone.DONE)
    can = {StepKind.REVIEW: "pass it on or refuse it", StepKind.APPROVE: "approve or refuse it",
           StepKind.ENDORSE: f"approve {step.approves} (passing it on) or refuse it"}[step.kind]
    return Reply(f"{ref} is at a step where you {can}.", tone=Tone.ERROR)


def _doer(app: App, kind: RequestKind, request: ApprovalRequest) -> str | None:
    """Who carries out an approved request (the online safety officer unblocks the site)."""
    if kind.done_by is None:
        return None
    holders = app.school.holders(kind.done_by)
    return holders[0].id if holders else None


async def view(app: App, person_id: str, reference: str) -> Reply:
    """The request and where it is, for the requester and its approvers only."""
    try:
        async with app.sessions.begin() as session:
            request = await store.get(session, reference)
            if request is None:
                return Reply(f"There is no request {reference.strip()[:30]!r}.", tone=Tone.ERROR)
            app = app.at(request.school)
            kind = kind_of(app, request.kind)
            if kind is None or not may_request(person_id, RequestAction.VIEW, request):
                await _event(session, app, request, person_id, EventKind.REFUSED, {"action": "view"})
                return Reply(f"You cannot view {request.reference}.", tone=Tone.ERROR)
            return Reply(f"{words.body(app, request, kind)}\nNow: {words.status(app, request, kind)}", tone=Tone.SUMMARY)
    except STORE_ERRORS:
        return DB_DOWN


async def waiting(app: App, person_id: str) -> list[str]:
    """One line per request waiting on this person."""
    async with app.sessions() as session:
        found = await store.waiting_for(session, person_id)
    return [f"{r.reference}  {words.status(app.at(r.school), r, k)}"
            for r in found if (k := kind_of(app.at(r.school), r.kind)) is not None]


async def forget_idle_forms(session: AsyncSession, *, now: datetime) -> int:
    """Delete request forms untouched for a day, as a report's draft is (they may name people); how many."""
    return await purge_drafts(session, before=now - EXPIRE_AFTER, channel_suffix=DRAFT_SUFFIX)


async def remind_due(app: App) -> int:
    """Remind the approver of each step not acted on in time, once per period; how many were reminded."""
    reminded = 0
    async with app.sessions.begin() as session:
        for request in await store.due(session, app.now()):
            view_ = app.at(request.school)
            kind = kind_of(view_, request.kind)
            if kind is None or request.approver is None:
                continue
            now = view_.now()
            if await store.move(session, request, expected_step=request.step, expected_status=RequestStatus.OPEN.value,
                                reminders=request.reminders + 1,
                                due_at=due_at(view_.school, SCHOOL_HOURS, now, kind.act_within_minutes)):
                await _event(session, view_, request, "safeguard", EventKind.REQUEST_REMINDED,
                             {"step": request.step, "to_role": request.approver_role, "round": request.reminders})
                _queue(view_, session, request, request.approver, "reminder")
                reminded += 1
    return reminded


def _queue(app: App, session: AsyncSession, request: ApprovalRequest, person_id: str, what: str,
           by_role: str | None = None) -> None:
    """Queue news of the request for one person, where they can be reached (the requester where they asked)."""
    channel = app.channel_for(person_id, request.channel if person_id == request.requester else None)
    if channel is None:
        log.warning("%s: %s cannot be reached on any running channel", request.reference, person_id)
        return
    detail: dict[str, Any] = {"request": request.reference, "school": request.school, "what": what}
    if by_role:
        detail["role"] = by_role
    session.add(AlertDelivery(report_id=None, person_id=person_id, channel=channel, kind=NoticeKind.REQUEST.value,
                              round=0, status=DeliveryStatus.QUEUED.value, attempts=0, queued_at=app.now(),
                              detail=detail))


async def _event(session: AsyncSession, app: App, request: ApprovalRequest, actor: str, kind: EventKind,
                 data: dict[str, Any]) -> None:
    await append_event(session, now=app.now(), actor=actor, kind=kind, report_ref=request.reference, data=data)


async def _drop(app: App, channel: str, user_id: str) -> None:
    async with app.sessions.begin() as session:
        await delete_draft(session, channel=channel + DRAFT_SUFFIX, user_id=user_id)


def notice_reply(app: App, request: ApprovalRequest, detail: dict[str, Any], *, chat: bool = False) -> Reply:
    """What a queued request notice says, as the request stands when it is sent (`chat`: with buttons to press)."""
    kind = kind_of(app, request.kind)
    if kind is None:
        return Reply(f"{request.reference}: this request is no longer part of the school's policy.")
    what = detail.get("what")
    if what == "outcome":
        return words.outcome(app, request, kind, str(detail.get("role") or ""))
    if what == "endorsed":
        return words.endorsed(app, request, kind, str(detail.get("role") or ""))
    if what == "carry_out":
        return words.carry_out(app, request, kind, chat=chat)
    return words.to_act(app, request, kind, reminder=what == "reminder", chat=chat)


# The notices that carry buttons; news for the requester (the outcome) has none.
ACTIONABLE = ("act", "reminder", "carry_out")


def notice_now(app: App, request: ApprovalRequest, detail: dict[str, Any], person_id: str
               ) -> tuple[Reply, tuple[ReportButton, ...]]:
    """A notice in a chat app as its reader should see it now: with what they can press, or settled once nothing is left."""
    kind = kind_of(app, request.kind)
    what = str(detail.get("what") or "")
    if kind is None or what not in ACTIONABLE:
        return notice_reply(app, request, detail, chat=True), ()
    pressable = words.buttons(request, kind, person_id, what)
    if not pressable:
        return words.settled(app, request, kind), ()
    return notice_reply(app, request, detail, chat=True), pressable
