"""Block Kit rendering, without I/O: escaping, Slack's markup read back, Slack's size limits."""

from __future__ import annotations

from bot.channels.slack.blocks import SECTION_CHARS, answered, escape, from_slack, question_field, render, sections
from dialogs import Choice, InputKind, Reply, Tone
from dialogs.prompts import BACK, CANCEL


def test_escape_leaves_nothing_slack_would_read_as_markup() -> None:
    assert escape("<!channel> <@U0AAA> <http://x|y> a & b") == "&lt;!channel&gt; &lt;@U0AAA&gt; &lt;http://x|y&gt; a &amp; b"


def test_from_slack_gives_back_what_was_typed() -> None:
    assert from_slack("hi <!channel> and <!here>") == "hi @channel and @here"
    assert from_slack("see <http://video.example/a|video.example/a>") == "see video.example/a"
    assert from_slack("see <https://video.example/a>") == "see https://video.example/a"
    assert from_slack("<http://bad.example/x|click here>") == "click here (http://bad.example/x)"
    assert from_slack("<mailto:a.b@school.example|a.b@school.example>") == "a.b@school.example"
    assert from_slack("<@U0AAA> in <#C0BBB|staffroom>") == "@U0AAA in #staffroom"
    assert from_slack("a &lt;b&gt; &amp;lt; c") == "a <b> &lt; c"


def test_a_long_text_is_split_into_sections_slack_accepts() -> None:
    text = escape("line & more\n" * 600)  # 7,800 characters once escaped
    blocks = sections(text)
    assert len(blocks) > 2
    assert all(len(b["text"]["text"]) <= SECTION_CHARS for b in blocks)
    assert "\n".join(b["text"]["text"] for b in blocks) == text  # split at line ends, nothing lost
    one_line = escape("&" * 4000)
    parts = [b["text"]["text"] for b in sections(one_line)]
    assert "".join(parts) == one_line and all(p.startswith("&amp;") for p in parts)


def test_a_question_renders_its_choices_as_buttons_carrying_their_ids() -> None:
    reply = Reply("Might it be illegal?", input=InputKind.CHOICE, field="illegal",
                  choices=(Choice("yes", "Yes"), Choice("no", "No"), BACK, CANCEL))
    message = render([Reply("That answer was too long.", tone=Tone.ERROR), reply])
    assert message.text == "Safeguard: a question about your report"  # the lock screen: what is asked, no words
    assert message.blocks[0]["text"] == {"type": "plain_text", "text": "\u26a0\ufe0f That answer was too long.",
                                         "emoji": False}
    actions = [b for b in message.blocks if b["type"] == "actions"]
    assert [e["value"] for e in actions[0]["elements"]] == ["yes", "no", "back", "cancel"]
    assert len({e["action_id"] for e in actions[0]["elements"]}) == 4  # unique within the block
    assert question_field(actions[0]["block_id"]) == "illegal"


def test_the_colleague_menu_groups_a_large_staff_by_initial() -> None:
    people = tuple(Choice(f"p{n}", f"{chr(65 + n % 26)}. Person {n}") for n in range(260))
    reply = Reply("Which member of staff?", input=InputKind.PERSON, field="colleague", choices=(*people, CANCEL))
    message = render([reply])
    menu = next(e for b in message.blocks for e in b.get("elements", []) if e.get("type") == "static_select")
    assert "options" not in menu
    grouped = [o["value"] for g in menu["option_groups"] for o in g["options"]]
    assert sorted(grouped) == sorted(p.id for p in people)
    assert all(len(g["options"]) <= 100 for g in menu["option_groups"])
    buttons = [e["value"] for b in message.blocks for e in b.get("elements", []) if e.get("type") == "button"]
    assert buttons == ["cancel"]
    assert "type their full name" in str(message.blocks[-1])


def test_an_answered_question_loses_its_buttons_and_shows_the_answer() -> None:
    message = render([Reply("Pick one", input=InputKind.CHOICE, field="category", choices=(Choice("a", "<A & B>"),))])
    done = answered(message.blocks, "<A & B>")
    assert [b["type"] for b in done] == ["section", "context"]
    assert "&lt;A &amp; B&gt;" in done[-1]["elements"][0]["text"]
