"""Verify with the reports digested by a second process (as for a chain of 20,000 reports or more) names what it did in one.

The tampering tests below are the same functions as in their own modules, run again here with
storage.report_digests handing every chunk of reports (a few rows each) to the second process.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage import report_digests
from storage.log import verify
from tests.integration.helpers import six_events
from tests.integration.test_log_stored_text import test_a_log_written_before_canonical_text_still_verifies
from tests.integration.test_tampering import (
    test_a_deleted_report_names_its_created_event, test_a_report_without_a_created_event_is_named,
    test_an_edited_report_names_its_created_event, test_deleting_an_event_names_it,
    test_editing_any_field_of_an_event_names_it,
)
from tests.integration.test_tampering_rows import test_an_edited_closing_names_the_event

__all__ = [
    "test_a_deleted_report_names_its_created_event", "test_a_log_written_before_canonical_text_still_verifies",
    "test_a_report_without_a_created_event_is_named", "test_an_edited_closing_names_the_event",
    "test_an_edited_report_names_its_created_event", "test_deleting_an_event_names_it",
    "test_editing_any_field_of_an_event_names_it",
]


@pytest.fixture(autouse=True)
def second_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(report_digests, "OVERLAP_REPORTS", 1)
    monkeypatch.setattr(report_digests, "CHUNK", 1)  # every report a chunk of its own: their order kept
    yield


async def test_an_edited_report_token_is_named(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> None:
    await six_events(sessions)
    async with engine.begin() as connection:
        postgres = connection.dialect.name == "postgresql"
        read = "details::text" if postgres else "details"
        token = (await connection.exec_driver_sql(
            f"SELECT {read} FROM reports WHERE reference = 'SG-2026-0002'")).scalar_one()
        edited = token[:60] + ("A" if token[60] != "A" else "B") + token[61:]
        write = "CAST(:details AS json)" if postgres else ":details"
        await connection.execute(text(f"UPDATE reports SET details = {write} WHERE reference = 'SG-2026-0002'"),
                                 {"details": edited})
    async with sessions() as session:
        result = await verify(session)
    assert (result.ok, result.first_bad_seq) == (False, None)
    assert result.problem.endswith("cannot be decrypted with the keys given: it was edited, "
                                   "or encrypted with a key that is not among them")
