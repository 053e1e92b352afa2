"""The reports that reached a person, with everyone each was routed to: what a case list is drawn from."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from storage.models import Recipient, RecipientKind, Report


async def reached_by(session: AsyncSession, person_id: str, *, schools: Collection[str] | None = None,
                     ) -> list[tuple[Report, list[Recipient]]]:
    """Every report that reached this person (as owner, told, or a rung escalated to), with its recipients.

    `schools` keeps to the reports of those schools (by Report.school), in a trust.

    A rung not yet reached has not been told, so its reports are not among them. What staff
    wrote (the details, a closing reason) is not read: a list shows none of it.
    """
    reached = or_(
        Recipient.kind.in_([RecipientKind.OWNER.value, RecipientKind.INFORMED.value]),
        Recipient.escalated_at.is_not(None),
    )
    routed = select(Recipient.report_id).where(Recipient.person_id == person_id, reached)
    if schools is not None:
        routed = routed.where(Recipient.report_id.in_(select(Report.id).where(Report.school.in_(list(schools)))))
    reports = await session.scalars(
        select(Report).where(Report.id.in_(routed)).order_by(Report.id)
        .options(defer(Report.details), defer(Report.close_reason))
    )
    found = list(reports)
    order = list(RecipientKind)
    rows: dict[int, list[Recipient]] = {}
    for row in await session.scalars(select(Recipient).where(Recipient.report_id.in_(routed))):
        rows.setdefault(row.report_id, []).append(row)
    return [
        (report, sorted(rows.get(report.id, []), key=lambda p: (order.index(RecipientKind(p.kind)), p.position)))
        for report in found
    ]
