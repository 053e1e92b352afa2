"""Adaptive Cards from neutral replies: literal text, the right control per question, and Teams' size limit."""

from __future__ import annotations

import json
from typing import Any

from bot.cases.messages import ACKNOWLEDGE, ADD_NOTE, RECORD_ACTION, VIEW, Alert
from bot.channels.teams.cards import CARD_CHARS, MENU_PEOPLE, alert_card, render, text_of
from dialogs import Choice, InputKind, Reply, Tone
from dialogs.prompts import BACK, CANCEL
from tests.teams.fake_connector import nodes


def walk(card: Any, kind: str) -> list[dict[str, Any]]:
    return nodes(card, (kind,))


def test_text_is_shown_literally_one_run_per_line() -> None:
    [card] = render([Reply("Check [this](https://example.org) **now**\n<at>everyone</at>", tone=Tone.SUMMARY)])
    runs = walk(card, "TextRun")
    assert [r["text"] for r in runs] == ["Check [this](https://example.org) **now**", "<at>everyone</at>"]
    assert walk(card, "TextBlock") == [], "TextBlock would read markdown; TextRun never does"


def test_choices_are_buttons_and_back_and_cancel_share_a_row() -> None:
    reply = Reply("Might it be illegal?", input=InputKind.CHOICE, field="illegal",
                  choices=(Choice("yes", "Yes"), Choice("no", "No"), BACK, CANCEL))
    [card] = render([reply])
    rows = [[a["title"] for a in s["actions"]] for s in walk(card, "ActionSet")]
    assert rows == [["Yes"], ["No"], ["Back", "Cancel"]]
    yes = walk(card, "Action.Submit")[0]
    assert yes["data"] == {"safeguard": "answer", "field": "illegal", "choice": "yes", "label": "Yes"}


def test_a_text_question_has_a_box_and_back_does_not_need_it_filled() -> None:
    reply = Reply("What happened?", input=InputKind.TEXT, field="what_happened", max_length=1000,
                  choices=(BACK, CANCEL))
    [card] = render([reply])
    [box] = walk(card, "Input.Text")
    assert (box["id"], box["maxLength"], box["isMultiline"], box["isRequired"]) == ("answer", 1000, True, True)
    submits = {a["title"]: a for a in walk(card, "Action.Submit")}
    assert "associatedInputs" not in submits["Next"] and submits["Back"]["associatedInputs"] == "none"


def test_a_date_question_has_a_date_picker_as_well_as_today_and_yesterday() -> None:
    reply = Reply("When?", input=InputKind.DATE, field="date",
                  choices=(Choice("today", "Today"), Choice("yesterday", "Yesterday"), BACK, CANCEL))
    [card] = render([reply])
    assert [i["type"] for i in walk(card, "Input.")] == ["Input.Date"]
    assert [a["title"] for a in walk(card, "Action.Submit")] == ["Next", "Today", "Yesterday", "Back", "Cancel"]


def test_a_very_large_staff_is_typed_not_listed() -> None:
    people = tuple(Choice(f"p{n}", f"Test Person {n}") for n in range(MENU_PEOPLE + 1))
    [card] = render([Reply("Who?", input=InputKind.PERSON, field="colleague", choices=(*people, BACK, CANCEL))])
    assert [i["type"] for i in walk(card, "Input.")] == ["Input.Text"]
    assert len(json.dumps(card)) < CARD_CHARS


def test_a_long_text_runs_over_several_cards_each_under_teams_limit() -> None:
    long = "\n".join(f"Note by Test Person A at 09:{n % 60:02d}: " + "made-up words " * 30 for n in range(200))
    cards = render([Reply(long, tone=Tone.SUMMARY)])
    assert len(cards) > 1
    assert all(len(json.dumps(card)) < 28_000 for card in cards)
    assert text_of(cards) == long


def test_an_alert_has_its_buttons_and_a_note_box_under_add_note() -> None:
    alert = Alert("SG-2026-0007", "URGENT: New report SG-2026-0007\nLine two",
                  (ACKNOWLEDGE, ADD_NOTE, RECORD_ACTION, VIEW), urgent=True, preview="Safeguard: a new report")
    card = alert_card(alert)
    assert [a["title"] for a in walk(card, "Action.")] == [
        "Acknowledge", "Add note", "Save", "Record action", "Save", "View log"]
    assert [i["id"] for i in walk(card, "Input.Text")] == ["note_text", "action_text"]
    assert card["body"][0]["style"] == "attention"
    only_view = Alert("SG-2026-0007", "New report SG-2026-0007", (VIEW,), urgent=False, preview="Safeguard: a report")
    assert [a["title"] for a in walk(alert_card(only_view), "Action.")] == ["View log"]
