"""How the bot reaches a report's reporter, named or sent without their name, and knows them again.

Everything that tells a reporter something (the receipt, acknowledged, closed, and anything
later that asks them a question) goes through `reporter_address`. For a report sent without a
name the stored reporter is a handle; the chat address behind it is unsealed with the relay key
(storage/sealed_reporters.py) only here, only when needed, and never written back anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App
from storage.models import Report
from storage.sealed_reporters import Address, is_handle, unseal

ANONYMOUS_LABEL = "sent without their name"


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
