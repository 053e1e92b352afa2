"""Exporting the event log as CSV or JSON Lines, for an inspector, a governor or a court."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Collection
from datetime import UTC, date, datetime, time
from typing import Literal

from sqlalchemy import BindParameter, ColumnElement, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from routing.yamlfields import InputError
from storage.chains import DEFAULT, check_chain
from storage.log import Entry, canonical, entries, timestamp
from storage.models import Event

FORMATS = ("csv", "jsonl")
COLUMNS = ("seq", "at", "actor", "kind", "report", "data", "hash")
# A school's own chain is named in each event's hash, so its export names it too.
CHAIN_COLUMNS = (*COLUMNS, "chain")
Format = Literal["csv", "jsonl"]


async def export_events(
    session: AsyncSession,
    *,
    fmt: Format,
    chain: str = DEFAULT,
    report_ref: str | None = None,
    since: date | datetime | None = None,
    through: int | None = None,
    leave_out: Collection[str] = (),
) -> AsyncIterator[str]:
    """One chain of the log in seq order, one line per event (CSV starts with a header), each ending in a newline.

    `chain` is a school's ("bpa") in a trust, "" for a lone school (storage.chains). `through`
    stops at that event (the chain's head when the export was recorded); `leave_out` names
    reports whose events are not exported (bot.cases.access: those about the person on whose
    authority the log is exported). Every event exported is as stored.
    """
    fmt = check_format(fmt)
    where = _where(chain, report_ref, since, through, leave_out)
    if fmt == "csv":
        yield _csv_line(CHAIN_COLUMNS if chain else COLUMNS)
    async for entry in entries(session, *where):
        if fmt == "csv":
            at = timestamp(entry.at)
            named = (entry.chain,) if chain else ()
            yield _csv_line((entry.seq, at, entry.actor, entry.kind, entry.report or "", canonical(entry.data),
                             entry.hash, *named))
        else:
            yield json.dumps(_record(entry), ensure_ascii=False) + "\n"


async def count_events(
    session: AsyncSession,
    *,
    chain: str = DEFAULT,
    report_ref: str | None = None,
    since: date | datetime | None = None,
    through: int | None = None,
    leave_out: Collection[str] = (),
) -> int:
    """How many events `export_events` with the same filters exports."""
    query = select(func.count()).select_from(Event).where(*_where(chain, report_ref, since, through, leave_out))
    return int((await session.execute(query)).scalar_one())


def _where(
    chain: str, report_ref: str | None, since: date | datetime | None, through: int | None, leave_out: Collection[str]
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [Event.chain == check_chain(chain)]
    if report_ref is not None:
        where.append(Event.report_ref == report_ref)
    if since is not None:
        where.append(Event.at >= _start(since))
    if through is not None:
        where.append(Event.seq <= through)
    if leave_out:
        # Events about no report (the digest's, a whole-log export's) are kept: NOT IN alone drops NULLs.
        # The references are written into the statement: a reader may be kept from many thousands of
        # reports, more than SQLite or asyncpg take as bound parameters (32,766 and 32,767).
        hidden: BindParameter[list[str]] = bindparam("leave_out", sorted(leave_out), expanding=True, literal_execute=True)
        where.append(or_(Event.report_ref.is_(None), Event.report_ref.not_in(hidden)))
    return where


def check_format(fmt: str) -> Format:
    """`fmt` if it is an export format, else an InputError naming the allowed ones."""
    if fmt == "csv":
        return "csv"
    if fmt == "jsonl":
        return "jsonl"
    raise InputError(f"unknown export format {fmt!r}; allowed: {', '.join(FORMATS)}")


def _start(since: date | datetime) -> datetime:
    if isinstance(since, datetime):
        if since.tzinfo is None or since.utcoffset() is None:
            raise InputError(f"since {since.isoformat()}: give a time zone (e.g. 2026-11-20T09:00:00Z)")
        return since.astimezone(UTC)
    # A date means from the start of that day, in UTC like every timestamp in the log.
    return datetime.combine(since, time(0), tzinfo=UTC)


def _record(entry: Entry) -> dict[str, object]:
    # The same fields the hash covers, so anyone can re-check a full export's chain.
    record: dict[str, object] = {
        "seq": entry.seq,
        "at": timestamp(entry.at),
        "actor": entry.actor,
        "kind": entry.kind,
        "report": entry.report,
        "data": entry.data,
        "hash": entry.hash,
    }
    if entry.chain:
        record["chain"] = entry.chain
    return record


def _csv_line(values: tuple[object, ...]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()
