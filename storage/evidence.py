"""Screenshots: kept encrypted with a draft until Send, then with the report; the log keeps only digests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from storage.log import EventKind, append_event
from storage.models import DraftEvidence, Report, ReportEvidence


async def add_draft_screenshot(
    session: AsyncSession, *, channel: str, user_id: str, position: int, content_type: str, sha256: str, data: bytes
) -> None:
    """Keep one checked screenshot with this person's draft (which must be saved: it goes when the draft goes)."""
    session.add(DraftEvidence(channel=channel, user_id=user_id, position=position, content_type=content_type,
                              size=len(data), sha256=sha256, data=data))
    await session.flush()


async def draft_screenshot_count(session: AsyncSession, *, channel: str, user_id: str) -> int:
    """How many screenshots this person's draft holds."""
    query = select(func.count()).select_from(DraftEvidence).where(
        DraftEvidence.channel == channel, DraftEvidence.user_id == user_id)
    return int((await session.execute(query)).scalar_one())


async def forget_draft_screenshots(session: AsyncSession | AsyncConnection, *, channel: str, user_id: str) -> int:
    """Delete the screenshots of this person's draft (it no longer asks for them); how many went."""
    # A Core statement on the table, so that it runs alike in a session and on a bare connection (the dialog's).
    table = DraftEvidence.metadata.tables[DraftEvidence.__tablename__]
    result = await session.execute(
        delete(table).where(table.c.channel == channel, table.c.user_id == user_id).returning(table.c.position)
    )
    return len(result.all())


async def attach_draft_screenshots(
    session: AsyncSession, *, now: datetime, channel: str, user_id: str, report: Report, actor: str | None = None,
) -> int:
    """Move the draft's screenshots to the report, in the caller's transaction, and log their digests; how many.

    The `evidence_attached` event carries the count and each sha256, never the bytes or a file name,
    so the log shows that the screenshots an export is given are the ones sent.
    """
    drafted = list(await session.scalars(
        select(DraftEvidence).where(DraftEvidence.channel == channel, DraftEvidence.user_id == user_id)
        .order_by(DraftEvidence.position)))
    if not drafted:
        return 0
    for number, shot in enumerate(drafted, start=1):
        session.add(ReportEvidence(report_id=report.id, position=number, content_type=shot.content_type,
                                   size=shot.size, sha256=shot.sha256, data=shot.data))
    report.screenshots = len(drafted)
    await forget_draft_screenshots(session, channel=channel, user_id=user_id)
    await session.flush()
    # `actor`: who the log names as attaching them (a report sent without a name: its handle, never `user_id`).
    await append_event(session, now=now, actor=actor or user_id, kind=EventKind.EVIDENCE_ATTACHED, report_ref=report.reference,
                       data={"count": len(drafted), "sha256": [shot.sha256 for shot in drafted]})
    return len(drafted)


async def report_screenshots(session: AsyncSession, report: Report) -> list[ReportEvidence]:
    """A report's screenshots, decrypted, in the order they were sent."""
    query = select(ReportEvidence).where(ReportEvidence.report_id == report.id).order_by(ReportEvidence.position)
    return list(await session.scalars(query))
