"""Who may see or act on a report, and who may export the log: decided here and nowhere else.

Only the people a report was routed to, and those its escalation ladder has reached, see or act
on it. Being told of it lets a person view it and add a note; acknowledging and closing it (and
recording the LADO consultation) are for those who answer for it: its owner, each rung it has
escalated to, and the DSL when it reached her. Nobody sees or acts on a report about themselves,
save that whoever self-refers follows their own report's progress, as any reporter does.

| party                                   | view, note | acknowledge, close, LADO | record action | reassign | reopen | progress | export it | export the whole log |
|-----------------------------------------|------------|--------------------------|---------------|----------|--------|----------|-----------|----------------------|
| its owner                               | yes        | yes                      | yes           | yes      | no     | yes      | yes       | if they are the DSL  |
| a ladder rung it has escalated to       | yes        | yes                      | yes           | no       | no     | yes      | yes       | if they are the DSL  |
| the DSL, when it was routed to her      | yes        | yes                      | no            | yes      | yes    | yes      | yes       | yes                  |
| a deputy DSL, when it reached them      | yes        | as the rows above        | as above      | as above | yes    | yes      | yes       | no                   |
| the online safety officer, when told    | yes        | no                       | yes           | no       | no     | yes      | yes       | no                   |
| anyone else only told of it             | yes        | no                       | no            | no       | no     | yes      | yes       | if they are the DSL  |
| a ladder rung not yet reached           | no         | no                       | no            | no       | no     | no       | no        | if they are the DSL  |
| the DSL, when it was not routed to her  | no         | no                       | no            | no       | no     | no       | no        | yes, without it      |
| its reporter, unless also a recipient   | no         | no                       | no            | no       | no     | yes      | no        | if they are the DSL  |
| the reporter of a self-referral         | no         | no                       | no            | no       | no     | yes      | no        | only without it      |
| the person it is about, whatever roles  | no         | no                       | no            | no       | no     | no       | no        | only without it      |
| anyone else                             | no         | no                       | no            | no       | no     | no       | no        | no                   |

Screenshots sent with a report go, on request, only to those who answer for it (the middle
column): the owner, a rung reached, the DSL when it reached her. Everyone only told reads the
report's words but is not sent its pictures, which may show a child.

Reassigning hands the case to someone else: its owner may (they carry it), and so may the DSL,
who leads on every case that reached her (KCSIE Part two). Reopening a closed case is a
safeguarding lead's decision: the DSL's, or a deputy's acting for her, where it reached them.

A child's history (every report naming a pupil: reference, date, category, owner role, state)
is for the DSL and the deputy DSLs alone, since they hold the school's child protection record
(KCSIE Annex C); it leaves out any report about its reader. Nobody else sees across reports.

"progress" is the reporter's own view of their report: its state, who owns it by role, and when
it was acknowledged or closed; never the notes, the details or who else did what. A member of
staff who self-refers ("something about myself", KCSIE 2024 Part four, section two) is both its
reporter and its subject: they keep the reporter's progress, so they know it was taken up, and
nothing more, whatever roles they hold, since the notes and the decision are about them. Being
the subject of any other report still gives nothing: progress is theirs only as its reporter. An export
never shows a report its reader may not view, so the DSL's whole log leaves out every report
not routed to her. `may` answers the chat actions, `may_export_report` and `may_export_log` the
others.

Approval requests (a blocked site to unblock, routing.requests) are not reports: `may_request`
decides them. Only the requester and the people it was routed to see one; only the person a
step waits on acts on it, and nobody is ever routed their own request.

| party                                   | view it | pass on, approve, refuse | record it done (the site unblocked) |
|-----------------------------------------|---------|--------------------------|-------------------------------------|
| the approver it waits on now            | yes     | yes                      | no                                  |
| an approver of an earlier step          | yes     | no                       | no                                  |
| the officer asked to carry it out       | yes     | no                       | yes, once, after approval           |
| its requester (never its approver)      | yes     | no                       | no                                  |
| anyone else, whatever their roles       | no      | no                       | no                                  |

Each refusal is logged by whoever asked: bot/cases/lifecycle.py (and bot/channels/teams/invoke.py's
card refresh, through it) for the chat actions, bot/cases/log_export.py for `safeguard log export`.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from routing.school import Person
from routing.vocabulary import ABOUT_THE_REPORTER, SUBJECT_ROLES, Role, Subject
from storage.models import ApprovalRequest, Recipient, RecipientKind, Report, RequestStatus

# KCSIE 2024 Annex C: the DSL keeps the school's child protection files; St Leonard's §2: the DSL
# maintains the log of abuse relating to the school. (BPET §2 gives that log to its Head of
# Marketing and Communications, but it is a log of comments on the school's accounts, not of
# safeguarding reports, so that role gets no part of this one.) Deputies act for the DSL when a
# report reaches them, but the lead responsibility, and so the whole record, stays with the DSL.
# At Mersham the headteacher is the DSL and so oversees the log through that role.
OVERSEERS = frozenset({Role.DSL.value})


class Action(StrEnum):
    """What a person can do to a report."""

    VIEW = "view"
    PROGRESS = "progress"  # the reporter's view of how their report is getting on (see the table above)
    ACKNOWLEDGE = "acknowledge"
    NOTE = "note"
    RECORD_ACTION = "record_action"
    CLOSE = "close"
    LADO = "lado"  # record that the LADO was consulted about an allegation
    EXPORT = "export"  # `safeguard log export --report`: the report's events, on this person's authority
    REASSIGN = "reassign"  # hand the report to another owner (bot/cases/handover.py says to whom it may go)
    REOPEN = "reopen"  # open a closed report again
    SCREENSHOTS = "screenshots"  # the pictures sent with it, into this person's own chat (bot/cases/evidence.py)


# Being told of a report lets a person read it and add what they know to it.
TOLD = frozenset({Action.VIEW, Action.PROGRESS, Action.NOTE, Action.EXPORT})
# Those who answer for it (its owner, each rung reached, the DSL when it reached her) also
# acknowledge and close it: acknowledging stops the owner's clock, so only someone who carries
# the case may (KCSIE Part two: the DSL takes lead responsibility for child protection).
# Screenshots are theirs alone, not everyone told: a picture may show a child, and a reader only
# told has the words of the report, which is what telling them is for (UK GDPR Art. 5(1)(c),
# data minimisation; the DSL decides who else needs to see the evidence).
ANSWERING = TOLD | {Action.ACKNOWLEDGE, Action.CLOSE, Action.LADO, Action.SCREENSHOTS}
# Whoever self-refers is told how it is getting on, never what was noted or decided about them.
SELF_REFERRER = frozenset({Action.PROGRESS})
# St Leonard's app. B: the action taken on an inappropriate-content report is "To be completed
# by online safety officer"; whoever carries the case may record what they did too.
RECORDS_ACTION = frozenset({Role.ONLINE_SAFETY_OFFICER.value})
# Who leads on safeguarding (KCSIE Part two): they may reopen a closed case that reached them.
SAFEGUARDING_LEADS = frozenset({Role.DSL.value, Role.DEPUTY_DSL.value})


def allowed(person_id: str, report: Report, recipients: Iterable[Recipient]) -> frozenset[Action]:
    """Everything `person_id` may do to `report` (see the table above); empty for the person it is about.

    The person a report is about never may, checked by person whatever roles they hold, even
    should a stale config have routed it to them. A rung of the ladder not yet reached has not
    been told, so its holder may not. Being the DSL counts where the report reached her as the
    DSL (the role on her row). The reporter follows its progress, never what was done (St
    Leonard's §8 hands the case to the headteacher or DSL), unless it was also routed to them.
    """
    if person_id == report.subject_person:
        # A self-referral is about its reporter: its progress, as its reporter; never the case.
        return SELF_REFERRER if is_self_referral(person_id, report) else frozenset()
    rights: set[Action] = {Action.PROGRESS} if person_id == report.reporter else set()
    for row in recipients:
        if row.person_id != person_id:
            continue
        if row.kind == RecipientKind.ESCALATION.value and row.escalated_at is None:
            continue  # a rung not reached yet
        carries = row.kind != RecipientKind.INFORMED.value  # the owner, or a rung reached
        rights |= ANSWERING if carries or row.role == Role.DSL.value else TOLD
        if carries or row.role in RECORDS_ACTION:
            rights.add(Action.RECORD_ACTION)
        if row.kind == RecipientKind.OWNER.value or row.role == Role.DSL.value:
            rights.add(Action.REASSIGN)
        if row.role in SAFEGUARDING_LEADS:
            rights.add(Action.REOPEN)
    return frozenset(rights)


def is_self_referral(person_id: str, report: Report) -> bool:
    """Whether `report` is `person_id`'s self-referral: a report about its reporter, made as one."""
    return (report.category in ABOUT_THE_REPORTER and person_id == report.reporter
            and person_id == report.subject_person)


def may(person_id: str, action: Action, report: Report, recipients: Iterable[Recipient]) -> bool:
    """Whether `person_id` may do `action` to `report` (see `allowed`)."""
    return action in allowed(person_id, report, recipients)


def oversees(person: Person) -> bool:
    """Whether `person` holds a role entitled to the whole safeguarding record (see OVERSEERS)."""
    return bool(OVERSEERS & set(person.roles))


def is_about(person: Person, report: Report) -> bool:
    """Whether `report` is about `person` (nobody sees a report about themselves), judged as routing judged it.

    A report naming its subject is about that person alone. One that names only a role
    ("the headteacher") is about everyone who now holds that role: if the role has
    changed hands since, leaving the new holder out errs on the side of keeping it from them.
    """
    if report.subject_person is not None:
        return report.subject_person == person.id
    roles = SUBJECT_ROLES.get(Subject(report.subject), frozenset())
    return bool(roles & set(person.roles))


def may_see(person: Person, report: Report, recipients: Iterable[Recipient]) -> bool:
    """Whether `person` may view `report`, judging "about them" by their roles as well as by name."""
    return not is_about(person, report) and may(person.id, Action.VIEW, report, recipients)


# KCSIE Annex C: the DSL and her deputies see a child's whole record, to spot a pattern no one report shows.
CHILD_HISTORY = frozenset({Role.DSL.value, Role.DEPUTY_DSL.value})


def sees_child_history(person: Person) -> bool:
    """Whether `person` may see across reports about a child (the DSL and deputy DSLs)."""
    return bool(CHILD_HISTORY & set(person.roles))


def in_child_history(person: Person, report: Report) -> bool:
    """Whether a child's history shown to `person` lists `report`: every report, but one about them."""
    return sees_child_history(person) and not is_about(person, report)


def may_export_report(person: Person, report: Report | None, recipients: Iterable[Recipient]) -> bool:
    """Whether `person`'s authority covers exporting one report's events (`report` None: no such report).

    An export never shows a report its reader may not view: whoever may view it may export
    it, nobody else, the DSL included. A reference with no report is refused alike, so
    that nobody can tell from the answer whether a report exists.
    """
    return report is not None and may_see(person, report, recipients)


def may_export_log(person: Person) -> bool:
    """Whether `person`'s authority covers exporting the whole log; the reports they may not view are then left out."""
    return oversees(person)


class RequestAction(StrEnum):
    """What a person can do to an approval request."""

    VIEW = "view"
    DECIDE = "decide"  # pass on, approve or refuse the step it waits on
    DONE = "done"  # record that the approved request was carried out (the site unblocked)


def may_request(person_id: str, action: RequestAction, request: ApprovalRequest) -> bool:
    """Whether `person_id` may take `action` on `request` (the table above)."""
    routed = person_id in (request.approvers or [])
    if action is RequestAction.VIEW:
        return routed or person_id == request.requester
    waits_on_them = request.approver == person_id and person_id != request.requester
    if action is RequestAction.DECIDE:
        return waits_on_them and request.status == RequestStatus.OPEN.value
    return (request.approver == person_id and request.status == RequestStatus.APPROVED.value
            and request.done_at is None)
