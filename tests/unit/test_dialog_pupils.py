"""Which pupil: typed without a roster; with one, part of a name, then a pick from the matches."""

from __future__ import annotations

import json
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.flow import Cancelled, Submitted, Turn, handle, start
from dialogs.prompts import InputKind, Tone
from dialogs.report import NamedPupil, Pupil, PupilRole
from dialogs.state import Draft
from tests.builders import staff_directory
from tests.unit.dialog_script import CHILD_WORDS, NOW, ROSTER, TODAY, Chat
from tests.unit.test_dialog_properties import assert_waiting_on_its_question


def disclosure(*more: str) -> Chat:
    chat = Chat(pupils=ROSTER)
    chat.send("pupil_disclosure", "no", "victim", *more)
    return chat


def test_with_a_roster_part_of_a_name_offers_the_pupils_it_matches() -> None:
    chat = disclosure()
    assert chat.asking == "pupil"
    assert chat.question.text == "Which child told you? Type part of their name to find them."
    assert chat.question.input is InputKind.TEXT
    chat.send("ava")
    assert chat.asking == "pupil_pick"
    assert chat.labels() == ["Ava Stone (Year 5)", "Ava Stoneley (Year 6)", "Not on the list", "Search again",
                             "Cancel"]
    chat.send("Ava Stone (Year 5)")
    assert chat.asking == "child_words"


def test_the_pupil_picked_from_the_roster_is_named_in_the_report_with_its_id() -> None:
    chat = disclosure("stone 5", "1", CHILD_WORDS, "no", "in_class", "no", "no")
    assert "About: Ava Stone (Year 5)" in chat.question.text.split("\n")
    assert "Where the child is now: In class" in chat.question.text.split("\n")
    outcome = chat.send("send").outcome
    assert isinstance(outcome, Submitted)
    assert outcome.report.pupils == (NamedPupil(PupilRole.CHILD, "Ava Stone", "Year 5", "1"),)
    assert outcome.report.details["Child"] == "Ava Stone (Year 5)"


def test_search_again_goes_back_to_the_search_and_a_new_search_asks_the_pick_again() -> None:
    chat = disclosure("ava", "1")
    chat.send("back")  # from the child's words to the pick
    assert chat.asking == "pupil_pick"
    chat.send("Search again")
    assert chat.asking == "pupil" and "Your answer: ava" in chat.question.text
    chat.send("marsh")
    # Ava is not among Marsh's matches: the pick is asked again, with Leo.
    assert chat.asking == "pupil_pick"
    assert chat.labels()[0] == "Leo Marsh (Year 3)"
    chat.send("1")
    assert chat.draft.answers["pupil_pick"].shown == "Leo Marsh (Year 3)"


def test_not_on_the_list_keeps_the_typed_name_and_asks_the_year() -> None:
    chat = disclosure("Zara Quill")
    assert chat.asking == "pupil_pick"
    assert chat.question.text.startswith("No pupil on the roster matches 'Zara Quill'.")
    assert chat.labels() == ["Not on the list", "Search again", "Cancel"]
    chat.send("Not on the list")
    assert chat.asking == "pupil_year"
    assert chat.question.text == "Which year group or class is Zara Quill in? Type it, or Skip."
    chat.send("4H", CHILD_WORDS, "no", "with_me", "no", "no")
    outcome = chat.send("send").outcome
    assert isinstance(outcome, Submitted)
    assert outcome.report.pupils == (NamedPupil(PupilRole.CHILD, "Zara Quill", "4H"),)


def test_many_matches_offer_eight_and_say_to_narrow_the_search() -> None:
    roster = tuple(Pupil(str(n), f"Sam Pupil{n:02d}", "Year 1") for n in range(12))
    chat = Chat(pupils=roster)
    chat.send("pupil_disclosure", "no", "victim", "sam")
    assert len(chat.labels()) == 8 + 3  # eight pupils, Not on the list, Search again, Cancel
    assert "Showing the first 8 of 12" in chat.question.text


def test_without_a_roster_the_name_is_typed_and_the_year_may_be_skipped() -> None:
    chat = Chat()
    chat.send("pupil_disclosure", "no", "victim")
    assert chat.question.text == "Which child told you? Type their name."
    assert "I don't know" not in chat.labels()  # the reporter knows who told them
    chat.send("Mia Hart")
    assert chat.asking == "pupil_year"
    chat.send("skip")
    assert chat.asking == "child_words"


def test_content_seen_on_a_shared_screen_may_be_by_a_pupil_nobody_knows() -> None:
    chat = Chat(pupils=ROSTER)
    chat.send("inappropriate_content", "pupil")
    assert chat.question.text == "Which pupil accessed it? Type part of their name to find them."
    assert "I don't know" in chat.labels()
    chat.send("I don't know")
    assert chat.asking == "date"


def test_a_disclosure_about_another_child_asks_for_both_children() -> None:
    chat = Chat(pupils=ROSTER)
    chat.send("pupil_disclosure", "no", "other_child")
    assert chat.question.text.startswith("Which child told you?")
    chat.send("leo", "1")
    assert chat.question.text.startswith("Which child is it about, if you know?")
    chat.send("mia", "1", CHILD_WORDS, "yes")
    assert chat.question.text == "Where is Mia Hart now?"
    chat.send("gone_home", "no", "no")
    assert "Told by: Leo Marsh (Year 3)" in chat.question.text.split("\n")
    outcome = chat.send("send").outcome
    assert isinstance(outcome, Submitted)
    assert outcome.report.pupils == (NamedPupil(PupilRole.TOLD_BY, "Leo Marsh", "Year 3", "2"),
                                     NamedPupil(PupilRole.CHILD, "Mia Hart", "Year 4", "3"))


def test_a_friend_request_asks_for_the_account_and_whose_it_is() -> None:
    chat = Chat(pupils=ROSTER)
    chat.send("friend_request", "pupil")
    assert chat.question.text == "What is the account's name or handle?"
    chat.send("@ava.s")
    assert chat.question.text.startswith("Whose account is it, if you know?")
    chat.send("ava", "1", "snapchat", "no", "no", "none")
    outcome = chat.send("send").outcome
    assert isinstance(outcome, Submitted)
    assert outcome.report.details["Account name or handle"] == "@ava.s"
    assert outcome.report.pupils == (NamedPupil(PupilRole.ACCOUNT_OF, "Ava Stone", "Year 5", "1"),)


def test_a_report_about_a_parent_asks_which_childs_parent() -> None:
    chat = Chat(pupils=ROSTER)
    chat.send("misuse", "parent")
    assert chat.question.text.startswith("Which pupil's parent or carer is it, if you know?")
    chat.send("hart", "1")
    assert chat.draft.answers["pupil_pick"].value == "p3"


def test_where_the_child_is_is_asked_only_when_a_child_is_in_it_and_at_risk() -> None:
    chat = Chat()
    chat.send("colleague_concern", "u-rowan", "Words.", "no", "yes")
    assert chat.asking == "illegal"  # no pupil named: nobody to ask about
    chat = Chat(pupils=ROSTER)
    chat.send("misuse", "pupil", "leo", "1", "tiktok", "Words.", "no")
    assert chat.asking == "illegal"
    chat.send("back", "yes")
    assert chat.asking == "where_now"
    assert chat.labels()[:4] == ["With me", "In class", "Gone home", "Don't know"]


WORDS = ["ava", "stone", "1", "2", "9", "Not on the list", "Search again", "I don't know", "skip", "Year 5",
         "pupil_disclosure", "victim", "other_child", "misuse", "pupil", "parent", "friend_request", "yes", "no",
         "with_me", "back", "keep", "send", "cancel", "instagram", "words"]


@settings(max_examples=200, deadline=None)
@given(inputs=st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=30)), max_size=40))
def test_with_a_roster_any_messages_never_fail_and_every_draft_stores(inputs: list[str]) -> None:
    turn = start(NOW)
    now = NOW
    for message in inputs:
        now += timedelta(seconds=20)
        turn = handle(turn.draft, message, now=now, today=TODAY, colleagues=staff_directory(), pupils=ROSTER)
        stored = Draft.from_dict(json.loads(json.dumps(turn.draft.to_dict())))
        assert stored == turn.draft
        if isinstance(turn.outcome, Submitted):
            assert all(p.name for p in turn.outcome.report.pupils)
            turn = start(now)
        elif isinstance(turn.outcome, Cancelled):
            turn = start(now)
        else:
            assert_waiting_on_its_question(turn)
            if turn.replies[0].tone is Tone.ERROR:
                assert turn.replies[-1].field == turn.draft.step.value
            turn = Turn(stored, turn.replies)
