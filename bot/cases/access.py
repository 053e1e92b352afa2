"""Who may see or act on a report, and who may export the log: decided here and nowhere else.

Only the people a report was routed to, and those its escalation ladder has reached, see or act
on it. Being told of it lets a person view it and add a note; acknowledging and closing it (and
recording the LADO consultation) are for those who answer for it: its owner, each rung it has
escalated to, and the DSL when it reached her. Nobody sees or acts on a report about themselves,
save that whoever self-refers follows their own report's progress, as any reporter does.

| party                                   | view, note | acknowledge, close, LADO, ask the reporter | record action | reassign | reopen | progress, answer, add | export it | export the whole log | hold, release, hand on |
|-----------------------------------------|------------|--------------------------------------------|---------------|----------|--------|-----------------------|-----------|----------------------|------------------------|
| its owner                               | yes        | yes                                        | yes           | yes      | no     | progress              | yes       | if they are the DSL  | if DSL or headteacher  |
| a ladder rung it has escalated to       | yes        | yes                                        | yes           | no       | no     | progress              | yes       | if they are the DSL  | if DSL or headteacher  |
| the DSL, when it was routed to her      | yes        | yes                                        | no            | yes      | yes    | progress              | yes       | yes                  | yes                    |
| a deputy DSL, when it reached them      | yes        | as the rows above                          | as above      | as above | yes    | progress              | yes       | no                   | no                     |
| the online safety officer, when told    | yes        | no                                         | yes           | no       | no     | progress              | yes       | no                   | no                     |
| anyone else only told of it             | yes        | no                                         | no            | no       | no     | progress              | yes       | if they are the DSL  | if headteacher         |
| a ladder rung not yet reached           | no         | no                                         | no            | no       | no     | no                    | no        | if they are the DSL  | no                     |
| the DSL, when it was not routed to her  | no         | no                                         | no            | no       | no     | no                    | no        | yes, without it      | no                     |
| its reporter, unless also a recipient   | no         | no                                         | no            | no       | no     | yes                   | no        | if they are the DSL  | no                     |
| the reporter of a self-referral         | no         | no                                         | no            | no       | no     | yes                   | no        | only without it      | no                     |
| the person it is about, whatever roles  | no         | no                                         | no            | no       | no     | no                    | no        | only without it      | no                     |
| anyone else                             | no         | no                                         | no            | no       | no     | no                    | no        | no                   | no                     |

Screenshots sent with a report go, on request, only to those who answer for it (the middle
column): the owner, a rung reached, the DSL when it reached her. Everyone only told reads the
report's words but is not sent its pictures, which may show a child.

Reassigning hands the case to someone else: its owner may (they carry it), and so may the DSL,
who leads on every case that reached her (KCSIE Part two). Reopening a closed case is a
safeguarding lead's decision: the DSL's, or a deputy's acting for her, where it reached them.

Asking the reporter a question is for those who answer for the report, while it is open; the
reporter answers (an open question, even once the report is closed) and adds to their report
(closed or not: it reopens nothing, its owner is told). Who is its reporter is decided by
bot/cases/reporter.py alone (`is_reporter`), so that a report sent without the reporter's name
can keep them behind a sealed link; `reporter_may` then says what being its reporter allows.

A child's history (every report naming a pupil: reference, date, category, owner role, state)
is for the DSL and the deputy DSLs alone, since they hold the school's child protection record
(KCSIE Annex C); it leaves out any report about its reader. Nobody else sees across reports.

Records (`safeguard records`): a legal hold, its release and the record that a report was
handed on to a child protection file are for the DSL and the headteacher, on reports they may
view (KCSIE Part two gives both the school's safeguarding arrangements). Listing every report
about a member of staff, or made by them, for a subject access request is for the DSL alone
(she holds the school's safeguarding record, as for a child's history); it leaves out every
report she may not view, and says such reports are answered for by those they went to.

A report sent without its reporter's name stores a handle in place of the reporter; its reporter
is known again only by the report's sealed link (bot/cases/reporter.py), and has the same rights.

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
card refresh, through it) for the chat actions, bot/cases/log_export.py for `safeguard log export`,
bot/cases/report_export.py for a report handed on whole (`safeguard report export`, and Export in chat).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Protocol

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
    EXPORT = "export"  # `safeguard log export --report`, `safeguard report export`: the report, on this person's authority
    REASSIGN = "reassign"  # hand the report to another owner (bot/cases/handover.py says to whom it may go)
    REOPEN = "reopen"  # open a closed report again
    SCREENSHOTS = "screenshots"  # the pictures sent with it, into this person's own chat (bot/cases/evidence.py)
    ASK = "ask"  # put a question to the reporter (bot/cases/follow_up.py), while the report is open
    ANSWER = "answer"  # the reporter answers a question put to them
    ADD = "add"  # the reporter adds something to their report later


# Being told of a report lets a person read it and add what they know to it.
TOLD = frozenset({Action.VIEW, Action.PROGRESS, Action.NOTE, Action.EXPORT})
# Those who answer for it (its owner, each rung reached, the DSL when it reached her) also
# acknowledge and close it: acknowledging stops the owner's clock, so only someone who carries
# the case may (KCSIE Part two: the DSL takes lead responsibility for child protection).
# Screenshots are theirs alone, not everyone told: a picture may show a child, and a reader only
# told has the words of the report, which is what telling them is for (UK GDPR Art. 5(1)(c),
# data minimisation; the DSL decides who else needs to see the evidence).
# Asking the reporter is theirs too: the case is theirs to follow up, and a question from
# everyone only told would press the reporter from all sides (St Leonard's §8: the case is the
# headteacher's or the DSL's to handle).
ANSWERING = TOLD | {Action.ACKNOWLEDGE, Action.CLOSE, Action.LADO, Action.SCREENSHOTS, Action.ASK}
# What the reporter of a report may do to it (bot/cases/reporter.py says who that is).
REPORTER = frozenset({Action.PROGRESS, Action.ANSWER, Action.ADD})
# Whoever self-refers is told how it is getting on, never what was noted or decided about them.
SELF_REFERRER = frozenset({Action.PROGRESS})
# St Leonard's app. B: the action taken on an inappropriate-content report is "To be completed
# by online safety officer"; whoever carries the case may record what they did too.
RECORDS_ACTION = frozenset({Role.ONLINE_SAFETY_OFFICER.value})
# Who leads on safeguarding (KCSIE Part two): they may reopen a closed case that reached them.
SAFEGUARDING_LEADS = frozenset({Role.DSL.value, Role.DEPUTY_DSL.value})


def allowed(person_id: str, report: Report, recipients: Iterable[Recipient], *,
            reporter: bool | None = None) -> frozenset[Action]:
    """Everything `person_id` may do to `report` (see the table above); empty for the person it is about.

    The person a report is about never may, checked by person whatever roles they hold, even
    should a stale config have routed it to them. A rung of the ladder not yet reached has not
    been told, so its holder may not. Being the DSL counts where the report reached her as the
    DSL (the role on her row). The reporter follows its progress, never what was done (St
    Leonard's §8 hands the case to the headteacher or DSL), unless it was also routed to them.
    `reporter`: whether `person_id` sent it, where the caller knew them by a report's sealed link
    (one sent without a name stores a handle, not its reporter: bot/cases/reporter.py).
    """
    if person_id == report.subject_person:
        # A self-referral is about its reporter: its progress, as its reporter; never the case.
        return SELF_REFERRER if is_self_referral(person_id, report) else frozenset()
    sent_it = person_id == report.reporter if reporter is None else reporter
    rights: set[Action] = {Action.PROGRESS} if sent_it else set()
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


def may(person_id: str, action: Action, report: Report, recipients: Iterable[Recipient], *,
        reporter: bool | None = None) -> bool:
    """Whether `person_id` may do `action` to `report` (see `allowed`)."""
    return action in allowed(person_id, report, recipients, reporter=reporter)


def reporter_may(action: Action, report: Report, *, reporter: bool) -> bool:
    """Whether the report's reporter (`reporter`: bot.cases.reporter.is_reporter said so) may do `action` to it.

    Answering and adding hold after closing: a question asked stays answerable, and what a
    reporter remembers later still belongs with their report. Never for a report about them,
    save their own self-referral: the headteacher handling it may need to ask them, and what
    they remember later belongs with it (KCSIE Part four, section two).
    """
    if report.reporter == report.subject_person and report.category not in ABOUT_THE_REPORTER:
        return False
    return reporter and action in REPORTER


def oversees(person: Person) -> bool:
    """Whether `person` holds a role entitled to the whole safeguarding record (see OVERSEERS)."""
    return bool(OVERSEERS & set(person.roles))


class AboutWhom(Protocol):
    """What a report is about, as `is_about` judges it (a Report, or storage.pupils.EarlierReport)."""

    @property
    def subject(self) -> str: ...

    @property
    def subject_person(self) -> str | None: ...


def is_about(person: Person, report: AboutWhom) -> bool:
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


def in_child_history(person: Person, report: AboutWhom) -> bool:
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


# Who keeps the records (KCSIE Part two: the headteacher and the DSL answer for the school's
# safeguarding arrangements): a legal hold (an inquiry such as IICSA may ask that nothing be
# destroyed) or a hand-off changes how long a record is kept, so it is theirs to record.
RECORD_KEEPERS = frozenset({Role.DSL.value, Role.HEADTEACHER.value})
# What a refusal of these is logged as (not `Action`s: `may` answers a report's chat actions).
HOLD = "hold"  # place or lift a legal hold, or record a hand-off
SUBJECT_ACCESS = "subject_access"  # list every report about or made by a person


def may_hold(person: Person, report: Report, recipients: Iterable[Recipient]) -> bool:
    """Whether `person` may place or lift a legal hold on `report`, or record it handed on (see the table above)."""
    return bool(RECORD_KEEPERS & set(person.roles)) and may_see(person, report, recipients)


def may_list_reports_of(person: Person) -> bool:
    """Whether `person` may list a member of staff's reports for a subject access request: the DSL alone."""
    return oversees(person)


def in_subject_access(person: Person, report: Report, recipients: Iterable[Recipient]) -> bool:
    """Whether a subject access list made by `person` shows `report`: only those they may view."""
    return may_see(person, report, recipients)


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
