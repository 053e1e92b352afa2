"""Exporting one report whole, on a person's authority: checked by bot.cases.access, recorded in the log first.

Whoever may view a report may hand it on (bot.cases.access.may_export_report); anyone else is
refused, and the refusal is logged. An export is logged (`exported`: the reference, the format,
the count of its events and the seq it runs through) before a byte of the document leaves:
an export that cannot be recorded is not made. The chain's head is held while the report is
read, so the document shows exactly the events up to `through`, no more and no fewer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Literal

from bot.app import STORE_ERRORS, App
from bot.cases import lifecycle
from bot.cases.access import Action, may_export_report
from bot.cases.report_data import as_csv, as_json
from bot.cases.report_file import ReportFile, gather
from dialogs import Reply
from routing.school import Person
from routing.yamlfields import InputError
from storage import reports as store
from storage.chains import chain_of
from storage.log import EventKind, LogError, append_event, lock_head

log = logging.getLogger(__name__)

FORMATS = ("pdf", "csv", "json")
ReportFormat = Literal["pdf", "csv", "json"]
CONTENT_TYPES = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8", "json": "application/json"}


class NotRecorded(InputError):
    """The export could not be recorded in the log, so nothing was exported."""


@dataclass(frozen=True)
class Exported:
    """A report's document, made once its export was recorded."""

    reference: str
    fmt: ReportFormat
    data: bytes
    event_seq: int  # the `exported` event that records it

    @property
    def name(self) -> str:
        """The file name it is offered under: `SG-2026-0042.pdf`."""
        return f"{self.reference}.{self.fmt}"


@dataclass(frozen=True)
class Refused:
    """The person may not export this report (or there is no such report: the same answer); logged."""

    reply: Reply


def check_format(fmt: str) -> ReportFormat:
    """`fmt` if it is a format a report exports as, else an InputError naming them."""
    for known in ("pdf", "csv", "json"):
        if fmt == known:
            return known
    raise InputError(f"--format {fmt!r}: a report exports as {', '.join(FORMATS)}")


async def export_report(app: App, person: Person, reference: str, fmt: ReportFormat) -> Exported | Refused:
    """The report's document if `person` may export it, its export recorded first; else refused and logged."""
    chain = chain_of(reference)
    record: ReportFile | None = None
    try:
        async with app.sessions.begin() as session:
            report = await store.get_report(session, reference)
            recipients = [] if report is None else (await store.get_routing(session, report))[1]
            if report is not None and may_export_report(person, report, recipients):
                # Held until commit: nothing joins the chain between what is read and the event that records it.
                head = await lock_head(session, chain, write=True)
                if head is None:
                    raise LogError(f"no log head for {reference}")
                through = head[0]
                record = await gather(app.at(report.school), session, report, recipients, person=person,
                                      through=through, now=app.now())
                event = await append_event(session, now=app.now(), actor=person.id, kind=EventKind.EXPORTED,
                                           report_ref=reference, data={"scope": reference, "format": fmt,
                                                                       "count": len(record.entries), "through": through})
                record = replace(record, export_seq=event.seq)
    except STORE_ERRORS as exc:
        log.exception("the export of %s as %s on the authority of %s could not be recorded", reference, fmt, person.id)
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise NotRecorded(f"the export could not be recorded in the log ({reason}), so nothing was exported") from None
    if record is None:
        return Refused((await lifecycle.refuse(app, person.id, Action.EXPORT, reference)).reply)
    return Exported(reference, fmt, render(record, fmt), record.export_seq)


def render(record: ReportFile, fmt: ReportFormat) -> bytes:
    """The gathered report in `fmt`."""
    if fmt == "pdf":
        # Imported when a PDF is made: fpdf2 brings Pillow, fontTools and numpy, about 20 MB the
        # idle server need not hold (issue 24).
        from bot.cases.report_pdf import as_pdf

        return as_pdf(record)
    return as_csv(record) if fmt == "csv" else as_json(record)
