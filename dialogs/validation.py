"""Checking what a reporter typed: choices, text, dates and web addresses, each with a reason when refused."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlsplit

from dialogs.prompts import Choice

MAX_URLS = 20
MAX_URL_LENGTH = 2000
MONTHS = ("January", "February", "March", "April", "May", "June", "July",
          "August", "September", "October", "November", "December")

_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
# Every way of breaking a line, as one newline.
_LINE_BREAK = re.compile("\r\n|[\r\x85\u2028\u2029]")
# Control characters other than newline and tab (C0, DEL and C1): PostgreSQL text cannot hold
# NUL, and none of them is anything a person meant to type. Lone surrogates are not text at all:
# JSON can carry one ("\\ud800"), but it cannot be stored, or hashed into the log, as UTF-8.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
# Characters that change how text shows but not what it says: bidi embeddings, overrides,
# isolates and marks (a right-to-left override shows `evil.example/moc.elgoog` as a different
# address), zero-width spaces, the word joiner and invisible operators, the byte order mark,
# soft hyphens and interlinear annotations. Each hides something from the person who reads it.
_INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
                        "\ufeff\ufff9-\ufffb]")
# Zero-width (non-)joiners shape emoji sequences and Arabic, Persian and Indic words, so they are
# kept next to such characters; between ASCII characters (or at an end) they only hide.
_ASCII_JOINERS = re.compile("(?<![^\x00-\x7f\u200c\u200d])[\u200c\u200d]+(?![^\x00-\x7f\u200c\u200d])")
# Tag characters spell the flags of England, Scotland and Wales after U+1F3F4; anywhere else
# they are invisible ASCII, a known way to smuggle hidden words into text.
_TAGS = re.compile("(\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f)|[\U000e0001\U000e0020-\U000e007f]")
_HOST = re.compile(r"[\w-]+(\.[\w-]+)*\.?")
_IPV6 = re.compile(r"[0-9a-f:.]+")


@dataclass(frozen=True)
class Invalid:
    """Why an answer was refused, in words the reporter can act on."""

    reason: str


def normalise(text: str) -> str:
    """Text as compared with choices: case and spacing ignored."""
    return " ".join(text.split()).casefold()


def match_choice(text: str, choices: Sequence[Choice]) -> Choice | None:
    """The choice `text` names by id, by label or by its number in the list, if any."""
    key = normalise(text)
    if not key:
        return None
    for choice in choices:
        if normalise(choice.id) == key:
            return choice
    for choice in choices:
        if normalise(choice.label) == key:
            return choice
    # The console shows choices numbered from 1; other channels let people type the number too.
    if key.isascii() and key.isdigit() and 1 <= int(key) <= len(choices):
        return choices[int(key) - 1]
    return None


def loose_match(text: str, choices: Sequence[Choice]) -> Choice | None:
    """The one choice whose label starts with `text` or has it as a word ("friend", "disclosure").

    For typed replies on a phone: only when exactly one choice fits, and never for fewer
    than three letters, so that a guess is never taken for an answer.
    """
    key = normalise(text)
    if len(key) < 3:
        return None
    fits = [c for c in choices if normalise(c.label).startswith(key) or key in normalise(c.label).split()]
    return fits[0] if len(fits) == 1 else None


def visible(text: str) -> str:
    """Text as a person reads it: line breaks as newlines, without control or invisible characters.

    Used wherever people's text comes in, so that what is stored, logged and shown to others is
    what the reader sees: no hidden words, no text that displays reordered.
    """
    text = _CONTROL.sub("", _LINE_BREAK.sub("\n", text))
    if text.isascii():
        return text
    text = _TAGS.sub(lambda found: found.group(1) or "", _INVISIBLE.sub("", text))
    return _ASCII_JOINERS.sub("", text)


def clean_text(text: str, max_length: int) -> str | Invalid:
    """Typed text made visible and trimmed, within `max_length` characters and not empty; wording kept as typed."""
    cleaned = visible(text).strip()
    if not cleaned:
        return Invalid("Please type an answer: it can't be empty.")
    if len(cleaned) > max_length:
        return Invalid(f"That is {len(cleaned):,} characters. Please keep it to {max_length:,} or fewer.")
    return cleaned


def parse_date(text: str, today: date) -> date | Invalid:
    """A real date, not after `today`: 'today', 'yesterday', dd/mm/yyyy or yyyy-mm-dd."""
    key = normalise(text)
    hint = f"Please type the date as dd/mm/yyyy (for example {today:%d/%m/%Y}), or choose Today or Yesterday."
    if key == "today":
        return today
    if key == "yesterday":
        return today - timedelta(days=1)
    if found := _DMY.fullmatch(key):
        day, month, year = (int(g) for g in found.groups())
    elif found := _ISO.fullmatch(key):
        year, month, day = (int(g) for g in found.groups())
    else:
        shown = " ".join(text.split())
        shown = shown if len(shown) <= 40 else shown[:37] + "..."  # a pasted essay is not echoed back whole
        return Invalid(f"I couldn't read {shown!r} as a date. {hint}")
    try:
        when = date(year, month, day)
    except ValueError:
        return Invalid(f"There is no such date as {text.strip()}. {hint}")
    if when > today:
        return Invalid(f"{show_date(when)} is in the future. Please give the date it happened.")
    return when


def show_date(when: date) -> str:
    """A date as people in a UK school read it, e.g. 14 March 2025 (no locale needed)."""
    return f"{when.day} {MONTHS[when.month - 1]} {when.year}"


def parse_urls(text: str) -> tuple[str, ...] | Invalid:
    """One or more full http(s) web addresses, separated by spaces or new lines, without repeats."""
    # RFC 3986 appendix C: angle brackets delimit a URI in running text; a trailing comma
    # or semicolon separates a list, it is not part of the address.
    tokens = [t.rstrip(",;").strip("<>") for t in text.split()]
    tokens = [t for t in tokens if t]
    if not tokens:
        return Invalid("Please paste the full web address, starting with https:// or http://.")
    if len(tokens) > MAX_URLS:
        return Invalid(f"That is {len(tokens)} addresses. Please give at most {MAX_URLS}.")
    urls: list[str] = []
    for token in tokens:
        if not _is_web_address(token):
            shown = token if len(token) <= 60 else token[:57] + "..."
            return Invalid(f"{shown!r} is not a full web address. Each should start with https:// or http://.")
        if token not in urls:
            urls.append(token)
    return tuple(urls)


def _is_web_address(token: str) -> bool:
    if len(token) > MAX_URL_LENGTH:
        return False
    try:
        parts = urlsplit(token)
        _ = parts.port  # raises ValueError for a port that is not a number
    except ValueError:
        return False
    host = parts.hostname or ""
    if parts.scheme.lower() not in ("http", "https") or not host:
        return False
    return bool(_HOST.fullmatch(host) or (":" in host and _IPV6.fullmatch(host)))
