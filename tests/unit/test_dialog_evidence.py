"""The screenshots step: offered where a screenshot is the evidence, counted, and never where it may be indecent."""

from __future__ import annotations

from pathlib import Path

from dialogs import evidence
from dialogs.advice import INDECENT_IMAGE
from dialogs.evidence import MAX_SCREENSHOTS, ImageVerdict, image_arrives
from dialogs.flow import Submitted, Turn, attached
from dialogs.prompts import Tone
from dialogs.state import Draft, Evidence
from tests.unit.dialog_script import MISUSE_WORDS, Chat

TO_SCREENSHOTS = ("misuse", "pupil", "Ava Stone", "skip", "instagram", MISUSE_WORDS, "no", "no", "no")


def attach(chat: Chat) -> None:
    """A screenshot the channel fetched and the bot stored: the dialog only counts it."""
    assert image_arrives(chat.draft) is ImageVerdict.TAKE
    chat.turn = attached(chat.draft, now=chat.now, colleagues=chat.colleagues)


def test_the_screenshots_step_comes_after_the_imagery_question_and_counts_what_is_sent() -> None:
    chat = Chat()
    chat.send(*TO_SCREENSHOTS)
    assert chat.asking == "evidence"
    assert "Send any screenshots now" in chat.question.text and f"up to {MAX_SCREENSHOTS}" in chat.question.text
    assert chat.labels()[:2] == ["No screenshots", "It may be an indecent image of a child"]
    attach(chat)
    attach(chat)
    assert chat.said(Tone.DONE) == ["Screenshot 2 received."]
    assert chat.labels()[0] == "Done"
    chat.send("done")
    assert chat.asking == "summary"
    assert "Screenshots: 2" in chat.question.text.split("\n")
    outcome = chat.send("send").outcome
    assert isinstance(outcome, Submitted) and outcome.report.screenshots == 2


def test_no_screenshots_is_said_on_the_summary_and_sends_none() -> None:
    chat = Chat()
    chat.send(*TO_SCREENSHOTS, "No screenshots")
    assert "Screenshots: none" in chat.question.text.split("\n")
    outcome = chat.send("send").outcome
    assert isinstance(outcome, Submitted) and outcome.report.screenshots == 0


def test_a_fourth_screenshot_is_not_taken() -> None:
    chat = Chat()
    chat.send(*TO_SCREENSHOTS)
    for _ in range(MAX_SCREENSHOTS):
        attach(chat)
    assert image_arrives(chat.draft) is ImageVerdict.FULL
    assert chat.labels()[0] == "Done"


def test_a_file_at_any_other_step_is_not_for_now() -> None:
    chat = Chat()
    assert image_arrives(None) is ImageVerdict.NOT_NOW
    chat.send("misuse", "pupil")
    assert image_arrives(chat.draft) is ImageVerdict.NOT_NOW
    chat.send("Ava Stone", "skip", "instagram", MISUSE_WORDS, "no", "no", "no", "none")
    assert chat.asking == "summary" and image_arrives(chat.draft) is ImageVerdict.NOT_NOW


def test_imagery_a_pupil_took_of_themselves_gets_the_advice_and_no_screenshots_step_for_good() -> None:
    chat = Chat()
    chat.send(*TO_SCREENSHOTS[:-1], "yes")
    assert chat.said(Tone.WARNING) == [INDECENT_IMAGE]
    assert chat.asking == "summary"
    assert image_arrives(chat.draft) is ImageVerdict.REFUSE_UNREAD
    # Going back and saying No does not open the door: the draft takes no image from then on.
    chat.send("back", "no")
    assert chat.asking == "summary"
    assert image_arrives(chat.draft) is ImageVerdict.REFUSE_UNREAD
    outcome = chat.send("send").outcome
    assert isinstance(outcome, Submitted)
    assert outcome.report.screenshots == 0
    assert outcome.report.details["Screenshots"].startswith("None: it may be an indecent image of a child")


def test_choosing_it_may_be_indecent_drops_the_screenshots_taken_and_refuses_more() -> None:
    chat = Chat()
    chat.send(*TO_SCREENSHOTS)
    attach(chat)
    chat.send("It may be an indecent image of a child")
    assert chat.said(Tone.WARNING) == [INDECENT_IMAGE]
    assert chat.draft.evidence == Evidence(0, True)
    assert chat.asking == "summary" and "Screenshots: None: it may be" in chat.question.text
    assert image_arrives(chat.draft) is ImageVerdict.REFUSE_UNREAD


def test_the_screenshots_step_is_not_asked_where_a_screenshot_is_not_the_evidence() -> None:
    chat = Chat()
    chat.send("pupil_disclosure", "no", "victim", "Leo Marsh", "skip", "He asked me for a picture.", "no", "in_class",
              "no", "no")
    assert chat.asking == "summary"


def test_changing_to_a_category_without_the_step_drops_the_count() -> None:
    chat = Chat()
    chat.send(*TO_SCREENSHOTS)
    attach(chat)
    while chat.asking != "category":
        chat.send("back")
    chat.send("colleague_concern")
    assert chat.draft.evidence.count == 0


def test_a_draft_keeps_its_screenshot_count_through_storage_and_older_drafts_read_as_none() -> None:
    chat = Chat()
    chat.send(*TO_SCREENSHOTS)
    attach(chat)
    stored = chat.draft.to_dict()
    assert stored["evidence"] == {"count": 1, "refused": False}
    assert Draft.from_dict(stored) == chat.draft
    older = {k: v for k, v in stored.items() if k != "evidence"}
    assert Draft.from_dict(older).evidence == Evidence()
    resumed = Chat.resumed(Draft.from_dict(stored), now=chat.now)
    resumed.turn = Turn(resumed.draft, [])
    resumed.send("done")
    assert "Screenshots: 1" in resumed.question.text


def test_the_readme_quotes_the_advice_and_states_the_limits_as_given() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Screenshots, and the indecent-imagery rule", 1)[1].split("\n#", 1)[0]
    quoted = " ".join(line[2:] for line in section.splitlines() if line.startswith("> "))
    assert quoted == INDECENT_IMAGE
    assert f"up to **{evidence.MAX_SCREENSHOTS}** screenshots a report, each up to **{evidence.megabytes()}**" in section
    assert f"{evidence.MAX_SCREENSHOT_PIXELS // 1_000_000} million pixels" in section
