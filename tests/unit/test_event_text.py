"""The hash verify splices from an event's stored text is the hash append_event computed (storage/event_text.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from storage.event_text import chain_key, postgres_at, spliced_hash, sqlite_at
from storage.log import canonical, event_hash, sqlite_time

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=10,
)
# Quotes, backslashes, control characters and non-ASCII are what the splice must escape as the encoder does.
TEXT = st.text(max_size=12) | st.sampled_from(['he said "hi"', "back\\slash", "tab\there", "Zoë", "\u2028", '","at":"'])
TIMES = st.datetimes(min_value=datetime(1000, 1, 1), timezones=st.just(UTC))


def sqlite_text(at: datetime) -> str:
    """A time as SQLAlchemy's SQLite DateTime writes it (UTC, no zone)."""
    return at.strftime("%Y-%m-%d %H:%M:%S.%f")


@given(prev=st.text("0123456789abcdef", min_size=64, max_size=64), seq=st.integers(min_value=1, max_value=2**62),
       at=TIMES, actor=TEXT, kind=TEXT, report=st.none() | TEXT,
       data=st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=4), chain=st.sampled_from(["", "bpa", "x9"]))
def test_the_spliced_hash_is_the_events_hash(prev: str, seq: int, at: datetime, actor: str, kind: str,
                                             report: str | None, data: dict[str, Any], chain: str) -> None:
    expected = event_hash(prev, seq=seq, at=at, actor=actor, kind=kind, report=report, data=data, chain=chain)
    for at_text in (sqlite_at(sqlite_text(at)), postgres_at(at)):
        assert at_text is not None
        assert spliced_hash(prev, seq, at_text, actor, kind, report, canonical(data), chain_key(chain)) == expected


@given(at=st.datetimes(timezones=st.just(UTC)))
def test_sqlite_times_read_back_as_before(at: datetime) -> None:
    # sqlite_time reads the stored shape by appending a zone (issue 24), not by replacing it after.
    stored = sqlite_text(at) if at.year >= 1000 else at.strftime("%04Y-%m-%d %H:%M:%S.%f")
    assert sqlite_time(stored) == datetime.fromisoformat(stored).replace(tzinfo=UTC) == at
    assert sqlite_time(stored).tzinfo is UTC


def test_times_of_any_other_shape_are_left_to_the_slow_path() -> None:
    assert sqlite_at("2026-11-20T09:15:00.123456") is None
    assert sqlite_at("2026-11-20 09:15:00") is None
    assert sqlite_at(None) is None
    assert postgres_at("2026-11-20 09:15:00.123456") is None
