"""A message the platform says can never be delivered is raised to the DSL, never dropped quietly.

The DSL (else a deputy) hears which message, for which report, to whom and why, so someone
makes sure the person knows by other means. Names are shown only to a reader entitled to see
the report (bot.cases.access: it was routed or escalated to them); the person it is about is never told.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cases import preview
from bot.cases.access import Action, may
from bot.app import CONSOLE, SLACK, TEAMS, App
from dialogs import Reply, Tone
from routing.vocabulary import Role
from storage.sealed_reporters import is_handle
from storage.alerts import queue_alert
from storage.models import AlertDelivery, DigestDelivery, NoticeKind, Recipient, Report

log = logging.getLogger(__name__)

WHAT = {
    NoticeKind.ALERT.value: "the alert",
    NoticeKind.REMINDER.value: "a reminder",
    NoticeKind.LADO.value: "the LADO reminder",
    NoticeKind.ACKNOWLEDGED.value: "the news that it was acknowledged",
    NoticeKind.CLOSED.value: "the news that it was closed",
    NoticeKind.RECEIPT.value: "the confirmation that it was received",
    NoticeKind.QUESTION.value: "a question for the person who reported it",
    NoticeKind.ANSWER.value: "the reporter's answer to a question",
    NoticeKind.ADDITION.value: "what the reporter added to it",
}
PLATFORMS = {SLACK: "Slack", TEAMS: "Teams", CONSOLE: "the console"}
# Who is told, in order: the first role with someone who may be told.
TOLD = (Role.DSL, Role.DEPUTY_DSL)


async def raise_to_dsl(
    app: App, session: AsyncSession, *, report: Report | None, failed: AlertDelivery | DigestDelivery, error: str,
) -> int:
    """Queue a notice to the DSL (else the deputies) that `failed` was given up on; how many were queued.

    Runs in the transaction that gave the message up, so the DSL is told exactly when it is
    recorded as undeliverable. Neither the person it failed to reach (their channel does not
    work) nor the person the report is about is told.
    """
    kept_out = {failed.person_id, report.subject_person if report is not None else None}
    detail: dict[str, Any] = {
        "notice": failed.kind if isinstance(failed, AlertDelivery) else "digest",
        "person": failed.person_id, "channel": failed.channel, "error": error[:200],
    }
    if isinstance(failed, DigestDelivery):
        detail["week"] = failed.week
        detail["school"] = failed.school
    # The school's own DSL hears of it: the report's school, or the school whose digest it was.
    app = app.at(report.school if report is not None else failed.school if isinstance(failed, DigestDelivery)
                 else None)
    queued = 0
    for role in TOLD:
        for person in app.school.holders(role):
            channel = app.channel_for(person.id)
            if person.id in kept_out or channel is None:
                continue
            # Alerts and digests are numbered apart; a digest has no report, so its notices never meet an alert's.
            await queue_alert(session, now=app.now(), report=report, person_id=person.id, channel=channel,
                              kind=NoticeKind.UNDELIVERED, round=failed.id, detail=detail)
            queued += 1
        if queued:
            return queued
    log.error("nobody could be told that a %s to %s can never be delivered", detail["notice"], failed.person_id)
    return 0


def message(app: App, detail: dict[str, Any], report: Report | None, recipients: Sequence[Recipient],
            reader_id: str) -> Reply:
    """The notice, as the DSL reads it: what, for which report, to whom, on which platform, and why."""
    notice = str(detail.get("notice", ""))
    platform = PLATFORMS.get(str(detail.get("channel", "")), str(detail.get("channel", "")))
    if report is None:
        what = f"the weekly digest for week {detail.get('week', '?')}"
    else:
        what = f"{WHAT.get(notice, 'a message')} for report {report.reference}"
    text = (f"Safeguard could not deliver {what} to {_who(app, detail, report, recipients, reader_id)} on "
            f"{platform}: {detail.get('error', 'the platform refused it')}. It will not try again. Please make sure "
            "they know by other means, and ask your Safeguard administrator to check their chat account.")
    return Reply(text, tone=Tone.WARNING, preview=preview.undelivered(report.reference if report is not None else None))


def _who(app: App, detail: dict[str, Any], report: Report | None, recipients: Sequence[Recipient], reader_id: str) -> str:
    person_id = str(detail.get("person", ""))
    if report is None:
        person = app.person(person_id)
        roles = ", ".join(app.role_name(role) for role in person.roles) if person is not None else ""
        return f"{app.name(person_id)} ({roles})" if roles else app.name(person_id)
    entitled = may(reader_id, Action.VIEW, report, recipients)
    role = next((r.role for r in recipients if r.person_id == person_id), None)
    if role is None and is_handle(person_id):
        return "its reporter, who sent it without their name"  # never unsealed for anyone (storage/sealed_reporters.py)
    if role is None:
        label = "its reporter" if person_id == report.reporter else "a member of staff"
    else:
        label = f"the {app.role_name(role)}"
    return f"{app.name(person_id)} ({label})" if entitled else label
