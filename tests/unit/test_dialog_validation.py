"""Bad answers at every kind of question are refused with a reason, the question asked again, nothing changed."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from dialogs.flow import handle, start
from dialogs.prompts import Choice, Tone
from dialogs.validation import Invalid, clean_text, match_choice, parse_date, parse_urls
from tests.unit.dialog_script import NOW, TODAY, Chat

TO_URLS = ("inappropriate_content", "unknown", "today")
TO_DATE = ("inappropriate_content", "unknown")
TO_NATURE = (*TO_URLS, "https://a.example")

REFUSED = [
    # (how to get there, what is sent, part of the reason)
    (TO_URLS, "not a link", "'not' is not a full web address"),
    (TO_URLS, "www.example.com/page", "should start with https:// or http://"),
    (TO_URLS, "https://ok.example ftp://files.example/x", "'ftp://files.example/x' is not a full web address"),
    (TO_URLS, "https://", "is not a full web address"),
    (TO_URLS, "https://host.example:port/x", "is not a full web address"),
    (TO_URLS, "https://bad host.example", "'host.example' is not a full web address"),
    (TO_DATE, "15/03/2025", "15 March 2025 is in the future"),
    (TO_DATE, "2026-01-01", "1 January 2026 is in the future"),
    (TO_DATE, "31/02/2025", "There is no such date as 31/02/2025"),
    (TO_DATE, "2025-13-01", "There is no such date as 2025-13-01"),
    (TO_DATE, "last tuesday", "I couldn't read 'last tuesday' as a date"),
    (TO_DATE, "14/3/25", "dd/mm/yyyy"),
    (TO_NATURE, "x" * 501, "That is 501 characters. Please keep it to 500 or fewer."),
    (TO_NATURE, "   \n  ", "it can't be empty"),
    (("misuse", "pupil", "Ava Stone", "skip", "instagram"), "y" * 1001, "Please keep it to 1,000 or fewer."),
    (("misuse", "pupil", "Ava Stone", "skip", "other"), "", "it can't be empty"),
    (("inappropriate_content", "pupil"), "\x00", "it can't be empty"),
    ((), "bullying", "'bullying' isn't one of the options"),
    (("friend_request",), "staff", "'staff' isn't one of the options"),
    (("friend_request", "pupil", "@ava.s", "dont_know"), "10", "'10' isn't one of the options"),
    (("friend_request", "pupil", "@ava.s", "dont_know", "x"), "maybe", "'maybe' isn't one of the options"),
    (("misuse", "pupil", "Ava Stone", "skip", "x", "words", "no", "no", "no", "none"), "yes", "Please choose Send, Change something or Cancel."),
    (("misuse", "pupil"), "z" * 101, "Please keep it to 100 or fewer."),
    (("misuse", "pupil", "Ava Stone"), "y" * 41, "Please keep it to 40 or fewer."),
    (("friend_request", "pupil"), "   ", "it can't be empty"),
    (("colleague_concern",), "Nobody Atall", "I can't find 'Nobody Atall' in the staff directory"),
    (("colleague_concern",), "Alex", "I can't find 'Alex' in the staff directory"),
    (("colleague_concern",), "chris lee", "More than one member of staff is called chris lee"),
    (("pupil_disclosure", "yes"), "", "I can't find '' in the staff directory"),
]


@pytest.mark.parametrize(("path", "bad", "reason"), REFUSED)
def test_a_bad_answer_is_refused_with_a_reason_and_asked_again(path: tuple[str, ...], bad: str, reason: str) -> None:
    chat = Chat()
    chat.send(*path)
    before, question = chat.draft, chat.question
    turn = chat.send(bad)
    assert turn.draft is before
    assert turn.outcome is None
    assert [r.tone for r in turn.replies] == [Tone.ERROR, question.tone]
    assert reason in turn.replies[0].text
    assert turn.replies[1] == question


def test_a_colleague_with_a_shared_name_can_still_be_tapped() -> None:
    chat = Chat()
    chat.send("colleague_concern", "u-lee-2")
    assert chat.draft.answers["colleague"].value == "u-lee-2"


def test_the_date_hint_uses_the_schools_today() -> None:
    assert isinstance(found := parse_date("soon", date(2024, 9, 2)), Invalid)
    assert "for example 02/09/2024" in found.reason


@pytest.mark.parametrize(("typed", "expected"), [
    ("today", TODAY), ("Yesterday", date(2025, 3, 13)), ("1/3/2025", date(2025, 3, 1)),
    ("01/03/2025", date(2025, 3, 1)), ("2025-03-01", date(2025, 3, 1)), ("14/03/2025", TODAY),
    ("29/02/2024", date(2024, 2, 29)),
])
def test_dates_are_read_in_every_accepted_form(typed: str, expected: date) -> None:
    assert parse_date(typed, TODAY) == expected


def test_web_addresses_are_read_from_lines_spaces_and_brackets_without_repeats() -> None:
    text = "<https://a.example/x?y=1>, https://a.example/x?y=1\n\nhttp://[2001:db8::1]:8080/p  https://b.example;"
    assert parse_urls(text) == ("https://a.example/x?y=1", "http://[2001:db8::1]:8080/p", "https://b.example")


def test_too_many_web_addresses_are_refused() -> None:
    found = parse_urls(" ".join(f"https://{i}.example" for i in range(21)))
    assert isinstance(found, Invalid) and "at most 20" in found.reason


def test_text_loses_control_characters_but_keeps_its_lines() -> None:
    assert clean_text("  first\x00 line\r\nsecond\tline  ", 100) == "first line\nsecond\tline"


def test_a_number_past_the_choices_matches_nothing() -> None:
    choices = (Choice("a", "Apple"), Choice("b", "Banana"))
    assert match_choice("0", choices) is None and match_choice("3", choices) is None
    assert match_choice("²", choices) is None
    assert match_choice("2", choices) == choices[1]


def test_times_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        start(datetime(2025, 3, 14, 9, 30))
    with pytest.raises(ValueError, match="timezone-aware"):
        handle(start(NOW).draft, "misuse", now=datetime(2025, 3, 14, 9, 31), today=TODAY, colleagues=())
