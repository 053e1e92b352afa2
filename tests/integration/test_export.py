"""Exporting the log: CSV and JSON Lines, filtered by report and date, with UTC timestamps."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing.yamlfields import InputError
from storage.export import COLUMNS, Format, export_events
from storage.log import GENESIS_HASH
from tests.integration.helpers import six_events

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


async def export(sessions: async_sessionmaker[AsyncSession], fmt: Format, **filters: object) -> str:
    async with sessions() as session:
        return "".join([line async for line in export_events(session, fmt=fmt, **filters)])  # type: ignore[arg-type]


async def test_csv_has_the_columns_and_one_row_per_event(sessions: async_sessionmaker[AsyncSession]) -> None:
    await six_events(sessions)
    rows = list(csv.DictReader(io.StringIO(await export(sessions, "csv"))))
    assert tuple(rows[0]) == COLUMNS == ("seq", "at", "actor", "kind", "report", "data", "hash")
    assert [r["seq"] for r in rows] == ["1", "2", "3", "4", "5", "6"]
    assert rows[0]["at"] == "2026-11-20T09:15:00.123456Z"
    assert all(STAMP.match(r["at"]) for r in rows)
    assert rows[3]["kind"] == "acknowledged" and rows[3]["actor"] == "head1" and rows[3]["report"] == "SG-2026-0001"
    assert json.loads(rows[3]["data"]) == {"by": "head1"}
    assert json.loads(rows[4]["data"]) == {"note": "Spoke to the class teacher (made-up)"}


async def test_jsonl_is_one_object_per_line_and_rechecks_on_its_own(sessions: async_sessionmaker[AsyncSession]) -> None:
    await six_events(sessions)
    text = await export(sessions, "jsonl")
    records = [json.loads(line) for line in text.splitlines()]
    assert text.endswith("\n") and len(records) == 6
    assert all(set(r) == set(COLUMNS) and STAMP.match(r["at"]) for r in records)
    # Someone outside Safeguard can recompute the chain from a full export alone.
    prev = GENESIS_HASH
    for record in records:
        body = {key: record[key] for key in ("seq", "at", "actor", "kind", "report", "data")}
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert hashlib.sha256((prev + canonical).encode("utf-8")).hexdigest() == record["hash"]
        prev = record["hash"]


async def test_export_filters_by_report(sessions: async_sessionmaker[AsyncSession]) -> None:
    await six_events(sessions)
    records = [json.loads(line) for line in (await export(sessions, "jsonl", report_ref="SG-2026-0002")).splitlines()]
    assert [(r["seq"], r["kind"]) for r in records] == [(3, "created"), (5, "note_added")]
    assert await export(sessions, "jsonl", report_ref="SG-2026-0404") == ""
    assert await export(sessions, "csv", report_ref="SG-2026-0404") == ",".join(COLUMNS) + "\n"


@pytest.mark.parametrize(("since", "seqs"), [
    (date(2026, 11, 20), [1, 2, 3, 4, 5, 6]),
    (date(2026, 11, 21), []),
    (datetime(2026, 11, 20, 9, 17, 0, 123456, tzinfo=timezone.utc), [4, 5, 6]),
    # 10:18 in UTC+1 is 09:18 UTC: the zone given is honoured.
    (datetime(2026, 11, 20, 10, 18, tzinfo=timezone(timedelta(hours=1))), [5, 6]),
], ids=["date", "later-date", "utc-time", "other-zone"])
async def test_export_filters_by_time(
    sessions: async_sessionmaker[AsyncSession], since: date | datetime, seqs: list[int]
) -> None:
    await six_events(sessions)
    records = [json.loads(line) for line in (await export(sessions, "jsonl", since=since)).splitlines()]
    assert [r["seq"] for r in records] == seqs


async def test_bad_export_arguments_are_one_line_input_errors(sessions: async_sessionmaker[AsyncSession]) -> None:
    with pytest.raises(InputError, match="unknown export format 'xml'; allowed: csv, jsonl"):
        await export(sessions, "xml")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="give a time zone"):
        await export(sessions, "csv", since=datetime(2026, 11, 20, 9, 0))
