"""Send without my name, in the conversation alone: where it is offered, and the one line where it is not."""

from __future__ import annotations

from dialogs.anonymity import ABOUT_YOURSELF, AT_THE_END, DISCLOSURE, NOT_SET_UP, OFFERED, ONLY_STAFF
from dialogs.flow import Submitted
from dialogs.prompts import Tone
from tests.unit.dialog_script import Chat

CONCERN = ("Concern about a colleague", "Jo Hartley", "Made-up: late-night messages to pupils", "No", "No", "No")
MISUSE_BY_STAFF = ("Social media misuse", "A member of staff", "Jo Hartley", "Instagram", "Made-up post", "No", "No",
                   "No", "No screenshots")


def labels(chat: Chat) -> list[str]:
    return [choice.label for choice in chat.question.choices]


def test_a_concern_about_staff_offers_it_at_the_summary_and_sends_it_so() -> None:
    for answers in (CONCERN, MISUSE_BY_STAFF):
        chat = Chat(anonymous_ok=True)
        chat.send(*answers)
        assert labels(chat) == ["Send", "Send without my name", "Change something", "Cancel"], answers
        assert OFFERED in chat.question.text
        outcome = chat.send("Send without my name").outcome
        assert isinstance(outcome, Submitted) and outcome.anonymous
    typed = Chat(anonymous_ok=True)
    typed.send(*CONCERN)
    outcome = typed.send("anonymously").outcome
    assert isinstance(outcome, Submitted) and outcome.anonymous
    named = Chat(anonymous_ok=True)
    named.send(*CONCERN)
    outcome = named.send("Send").outcome
    assert isinstance(outcome, Submitted) and not outcome.anonymous


def test_it_is_asked_for_in_one_line_where_it_cannot_be() -> None:
    chat = Chat(anonymous_ok=True)
    chat.send("anonymous")
    assert chat.said(Tone.ERROR) == [ONLY_STAFF] and chat.asking == "category"
    chat.send("Concern about a colleague", "Jo Hartley", "Made-up")
    chat.send("without my name")  # at the harm-threshold question
    assert chat.said(Tone.ERROR) == [AT_THE_END] and chat.asking == "harm_threshold"
    disclosure = Chat(anonymous_ok=True)
    disclosure.send("Pupil disclosure", "No", "The child is the victim", "Mia Hart", "Skip", "Made-up words", "No",
                    "In class", "No", "No")
    assert "Send without my name" not in labels(disclosure)
    disclosure.send("Send without my name")
    assert disclosure.said(Tone.ERROR) == [DISCLOSURE] and disclosure.turn.outcome is None
    friend = Chat(anonymous_ok=True)
    friend.send("Friend or follow request", "A parent or carer", "made_up_handle", "Skip", "Facebook", "No", "No",
                "No screenshots")
    assert "Send without my name" not in labels(friend)
    friend.send("Send without my name")
    assert friend.said(Tone.ERROR) == [ONLY_STAFF]


def test_without_a_relay_key_the_summary_says_why_and_offers_send_alone() -> None:
    chat = Chat()
    chat.send(*CONCERN)
    assert labels(chat) == ["Send", "Change something", "Cancel"] and NOT_SET_UP in chat.question.text
    chat.send("send without my name")
    assert chat.said(Tone.ERROR) == [NOT_SET_UP] and chat.turn.outcome is None


def test_something_about_myself_always_goes_with_a_name() -> None:
    chat = Chat(anonymous_ok=True)
    chat.send("Something about myself", "anonymous")
    assert chat.said(Tone.ERROR) == [ABOUT_YOURSELF] and "Send without my name" not in labels(chat)
