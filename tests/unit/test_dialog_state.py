"""Drafts survive a restart as plain JSON, refuse what they cannot read, and are reminded once, then expire."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from dialogs import advice
from dialogs.flow import Submitted, resume, start
from dialogs.idle import expired, is_expired, mark_reminded, needs_reminder, reminder
from dialogs.prompts import Tone
from dialogs.state import VERSION, Draft, DraftError
from tests.builders import staff_directory
from tests.unit.dialog_script import NOW, WALKS, Chat


def restarted(draft: Draft) -> Draft:
    """The draft after a trip through the database and a server restart."""
    return Draft.from_dict(json.loads(json.dumps(draft.to_dict())))


@pytest.mark.parametrize("name", sorted(WALKS))
def test_a_draft_restarted_at_any_step_carries_on_to_the_same_report(name: str) -> None:
    messages, expected = WALKS[name]
    for cut in range(len(messages)):
        first = Chat()
        first.send(*messages[:cut])
        loaded = restarted(first.draft)
        assert loaded == first.draft
        carried_on = Chat.resumed(loaded, now=first.now)
        assert resume(loaded, colleagues=staff_directory())[-1] == first.question
        carried_on.send(*messages[cut:])
        assert carried_on.turn.outcome == Submitted(expected)


def test_the_stored_form_is_plain_json_with_a_version() -> None:
    chat = Chat()
    chat.send("inappropriate_content", "pupil", "Casey Example", "Year 6", "yesterday")
    data = chat.draft.to_dict()
    assert data["version"] == VERSION
    assert json.loads(json.dumps(data)) == data
    assert data["step"] == "urls"
    assert json.loads(json.dumps(data["answers"]))["date"] == {"value": "2025-03-13", "shown": "13 March 2025"}
    assert data["history"] == ["category", "subject", "pupil", "pupil_year", "date"]
    assert data["started_at"] == "2025-03-14T09:30:00+00:00" and data["reminded_at"] is None


def good() -> dict[str, object]:
    chat = Chat()
    chat.send("misuse", "pupil")
    return mark_reminded(chat.draft, NOW + timedelta(hours=1)).to_dict()


@pytest.mark.parametrize(("change", "message"), [
    ({"version": 2}, "version 2 is not readable here (this build reads version 1)"),
    ({"version": "1"}, "version: missing or not a whole number"),
    ({"version": True}, "version: missing or not a whole number"),
    ({"version": None}, "version: missing or not a whole number"),
    ({"step": "favourite_colour"}, "step: unknown step 'favourite_colour'"),
    ({"step": 3}, "step: unknown step 3"),
    ({"answers": []}, "answers: expected an object"),
    ({"answers": {"colour": {"value": "x", "shown": "x"}}}, "answers: unknown step 'colour'"),
    ({"answers": {"platform": "instagram"}}, "answers.platform: expected"),
    ({"answers": {"platform": {"value": 1, "shown": "x"}}}, "answers.platform: value and shown must be text"),
    ({"history": "category"}, "history: expected a list of steps"),
    ({"history": ["category", "nowhere"]}, "history: unknown step 'nowhere'"),
    ({"started_at": "yesterday"}, "started_at: 'yesterday' is not a timezone-aware ISO 8601 time"),
    ({"updated_at": "2025-03-14T09:30:00"}, "updated_at: '2025-03-14T09:30:00' is not a timezone-aware"),
    ({"reminded_at": 5}, "reminded_at: expected an ISO 8601 time"),
    ({"extra": 1}, "unknown field(s) extra"),
])
def test_a_malformed_or_unknown_version_draft_is_refused_clearly(change: dict[str, object], message: str) -> None:
    data = {**good(), **change}
    with pytest.raises(DraftError) as caught:
        Draft.from_dict(data)
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("data", [None, [], "draft", {"step": "category"}])
def test_something_that_is_not_a_draft_is_refused(data: object) -> None:
    with pytest.raises(DraftError):
        Draft.from_dict(data)


def test_the_reminded_time_survives_a_restart() -> None:
    data = good()
    assert Draft.from_dict(data).reminded_at == NOW + timedelta(hours=1)


def test_a_draft_left_alone_is_reminded_once_then_expires() -> None:
    draft = start(NOW).draft
    assert not needs_reminder(draft, NOW + timedelta(minutes=29, seconds=59))
    assert needs_reminder(draft, NOW + timedelta(minutes=30))
    draft = mark_reminded(draft, NOW + timedelta(minutes=31))
    assert draft.updated_at == NOW
    for later in (timedelta(minutes=45), timedelta(hours=5), timedelta(hours=23, minutes=59)):
        assert not needs_reminder(draft, NOW + later)
        assert not is_expired(draft, NOW + later)
    assert is_expired(draft, NOW + timedelta(hours=24))
    assert not needs_reminder(draft, NOW + timedelta(hours=24))


def test_an_answer_after_a_reminder_starts_a_new_idle_spell() -> None:
    chat = Chat()
    chat.send("misuse")
    reminded = mark_reminded(chat.draft, chat.now + timedelta(minutes=30))
    carried_on = Chat.resumed(reminded, now=chat.now + timedelta(minutes=40))
    carried_on.send("pupil")
    answered = carried_on.now
    assert not needs_reminder(carried_on.draft, answered + timedelta(minutes=29))
    assert needs_reminder(carried_on.draft, answered + timedelta(minutes=30))


def test_a_draft_never_reminded_expires_without_a_reminder_due() -> None:
    draft = start(NOW).draft
    assert is_expired(draft, NOW + timedelta(days=2))
    assert not needs_reminder(draft, NOW + timedelta(days=2))


def test_the_reminder_offers_carry_on_which_reshows_the_question() -> None:
    nudge = reminder()
    assert [c.label for c in nudge.choices] == ["Carry on", "Cancel"]
    chat = Chat()
    chat.send("pupil_disclosure", "no", "victim", "Mia Hart", "skip")
    question = chat.question
    later = Chat.resumed(chat.draft, now=chat.now + timedelta(minutes=35))
    turn = later.send(nudge.choices[0].id)
    assert turn.replies == [advice.disclosure_reminder(), question]
    assert turn.draft.answers == chat.draft.answers and turn.draft.step == chat.draft.step
    assert turn.draft.updated_at == later.now


def test_resume_reshows_the_current_question_with_what_comes_before_it() -> None:
    chat = Chat()
    chat.send("pupil_disclosure", "no", "victim")
    assert resume(chat.draft) == chat.turn.replies


def test_the_reminder_and_expiry_texts_are_short() -> None:
    assert reminder().tone is Tone.QUESTION and len(reminder().text) < 100
    assert expired().tone is Tone.DONE and "Nothing was sent" in expired().text
