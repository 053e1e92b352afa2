"""Back, Cancel, Start again and Keep, and typed words and numbers working as taps."""

from __future__ import annotations

import pytest

from dialogs.flow import Cancelled, Submitted, start
from dialogs.prompts import Choice, Tone
from dialogs.steps import CATEGORY_CHOICES, DISCLOSURE_CHOICES, PLATFORMS, SUBJECTS, THRESHOLD_CHOICES
from dialogs.summary import SUMMARY_CHOICES
from tests.unit.dialog_script import NOW, WALKS, Chat

WALK_NAMES = sorted(WALKS)


def drafts_along(name: str) -> list[Chat]:
    """A chat stopped at every question of a walk, in order, up to the summary."""
    messages, _ = WALKS[name]
    stops = []
    for count in range(len(messages)):
        chat = Chat()
        chat.send(*messages[:count])
        stops.append(chat)
    return stops


@pytest.mark.parametrize("name", WALK_NAMES)
def test_back_at_every_step_returns_to_the_previous_question_keeping_every_answer(name: str) -> None:
    stops = drafts_along(name)
    for before, here in zip(stops, stops[1:]):
        back = Chat(turn=here.turn)
        back.send("back")
        assert back.asking == before.asking
        assert back.draft.step == before.draft.step
        assert back.draft.answers == here.draft.answers
        assert back.draft.history == before.draft.history
        assert back.turn.outcome is None


@pytest.mark.parametrize("name", WALK_NAMES)
def test_back_offers_the_kept_answer_and_keep_moves_on_unchanged(name: str) -> None:
    stops = drafts_along(name)
    summary = stops[-1]
    chat = Chat(turn=summary.turn)
    chat.send("back")
    assert "\nYour answer: " in chat.question.text
    assert chat.labels()[-3:] == ["Keep my answer", "Back", "Cancel"]
    chat.send("keep")
    assert chat.asking == "summary"
    assert chat.draft.answers == summary.draft.answers


@pytest.mark.parametrize("name", WALK_NAMES)
def test_cancel_at_every_step_ends_with_a_short_confirmation(name: str) -> None:
    for stop in drafts_along(name):
        turn = stop.send("cancel")
        assert turn.outcome == Cancelled()
        assert [(r.tone, r.text) for r in turn.replies] == [(Tone.DONE, "Cancelled. Nothing was sent.")]


def test_change_something_on_the_summary_goes_back_and_one_answer_can_be_changed() -> None:
    messages, expected = WALKS["misuse by a pupil"]
    chat = Chat()
    chat.send(*messages[:-1])
    chat.send("Change something", "back", "back", "back")
    assert chat.asking == "immediate_risk"
    chat.send("yes")
    # The other answers were kept, so only where the child is now is new, after the warning.
    assert chat.said(Tone.WARNING) and chat.asking == "where_now"
    chat.send("with_me")
    assert chat.asking == "summary"
    outcome = chat.send("send").outcome
    assert isinstance(outcome, Submitted)
    assert outcome.report.details == {**expected.details, "Where the child is now": "With me"}
    assert outcome.report.flags == {"immediate_risk"}


def test_back_from_the_summary_walks_back_through_questions_passed_over() -> None:
    messages, _ = WALKS["misuse by a pupil"]
    chat = Chat()
    chat.send(*messages[:-1])
    chat.send(*["back"] * 9, "pupil")
    assert chat.asking == "summary"
    visited = []
    while chat.draft.history:
        chat.send("back")
        visited.append(chat.asking)
    assert visited == ["evidence", "self_generated_imagery", "illegal", "immediate_risk", "what_happened", "platform",
                       "pupil_year", "pupil", "subject", "category"]


def test_changing_the_category_keeps_answers_that_still_fit_and_asks_the_rest() -> None:
    messages, _ = WALKS["misuse by a pupil"]
    chat = Chat()
    chat.send(*messages[:-1])
    while chat.asking != "category":
        chat.send("back")
    chat.send("colleague_concern")
    # A pupil cannot be a colleague: who it is about is asked; what happened is kept.
    assert chat.asking == "colleague"
    assert "subject" not in chat.draft.answers and "platform" not in chat.draft.answers
    chat.send("u-birch")
    assert chat.asking == "harm_threshold"
    chat.send("no")
    assert chat.asking == "summary"


def test_back_on_the_first_question_says_so_and_changes_nothing() -> None:
    chat = Chat()
    draft = chat.draft
    turn = chat.send("back")
    assert turn.draft is draft
    assert [r.tone for r in turn.replies] == [Tone.ERROR, Tone.QUESTION]
    assert turn.replies[0].text == "This is the first question."


def test_start_again_gives_a_fresh_draft_at_the_first_question() -> None:
    chat = Chat()
    chat.send("misuse", "pupil", "instagram", "back", "back", "back")
    assert chat.asking == "category"
    turn = chat.send("start again")
    assert turn.outcome is None
    assert turn.draft.answers == {} and turn.draft.history == ()
    assert turn.draft.step == "category"
    assert turn.draft.started_at == chat.now and turn.draft.started_at > NOW
    assert chat.asking == "category"
    assert chat.question == start(NOW).replies[-1]
    assert [r.tone for r in turn.replies] == [Tone.DONE, Tone.QUESTION]


@pytest.mark.parametrize("typed", ["Friend or follow request", "friend OR follow   request", "2", "friend_request",
                                   " FRIEND_REQUEST "])
def test_typed_labels_ids_and_numbers_work_as_taps(typed: str) -> None:
    tapped, typing = Chat(), Chat()
    tapped.send("friend_request")
    typing.send(typed)
    assert typing.draft.answers == tapped.draft.answers
    assert typing.asking == "subject"


def test_typed_words_work_at_every_kind_of_step() -> None:
    messages, expected = WALKS["inappropriate content by a member of staff"]
    chat = Chat()
    chat.send("Inappropriate content", "a member of staff", "sam birch", "Today", "https://shop.example/item",
              expected.details["Nature of inappropriate content"], "NO", "2", "No", "SEND")
    assert chat.turn.outcome == Submitted(expected)


def test_numbers_count_the_choices_as_shown() -> None:
    chat = Chat()
    chat.send("3")  # Inappropriate content
    chat.send("1")  # A pupil
    chat.send("1")  # I don't know which pupil
    assert chat.draft.answers["pupil"].shown == "Not known"
    chat.send("2")  # Yesterday
    assert chat.draft.answers["date"].value == "2025-03-13"
    chat.send("2")  # Cancel (the web address question offers Back, Cancel)
    assert chat.turn.outcome == Cancelled()


@pytest.mark.parametrize("word", ["BACK", "Back", " back "])
def test_back_is_a_typed_word_too(word: str) -> None:
    chat = Chat()
    chat.send("misuse", word)
    assert chat.asking == "category"


def test_every_question_but_the_first_offers_back_and_cancel() -> None:
    for name in WALK_NAMES:
        for stop in drafts_along(name)[1:-1]:
            assert stop.labels()[-2:] == ["Back", "Cancel"], (name, stop.asking)


@pytest.mark.parametrize("choices", [CATEGORY_CHOICES, PLATFORMS, THRESHOLD_CHOICES, DISCLOSURE_CHOICES,
                                     SUMMARY_CHOICES, *(c for _, c in SUBJECTS.values())])
def test_button_labels_fit_on_a_phone(choices: tuple[Choice, ...]) -> None:
    assert all(len(c.label) <= 30 for c in choices)


def test_a_typed_word_that_names_one_option_chooses_it() -> None:
    chat = Chat()
    chat.send("friend")
    assert chat.draft.answers["category"].value == "friend_request"
    chat.send("parent")  # "A parent or carer"
    assert chat.draft.answers["subject"].value == "parent"
    chat.send("@jo.marsh", "dont_know")
    chat.send("tik")  # the start of "TikTok"
    assert chat.draft.answers["platform"].value == "tiktok"


@pytest.mark.parametrize("typed", ["a", "in", "request or", "staffroom"])
def test_a_guess_that_fits_no_option_or_several_is_refused(typed: str) -> None:
    chat = Chat()
    chat.send("misuse")
    chat.send(typed)
    assert chat.asking == "subject" and chat.said(Tone.ERROR)


def test_loose_matching_never_steers_a_typed_answer_into_cancel() -> None:
    chat = Chat()
    chat.send("misuse", "pupil", "Ava Stone", "skip", "other")
    chat.send("Can")  # the platform's name, not the start of Cancel
    assert chat.turn.outcome is None
    assert chat.draft.answers["platform_other"].value == "Can"
