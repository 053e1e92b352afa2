"""Whatever JSON a caller logs, it reads back as it was hashed, on every database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.log import EventKind, append_event, canonical, timestamp, verify
from tests.integration.helpers import minutes

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)


# One database per test, many examples in it: each adds an event and re-checks the whole chain.
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=4), actor=st.sampled_from(["head1", "system"]))
async def test_any_json_data_verifies_after_a_round_trip(
    sessions: async_sessionmaker[AsyncSession], data: dict[str, Any], actor: str
) -> None:
    async with sessions.begin() as session:
        await append_event(session, now=minutes(1), actor=actor, kind=EventKind.NOTE_ADDED, report_ref="SG-2026-0001", data=data)
    async with sessions() as session:
        result = await verify(session)
    assert result.ok, result.problem


@given(at=st.datetimes(timezones=st.just(UTC)) | st.datetimes(timezones=st.timezones()))
def test_timestamps_read_as_strftime_wrote_them(at: datetime) -> None:
    # timestamp() went from strftime to isoformat for speed (issue 8): every stored hash depends on its text.
    assert timestamp(at) == at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@given(value=st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=4))
def test_canonical_json_is_json_dumps_with_the_canonical_arguments(value: dict[str, Any]) -> None:
    # canonical() keeps one encoder rather than calling json.dumps (issue 8); the text must not change.
    assert canonical(value) == json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                                          allow_nan=False)
