"""What people type reaches the report as they see it: no control or invisible characters, no reordering tricks."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.validation import Invalid, clean_text, parse_date, visible
from tests.unit.dialog_script import TODAY, Chat

RLO, PDF, LRI, PDI = "\u202e", "\u202c", "\u2066", "\u2069"
ZWSP, ZWNJ, ZWJ, WORD_JOINER, BOM = "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"
ENGLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
# Characters no cleaned text may hold: C0 but tab and newline, DEL, C1, surrogates, and the invisible ones.
FORBIDDEN = {chr(c) for c in (*range(0x09), *range(0x0b, 0x20), *range(0x7f, 0xa0))} | {
    "\u00ad", "\u061c", "\u180e", "\u200b", "\u200e", "\u200f", *map(chr, range(0x202a, 0x202f)),
    *map(chr, range(0x2060, 0x2065)), *map(chr, range(0x2066, 0x2070)), "\ufeff", "\ufff9", "\ufffa", "\ufffb",
}


@pytest.mark.parametrize(("typed", "kept"), [
    # A right-to-left override shows `https://evil.example/moc.elgoog` as if it ended google.com.
    (f"https://evil.example/{RLO}moc.elgoog{PDF}", "https://evil.example/moc.elgoog"),
    (f"{LRI}abc{PDI} and \u200fmark\u200e", "abc and mark"),
    (f"pass{ZWSP}word{WORD_JOINER}s{BOM}", "passwords"),
    ("soft\u00adhyphen, mongolian\u180eseparator, invisible\u2062times", "softhyphen, mongolianseparator, invisibletimes"),
    ("bell\x07 null\x00 escape\x1b[31m delete\x7f c1\x9b", "bell null escape[31m delete c1"),
    ("one\r\ntwo\rthree\x85four\u2028five\u2029six", "one\ntwo\nthree\nfour\nfive\nsix"),
    ("lone \ud800 surrogate \udfff", "lone  surrogate "),
    # Joiners between ASCII letters only hide; in emoji and Persian they shape what is read.
    (f"a{ZWJ}b{ZWNJ}c {ZWJ}", "abc "),
    (f"family \U0001f469{ZWJ}\U0001f467 \u0645\u06cc{ZWNJ}\u062e\u0648\u0627\u0647\u0645", None),
    # Tag characters: England's flag keeps them; elsewhere they are words nobody can see.
    (f"{ENGLAND} football", None),
    ("hi\U000e0069\U000e0067\U000e006e\U000e006f\U000e0072\U000e0065 there", "hi there"),
    ("café, naïve, Zoë, 日本語, مرحبا, emoji \u2764\ufe0f", None),
])
def test_only_what_can_be_seen_is_kept(typed: str, kept: str | None) -> None:
    assert visible(typed) == (typed if kept is None else kept)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec=None, exclude_categories=())))
def test_whatever_is_typed_comes_out_storable_and_free_of_invisible_characters(text: str) -> None:
    shown = visible(text)
    assert not FORBIDDEN & set(shown)
    assert all(unicodedata.category(c) != "Cs" for c in shown)
    shown.encode("utf-8")  # stored as UTF-8 and hashed into the log: must not raise
    assert visible(shown) == shown


def test_typed_text_is_trimmed_and_counted_as_seen() -> None:
    assert clean_text(f"  {RLO}what{ZWSP} happened\x00 \r\n", 100) == "what happened"
    assert isinstance(empty := clean_text(f"{ZWSP}{RLO} \x00", 100), Invalid) and "can't be empty" in empty.reason
    # The limit is on what a reader sees: invisible padding does not count, and is not a way round it.
    assert clean_text("x" * 100 + ZWSP * 50, 100) == "x" * 100
    too_long = clean_text("x" * 2001, 2000)
    assert isinstance(too_long, Invalid)
    assert too_long.reason == "That is 2,001 characters. Please keep it to 2,000 or fewer."


def test_a_long_message_is_not_echoed_back_whole() -> None:
    refused = parse_date("not a date " * 500, TODAY)
    assert isinstance(refused, Invalid)
    assert refused.reason.startswith("I couldn't read 'not a date not a date not a date not ...' as a date.")
    assert len(refused.reason) < 200


def test_a_report_keeps_the_words_without_the_tricks() -> None:
    chat = Chat()
    chat.send("misuse", "pupil", "Ava Stone", "skip", "instagram")
    chat.send(f"He posted {RLO}gpj.exe{PDF} and <!channel> *bold*\x00 to{ZWSP}day")
    assert chat.draft.answers["what_happened"].value == "He posted gpj.exe and <!channel> *bold* today"
    # A tap's id is read the same way: an invisible character does not stop it naming its option.
    chat.send(f"n{ZWSP}o")
    assert chat.draft.answers["immediate_risk"].value == "no" and chat.asking == "illegal"
