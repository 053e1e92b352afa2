"""Every category walked from the first question to Send, with the exact report it produces."""

from __future__ import annotations

import pytest

from dialogs import advice
from dialogs.flow import Submitted
from dialogs.prompts import InputKind, Tone
from routing.vocabulary import CATEGORY_LABELS, FLAG_LABELS, Category, Flag, Subject
from tests.unit.dialog_script import CONCERN_WORDS, WALKS, Chat


@pytest.mark.parametrize("name", sorted(WALKS))
def test_a_walk_to_send_produces_the_report(name: str) -> None:
    messages, expected = WALKS[name]
    chat = Chat()
    chat.send(*messages[:-1])
    assert chat.asking == "summary"
    turn = chat.send(messages[-1])
    assert turn.outcome == Submitted(expected)
    # Nothing says "sent" yet: the caller stores the report first (DESIGN rule 4).
    assert turn.replies == []
    assert turn.draft.step == "summary"


def test_the_questions_asked_for_a_friend_request() -> None:
    chat = Chat()
    asked = [chat.asking]
    for message in ("friend_request", "pupil", "@ava.s", "Ava Stone", "Year 5", "snapchat", "no", "no", "none"):
        chat.send(message)
        asked.append(chat.asking)
    # No imagery question: a friend request is not imagery a pupil took of themselves.
    assert asked == ["category", "subject", "account", "pupil", "pupil_year", "platform", "immediate_risk", "illegal",
                     "evidence", "summary"]


def test_the_first_question_offers_every_category_and_cancel_but_no_back() -> None:
    chat = Chat()
    assert chat.question.input is InputKind.CHOICE
    assert chat.question.tone is Tone.QUESTION
    assert [c.id for c in chat.question.choices] == [*(c.value for c in Category), "cancel"]


def test_who_a_misuse_report_is_about() -> None:
    chat = Chat()
    chat.send("misuse")
    assert chat.labels() == ["A pupil", "A parent or carer", "A member of staff", "Someone else", "Don't know",
                             "Back", "Cancel"]


def test_a_member_of_staff_is_picked_from_the_directory() -> None:
    chat = Chat()
    chat.send("misuse", "staff")
    assert chat.question.input is InputKind.PERSON
    assert chat.labels() == ["Alex Rowan", "Sam Birch", "Jo Hartley", "Chris Lee", "Chris Lee", "Back", "Cancel"]


def test_friend_request_advice_follows_the_platform() -> None:
    chat = Chat()
    chat.send("friend_request", "pupil", "@ava.s", "dont_know", "instagram")
    assert chat.said(Tone.ADVICE) == [advice.FRIEND_REQUEST]
    assert chat.asking == "immediate_risk"


def test_friend_request_advice_waits_for_an_other_platform_to_be_named() -> None:
    chat = Chat()
    chat.send("friend_request", "parent", "@jo.marsh", "dont_know", "other")
    assert chat.said(Tone.ADVICE) == []
    chat.send("Discord")
    assert chat.said(Tone.ADVICE) == [advice.FRIEND_REQUEST]


def test_misuse_on_a_platform_gives_no_friend_request_advice() -> None:
    chat = Chat()
    chat.send("misuse", "parent", "dont_know", "facebook")
    assert chat.said(Tone.ADVICE) == []


def test_school_device_advice_only_on_a_school_device() -> None:
    chat = Chat()
    chat.send("inappropriate_content", "unknown", "today", "https://a.example", "A gambling site.")
    assert chat.asking == "school_device"
    chat.send("yes")
    assert chat.said(Tone.ADVICE) == [advice.SCHOOL_DEVICE]
    assert "online safety officer" in advice.SCHOOL_DEVICE
    chat.send("back", "no")
    assert chat.said(Tone.ADVICE) == []


def test_the_disclosure_reminder_comes_before_the_childs_words_are_asked_for() -> None:
    chat = Chat()
    chat.send("pupil_disclosure", "no", "victim", "Mia Hart", "skip")
    tones = [r.tone for r in chat.turn.replies]
    assert tones == [Tone.ADVICE, Tone.QUESTION]
    assert chat.said(Tone.ADVICE) == [advice.DISCLOSURE]
    assert "confidentiality" in advice.DISCLOSURE and "as they said them" in advice.DISCLOSURE
    assert chat.asking == "child_words"


def test_the_childs_words_are_kept_as_typed_inside() -> None:
    words = "  He said:\n'don't tell'  \n"
    chat = Chat()
    chat.send("pupil_disclosure", "no", "other_child", "Leo Marsh", "skip", "dont_know", words)
    assert chat.draft.answers["child_words"].value == "He said:\n'don't tell'"


def test_immediate_risk_gives_the_999_warning_in_the_same_turn() -> None:
    chat = Chat()
    chat.send("friend_request", "pupil", "@ava.s", "dont_know", "whatsapp")
    chat.send("yes")
    assert [r.tone for r in chat.turn.replies] == [Tone.WARNING, Tone.QUESTION]
    assert chat.said(Tone.WARNING) == [
        "If a child is in immediate danger, call 999 now, then follow your school's emergency procedure."
    ]
    # A pupil is involved and may be at risk: where are they now?
    assert chat.asking == "where_now"


def test_no_immediate_risk_gives_no_warning() -> None:
    chat = Chat()
    chat.send("friend_request", "pupil", "@ava.s", "dont_know", "whatsapp", "no")
    assert chat.said(Tone.WARNING) == []


def test_not_sure_about_the_harm_threshold_is_recorded_as_a_possible_allegation() -> None:
    chat = Chat()
    chat.send("colleague_concern", "u-rowan", CONCERN_WORDS)
    assert chat.question.text.startswith("Might this meet the harm threshold")
    assert chat.labels()[:3] == ["Yes", "No", "Not sure"]
    chat.send("not_sure")
    assert chat.said(Tone.ADVICE) == [advice.THRESHOLD_NOT_SURE]
    assert "DSL or headteacher will decide" in advice.THRESHOLD_NOT_SURE
    chat.send("no", "no")
    assert "Handled as: a possible allegation" in chat.question.text
    report = chat.send("send").outcome
    assert isinstance(report, Submitted)
    assert report.report.allegation is True
    assert report.report.details["Might meet the harm threshold"] == "Not sure"


def test_the_summary_lists_everything_in_plain_words() -> None:
    chat = Chat()
    chat.send("inappropriate_content", "pupil", "dont_know", "yesterday", "https://a.example/x", "A gambling site.",
              "yes", "yes", "unknown", "no", "no")
    summary = chat.question
    assert summary.tone is Tone.SUMMARY and summary.input is InputKind.CONFIRM
    assert [c.label for c in summary.choices] == ["Send", "Change something", "Cancel"]
    assert summary.text.split("\n") == [
        "Please check your report:",
        CATEGORY_LABELS[Category.INAPPROPRIATE_CONTENT],
        "Accessed by: A pupil",
        "Name of individual accessing the content: Not known",
        "Date: 13 March 2025",
        "Full URL(s): https://a.example/x",
        "Nature of inappropriate content: A gambling site.",
        "On a school device or network: Yes",
        "Where the child is now: Don't know",
        f"Flagged: {FLAG_LABELS[Flag.IMMEDIATE_RISK]}; {FLAG_LABELS[Flag.SCHOOL_DEVICE]}",
    ]


def test_the_summary_names_the_colleague_once_and_says_how_it_is_handled() -> None:
    chat = Chat()
    chat.send("colleague_concern", "u-hartley", CONCERN_WORDS, "no", "no", "no")
    lines = chat.question.text.split("\n")
    assert "About: Jo Hartley (member of staff)" in lines
    assert not any(line.startswith("Member of staff:") for line in lines)
    assert "Handled as: a low-level concern" in lines
    assert lines[-1] == "Flagged: nothing"


def test_the_summary_shows_each_answer_whole_as_it_will_be_sent() -> None:
    # A reporter who pasted several links checks every one of them before pressing Send.
    links = " ".join(f"https://chat.example/thread/{n:04d}" for n in range(30))
    words = (links + " " + "word " * 200)[:1000].strip()
    chat = Chat()
    chat.send("pupil_disclosure", "no", "victim", "Mia Hart", "skip", words, "no", "gone_home", "no", "no")
    assert f"The child's words: {words}" in chat.question.text.split("\n")
    outcome = chat.send("send").outcome
    assert isinstance(outcome, Submitted)
    assert outcome.report.details["The child's words"] == words


def test_a_report_about_the_headteacher_routes_as_one_once_roles_are_known() -> None:
    messages, expected = WALKS["colleague concern meeting the harm threshold"]
    report = expected.routing_report(person_roles=["headteacher"])
    assert report.subject is Subject.HEADTEACHER and report.subject_person == "u-hartley"
    assert expected.routing_report().subject is Subject.STAFF

