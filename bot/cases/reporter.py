"""Whether someone in a chat is the reporter of a report: decided here and nowhere else.

Today a report keeps its reporter's id from the school config. A report sent without the
reporter's name will keep a random handle instead, with the link to the person sealed; this
function is then where the seal is checked, so every caller keeps asking the same question.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App
from storage.models import Report


async def is_reporter(app: App, session: AsyncSession, report: Report, *, channel: str, user_id: str,
                      person_id: str | None) -> bool:
    """Whether the person at `user_id` on `channel` (known as `person_id`, if the school config knows them) reported `report`."""
    return person_id is not None and report.reporter == person_id
