"""How the bot reaches a report's reporter, named or sent without their name, and knows them again.

Everything that tells a reporter something (the receipt, acknowledged, closed, and anything
later that asks them a question) goes through `reporter_address`. For a report sent without a
name the stored reporter is a handle; the chat address behind it is unsealed with the relay key
(storage/sealed_reporters.py) only here, only when needed, and never written back anywhere.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App
from dialogs import Choice
from dialogs.anonymity import SEND_WITHOUT_NAME, may_be_anonymous
from dialogs.prompts import CANCEL
from dialogs.summary import CHANGE, SUMMARY_CHOICES
from routing.vocabulary import Category, Subject
from storage.models import Report
from storage.sealed_reporters import Address, is_handle, unseal

log = logging.getLogger(__name__)

ANONYMOUS_LABEL = "sent without their name"
NOT_ANONYMOUS = ("Your report was NOT sent: sending without your name is not possible for it just now. "
                 "Choose Send to send it with your name, or Cancel.")


@dataclass(frozen=True)
class ReporterAddress:
    """Who to tell and where: `person` is what rows store (the reporter's id, or the report's handle);
    `chat_user` is the person id a channel sends to, held in memory only."""

    person: str
    channel: str
    chat_user: str


def is_anonymous(report: Report) -> bool:
    """Whether `report` was sent without its reporter's name."""
    return is_handle(report.reporter)


async def reporter_address(app: App, session: AsyncSession, report: Report) -> ReporterAddress | None:
    """Where `report`'s reporter is reached now; None if nowhere (left the config, or the relay key is not set)."""
    if not is_anonymous(report):
        channel = app.channel_for(report.reporter, report.channel)
        return None if channel is None else ReporterAddress(report.reporter, channel, report.reporter)
    found = await unseal(session, app.relay, report.reporter)
    if found is None:
        return None
    channel = app.channel_for(found.person_id, found.channel)
    return None if channel is None else ReporterAddress(report.reporter, channel, found.person_id)


async def chat_user_of(app: App, session: AsyncSession, person: str) -> str | None:
    """The person id a channel sends to for a stored recipient: itself, or the reporter behind a handle."""
    if not is_handle(person):
        return person
    found: Address | None = await unseal(session, app.relay, person)
    return None if found is None else found.person_id


async def is_reporter(app: App, session: AsyncSession, report: Report, person_id: str) -> bool:
    """Whether `person_id` sent `report`: by its stored reporter, or, sent without a name, by its sealed link."""
    if not is_anonymous(report):
        return report.reporter == person_id
    found = await unseal(session, app.relay, report.reporter)
    return found is not None and found.person_id == person_id


def reporter_label(app: App, report: Report) -> str:
    """The reporter as a report shows them: their name, or that it was sent without one."""
    return ANONYMOUS_LABEL if is_anonymous(report) else app.name(report.reporter)


def may_go_unnamed(app: App, category: Category, subject: Subject) -> bool:
    """Whether a report may be stored without its reporter's name: the kind allows it and the relay key is set."""
    return app.relay is not None and may_be_anonymous(category, subject)


def retry_choices(anonymous: bool) -> tuple[Choice, ...]:
    """What a reporter whose report could not be stored may choose: the same way of sending it again."""
    return (SEND_WITHOUT_NAME, CHANGE, CANCEL) if anonymous else SUMMARY_CHOICES


def log_not_stored(exc: Exception, reporter_id: str, channel: str, *, anonymous: bool) -> None:
    """The server's line for a report that could not be stored; for one sent without a name, nobody named."""
    if anonymous:
        # The error's own text may quote the statement's parameters (the reporter's id): its kind only.
        log.error("could not store a report sent without a name: %s", type(exc).__name__)
    else:
        log.exception("could not store a report from %s on %s", reporter_id, channel)
