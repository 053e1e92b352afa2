"""Reporting cyberbullying: who is bullied, by whom, where, and the advice given at once."""

from __future__ import annotations

from pathlib import Path

from dialogs import advice
from dialogs.prompts import Tone
from tests.unit.dialog_script import BULLYING_WORDS, PARENT_WORDS, Chat


def test_the_questions_asked_for_a_pupil_bullied_by_pupils() -> None:
    chat = Chat()
    asked = [chat.asking]
    for message in ("cyberbullying", "pupil", "pupil", "Ava Stone", "Year 4", "dont_know", "snapchat", BULLYING_WORDS,
                    "no", "no"):
        chat.send(message)
        asked.append(chat.asking)
    # Which pupil is bullied, and which pupil is doing it (if the reporter knows).
    assert asked == ["category", "target", "subject", "pupil", "pupil_year", "other_pupil", "platform",
                     "what_happened", "immediate_risk", "illegal", "self_generated_imagery"]


def test_who_is_bullied_and_who_is_doing_it_are_offered() -> None:
    chat = Chat()
    chat.send("cyberbullying")
    assert chat.question.text == "Who is being bullied?"
    assert chat.labels() == ["A pupil", "A member of staff", "The school", "Back", "Cancel"]
    chat.send("The school")
    assert chat.question.text == "Who is doing the bullying?"
    assert chat.labels() == ["Pupils", "A parent or carer", "A member of staff", "Someone outside the school",
                             "Don't know", "Back", "Cancel"]


def test_the_advice_comes_as_soon_as_it_is_known_who_is_bullied() -> None:
    chat = Chat()
    chat.send("cyberbullying", "pupil")
    tips = chat.said(Tone.ADVICE)
    assert tips == [advice.CYBERBULLYING]
    for words in ("Do not reply or retaliate", "take a screenshot", "unless it is a nude or sexual image of a child",
                  "do not screenshot, copy or forward it, and tell the DSL", "block it on the platform", "call 999"):
        assert words in tips[0]
    assert "Professionals Online Safety Helpline" not in tips[0]
    assert chat.asking == "subject"


def test_a_member_of_staff_being_bullied_is_pointed_to_their_helpline() -> None:
    chat = Chat()
    chat.send("cyberbullying", "staff")
    [tip] = chat.said(Tone.ADVICE)
    assert tip.startswith(advice.CYBERBULLYING)
    assert "Professionals Online Safety Helpline (0344 381 4772" in tip


def test_the_summary_says_who_is_bullied_and_by_whom() -> None:
    chat = Chat()
    chat.send("cyberbullying", "staff", "parent", "Leo Marsh", "Year 3", "facebook", PARENT_WORDS, "no", "no", "none")
    assert chat.asking == "summary"
    lines = chat.question.text.split("\n")
    assert lines[1:6] == ["Cyberbullying of a pupil, a member of staff or the school", "By: A parent or carer",
                          "Who is being bullied: A member of staff", "Parent or carer of: Leo Marsh (Year 3)",
                          "Platform: Facebook"]


def test_bullying_by_a_member_of_staff_asks_the_harm_threshold() -> None:
    chat = Chat()
    chat.send("cyberbullying", "staff", "staff", "Jo Hartley", "x", PARENT_WORDS)
    assert chat.asking == "harm_threshold"


def test_the_readme_quotes_the_advice_as_given() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Reporting cyberbullying", 1)[1].split("\n#", 1)[0]
    quoted = " ".join(line[2:] for line in section.splitlines() if line.startswith("> "))
    assert quoted == advice.CYBERBULLYING
