"""What approval requests say: to the requester, to each approver, and on a locked phone.

A locked phone shows the reference and what is asked, never the address or anyone's words.
"""

from __future__ import annotations

from bot.app import App
from bot.cases import preview
from bot.cases.messages import ReportButton
from dataclasses import replace

from dialogs import InputKind, Reply, Tone
from routing.requests import RequestKind, StepKind
from storage.models import ApprovalRequest

VERBS = {"pass": "pass on", "approve": "approve", "refuse": "refuse", "done": "record as done", "view": "view"}
# What an approver can press on a request's notice in Slack and Teams, each the verb `requests.act` takes.
PASS_ON = ReportButton("request_pass", "Pass on")
APPROVE = ReportButton("request_approve", "Approve")
REFUSE = ReportButton("request_refuse", "Refuse")
RECORD_DONE = ReportButton("request_done", "Record done")
BUTTON_VERBS = {PASS_ON.action: "pass", APPROVE.action: "approve", REFUSE.action: "refuse", RECORD_DONE.action: "done"}
# Approve and Refuse ask for reasons first (the form's Authoriser box asks for them).
WITH_REASONS = frozenset({APPROVE.action, REFUSE.action})


def not_in_policy(app: App, title: str) -> Reply:
    """The one line a school without the procedure gets."""
    return Reply(f"{title}s are not part of {app.school.policy.name}: ask your headteacher how to go about it.",
                 tone=Tone.ERROR)


def in_form(replies: list[Reply]) -> list[Reply]:
    """A request form's replies, previewed as a request's (the report dialog's own words would say "your report").

    Fixed words only: a locked phone never shows an answer, such as the address asked for.
    """
    if not replies or any(r.preview is not None for r in replies):
        return replies
    last = replies[-1]
    what = ("please check your request before it is sent" if last.input is InputKind.CONFIRM else
            "a question about your request" if last.field is not None or last.choices else "an update on your request")
    return [replace(replies[0], preview=preview.line(what)), *replies[1:]]


def sent(app: App, request: ApprovalRequest, kind: RequestKind) -> Reply:
    """The requester's answer once it is stored: its reference, who has it, and by when."""
    return Reply(f"Sent as {request.reference}. It is with the {_role(app, request.approver_role)} "
                 f"({app.name(request.approver or '')}), to act on by {app.local(request.due_at or request.created_at)}. "
                 f"You will hear the outcome here.", tone=Tone.DONE)


def body(app: App, request: ApprovalRequest, kind: RequestKind) -> str:
    """The request as its approvers read it: who asked, the form, and where it is."""
    who = app.person(request.requester)
    roles = ", ".join(app.role_name(r) for r in who.roles) if who is not None and who.roles else "member of staff"
    lines = [f"{kind.title} {request.reference}", f"Requested by: {app.name(request.requester)} ({roles}), "
             f"{app.local(request.created_at)}"]
    lines += [f"{f.label}: {f.shown(str(request.answers[f.id]))}" for f in kind.fields if f.id in request.answers]
    return "\n".join(lines)


def to_act(app: App, request: ApprovalRequest, kind: RequestKind, *, reminder: bool = False,
           chat: bool = False) -> Reply:
    """To the approver a step waits on: the form, and what they can do (in a chat app: its buttons)."""
    step = kind.steps[request.step]
    ref = request.reference
    if chat and step.kind is StepKind.ENDORSE:
        ask = (f"Do you approve {step.approves}? Press Approve to approve that part and pass it on for final "
               "approval, or Refuse (either asks for your reasons).")
    elif chat:
        ask = ("Review it: press Pass on to pass it on for approval, or Refuse (you are asked for your reasons)."
               if step.kind is StepKind.REVIEW else "Decide it: press Approve or Refuse (you are asked for your reasons).")
    elif step.kind is StepKind.REVIEW:
        ask = f"Review it: /pass {ref} to pass it on for approval, or /refuse {ref} REASONS."
    elif step.kind is StepKind.ENDORSE:
        ask = (f"Do you approve {step.approves}? /approve {ref} REASONS approves that part and passes it on "
               f"for final approval, or /refuse {ref} REASONS.")
    else:
        ask = f"Decide it: /approve {ref} REASONS, or /refuse {ref} REASONS."
    lead = "Reminder: still waiting for you. " if reminder else ""
    instead = (f"\nIt comes to you as {_role(app, request.approver_role)} because the requester is the "
               f"{_role(app, step.role)}: nobody approves their own request." if request.approver_role != step.role else "")
    return Reply(f"{lead}{body(app, request, kind)}{instead}\n{ask}", tone=Tone.QUESTION,
                 preview=f"{lead}{ref}: a {kind.title.lower()} for you to {'review' if step.kind is StepKind.REVIEW else 'decide'}")


def outcome(app: App, request: ApprovalRequest, kind: RequestKind, by_role: str) -> Reply:
    """To the requester: approved or refused, by whom (their role), and the reasons."""
    verdict = "approved" if request.status == "approved" else "refused"
    by = app.role_name(by_role)
    return Reply(f"Your {kind.title.lower()} {request.reference} was {verdict} by the {by}.\n"
                 f"Reasons: {request.reasons or ''}", tone=Tone.DONE,
                 preview=f"{request.reference}: your request was {verdict}")


def endorsed(app: App, request: ApprovalRequest, kind: RequestKind, by_role: str) -> Reply:
    """To the requester: a step approved its part, and who has it now."""
    part = next((s.approves for s in kind.steps if s.kind is StepKind.ENDORSE), "part of it")
    now = (f"now with the {_role(app, request.approver_role)} for final approval" if request.status == "open"
           else status(app, request, kind))
    reasons = f"\nReasons: {request.reasons}" if request.status == "open" and request.reasons else ""
    return Reply(f"Your {kind.title.lower()} {request.reference}: the {app.role_name(by_role)} approved {part}; "
                 f"{now}.{reasons}", tone=Tone.DONE, preview=f"{request.reference}: part of your request was approved")


def carry_out(app: App, request: ApprovalRequest, kind: RequestKind, *, chat: bool = False) -> Reply:
    """To the officer once approved: carry it out and record when."""
    record = "press Record done" if chat else f"type /unblocked {request.reference}"
    return Reply(f"{request.reference} was approved.\n{body(app, request, kind)}\n"
                 f"When {kind.done_label}, {record}.", tone=Tone.QUESTION,
                 preview=f"{request.reference}: approved, to carry out and record")


def buttons(request: ApprovalRequest, kind: RequestKind, person_id: str, what: str) -> tuple[ReportButton, ...]:
    """What `person_id` can press on a notice of this kind (`what`), as the request stands: none once it moved on.

    Only the person a step waits on acts on it; the buttons go once they have, so a notice
    shows no button that would be refused.
    """
    if request.approver != person_id:
        return ()
    if what in ("act", "reminder") and request.status == "open":
        return (PASS_ON, REFUSE) if kind.steps[request.step].kind is StepKind.REVIEW else (APPROVE, REFUSE)
    if what == "carry_out" and request.status == "approved" and request.done_at is None and kind.done_by is not None:
        return (RECORD_DONE,)
    return ()


def settled(app: App, request: ApprovalRequest, kind: RequestKind) -> Reply:
    """A notice once its reader has nothing left to press: the request, and where it is now."""
    return Reply(f"{body(app, request, kind)}\nNow: {status(app, request, kind)}", tone=Tone.DONE,
                 preview=preview.line("an update on a request", request.reference))


def status(app: App, request: ApprovalRequest, kind: RequestKind) -> str:
    """One line of where it is."""
    if request.status == "open":
        return f"waiting for the {_role(app, request.approver_role)} (step {request.step + 1} of {len(kind.steps)})"
    if request.status == "refused":
        return "refused"
    return f"approved; {kind.done_label} {app.local(request.done_at)}" if request.done_at else "approved; not yet carried out"


def _role(app: App, role: str | None) -> str:
    return app.role_name(role or "")

