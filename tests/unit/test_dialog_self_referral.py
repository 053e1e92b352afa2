"""Something about myself: a short dialog, about the reporter, said at once to carry their name."""

from __future__ import annotations

from pathlib import Path

from dialogs import advice
from dialogs.prompts import Tone
from dialogs.summary import build_report
from dialogs.progress import walk
from dialogs.report import ReportDraft
from routing.vocabulary import Category, Subject
from tests.unit.dialog_script import DID_WORDS, ROSTER, SELF_WORDS, Chat


def test_it_is_offered_among_the_report_kinds() -> None:
    chat = Chat()
    assert "Something about myself" in chat.labels()
    chat.send("Something about myself")
    assert chat.asking == "pupil_involved"


def test_the_questions_asked_skip_who_it_is_about() -> None:
    chat = Chat()
    asked = [chat.asking]
    for message in ("self_referral", "yes", "Ava Stone", "Year 5", "yesterday", "instagram", SELF_WORDS, DID_WORDS,
                    "skip", "no"):
        chat.send(message)
        asked.append(chat.asking)
    # Not who it is about (the reporter), the harm threshold, "illegal", imagery or screenshots; the
    # one question every report asks, whether a child is at immediate risk, stays.
    assert asked == ["category", "pupil_involved", "pupil", "pupil_year", "date", "platform", "what_happened",
                     "what_i_did", "anything_else", "immediate_risk", "summary"]


def test_no_pupil_skips_which_pupil() -> None:
    chat = Chat()
    chat.send("self_referral", "no")
    assert chat.asking == "date"
    assert chat.question.text == "When did it happen?"


def test_a_pupil_is_picked_from_the_roster_where_there_is_one() -> None:
    chat = Chat(pupils=ROSTER)
    chat.send("self_referral", "yes", "ava")
    assert chat.asking == "pupil_pick"
    chat.send("Ava Stone (Year 5)")
    assert chat.asking == "date"


def test_the_reporter_is_told_at_once_it_carries_their_name() -> None:
    chat = Chat()
    chat.send("self_referral")
    assert chat.said(Tone.ADVICE) == [advice.SELF_REFERRAL]
    assert "never anonymously" in advice.SELF_REFERRAL and "never to you" in advice.SELF_REFERRAL
    chat = Chat()
    chat.send("misuse")
    assert chat.said(Tone.ADVICE) == []


def test_the_summary_says_it_is_about_the_reporter_and_offers_no_anonymity() -> None:
    chat = Chat()
    chat.send("self_referral", "no", "today", "instagram", SELF_WORDS, DID_WORDS, "skip", "no")
    lines = chat.question.text.split("\n")
    assert lines[:3] == ["Please check your report:", "Something about myself: a self-referral by a member of staff",
                         "About: You (a self-referral, sent with your name)"]
    assert [c.label for c in chat.question.choices] == ["Send", "Change something", "Cancel"]


def test_send_names_the_reporter_as_the_person_it_is_about() -> None:
    chat = Chat()
    chat.send("self_referral", "no", "today", "instagram", SELF_WORDS, DID_WORDS, "skip", "no")
    _, ctx = walk(chat.draft.answers, chat.colleagues, chat.today)
    drafted = build_report(ctx)
    assert (drafted.subject, drafted.subject_person) == (Subject.STAFF, None)  # the dialog cannot know who
    sent = drafted.by("u-rowan")
    assert (sent.category, sent.subject, sent.subject_person) == (Category.SELF_REFERRAL, Subject.STAFF, "u-rowan")
    # Any other report is left as it was made: a concern about a colleague stays about that colleague.
    concern = ReportDraft(Category.COLLEAGUE_CONCERN, Subject.STAFF, "u-rowan")
    assert concern.by("u-birch") == concern


def test_the_readme_quotes_the_advice_as_given() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Something about myself: self-referral", 1)[1].split("\n#", 1)[0]
    quoted = " ".join(line[2:] for line in section.splitlines() if line.startswith("> "))
    assert quoted == advice.SELF_REFERRAL
