"""For tests of reports sent without a name: every place a reporter could show, read as the school could read it."""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import datetime
from typing import get_args

from pypdf import PdfReader

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from bot.cases.log_export import export_log
from bot.cases.report_export import Exported, ReportFormat, export_report
from bot.digest.weekly import IsoWeek, render, weekly_figures
from storage.models import Base
from storage.sealed_reporters import new_relay_key, relay_from_env

# A relay key for tests: made afresh each run, as `safeguard keys relay` makes one.
RELAY = relay_from_env({"SAFEGUARD_RELAY_KEY": new_relay_key()})


async def every_row(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    """Every row of every table (a table added later too), raw as stored and decrypted with the school's key."""
    found = []
    async with sessions() as session:
        for table in Base.metadata.sorted_tables:
            raw = await session.execute(text(f'SELECT * FROM "{table.name}"'))  # past every decrypting type
            found += [f"{table.name} raw: {tuple(row)!r}" for row in raw.all()]
            opened = await session.execute(select(table))  # through the types: what the school's key opens
            found += [f"{table.name}: {tuple(row)!r}" for row in opened.all()]
    return found


async def exported(app: App, reader_id: str, report_ref: str | None, now: datetime) -> str:
    """What `safeguard log export` writes for this reader (one report's events, or the whole log)."""
    person = app.person(reader_id)
    assert person is not None
    lines: list[str] = []
    for fmt in ("jsonl", "csv"):
        await export_log(app.sessions, app.school, person=person, fmt=fmt, report_ref=report_ref, since=None,
                         now=now, write=lines.append)
    return "\n".join(lines)


async def report_exported(app: App, reader_id: str, reference: str) -> str:
    """What `safeguard report export` hands on for this reader: the report whole, as CSV, JSON and the PDF's text."""
    person = app.person(reader_id)
    assert person is not None
    texts = []
    for fmt in get_args(ReportFormat):
        done = await export_report(app, person, reference, fmt)
        assert isinstance(done, Exported), done
        if fmt == "pdf":
            texts += [page.extract_text() for page in PdfReader(io.BytesIO(done.data)).pages]
        else:
            texts.append(done.data.decode("utf-8"))
    return "\n".join(texts)


async def digest_text(app: App, week: IsoWeek, readers: Iterable[str]) -> str:
    """The weekly digest each reader would get for `week`."""
    return "\n".join([render(app, await weekly_figures(app, week, reader=reader)) for reader in readers])


def traces(texts: Iterable[str], *marks: str) -> list[str]:
    """Each text that shows any of `marks` (a person id, a chat id, a name), any case."""
    return [shown for shown in texts if any(mark.casefold() in shown.casefold() for mark in marks)]
