"""Whatever a reporter sends, in any order, the conversation never fails and its draft always stores."""

from __future__ import annotations

import json
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.flow import Cancelled, Submitted, Turn, handle, start
from dialogs.prompts import InputKind, Tone
from dialogs.state import Draft
from dialogs.steps import CATEGORY_CHOICES, PLATFORMS, SUBJECTS, THRESHOLD_CHOICES
from tests.builders import staff_directory
from tests.unit.dialog_script import NOW, TODAY

WORDS = [
    "back", "cancel", "start again", "keep", "resume", "skip", "send", "Change something", "yes", "no", "not_sure",
    "today", "yesterday", "31/02/2025", "01/01/2025", "2030-01-01", "https://a.example/x", "a.example",
    "Alex Rowan", "u-birch", "chris lee", "victim", "other_child", "other", "Discord", "",
    *(c.id for c in CATEGORY_CHOICES), *(c.label for c in PLATFORMS), *(c.id for c in THRESHOLD_CHOICES),
    *(c.id for _, choices in SUBJECTS.values() for c in choices),
    *(str(n) for n in range(0, 12)),
]
messages = st.one_of(st.sampled_from(WORDS), st.text(max_size=60), st.text(min_size=990, max_size=1010))


@settings(max_examples=300, deadline=None)
@given(inputs=st.lists(messages, max_size=40))
def test_any_messages_never_fail_and_every_draft_stores(inputs: list[str]) -> None:
    turn = start(NOW)
    now = NOW
    for message in inputs:
        now += timedelta(seconds=20)
        before = turn.draft
        turn = handle(turn.draft, message, now=now, today=TODAY, colleagues=staff_directory())
        stored = Draft.from_dict(json.loads(json.dumps(turn.draft.to_dict())))
        assert stored == turn.draft
        if isinstance(turn.outcome, Submitted):
            assert turn.replies == [] and turn.draft is before
            assert json.dumps(turn.outcome.report.details)
            turn = start(now)
        elif isinstance(turn.outcome, Cancelled):
            assert [r.tone for r in turn.replies] == [Tone.DONE]
            turn = start(now)
        else:
            assert_waiting_on_its_question(turn)
            if turn.replies[0].tone is Tone.ERROR:
                assert turn.draft is before
            # Carry on from the stored copy, as after a restart.
            turn = Turn(stored, turn.replies)


def assert_waiting_on_its_question(turn: Turn) -> None:
    """The last reply asks the draft's current question; every answer kept fits the questions asked."""
    last = turn.replies[-1]
    assert last.field == turn.draft.step.value
    assert last.input is not InputKind.NONE
    ids = [c.id for c in last.choices]
    assert len(ids) == len(set(ids))
    assert ("back" in ids) == (bool(turn.draft.history) or turn.draft.step == "summary")
    assert ("keep" in ids) == (turn.draft.step in turn.draft.answers)
