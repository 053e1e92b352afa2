"""Slack messages that must say the right thing: the acknowledged alert, the 999 advice, the whole summary, a refusal."""

from __future__ import annotations

from routing.vocabulary import Flag
from tests.e2e.fake_slack import words_of
from tests.e2e.reports import submit
from tests.e2e.slack_rig import Rig, find_button

# Block Kit's limits: text per section, blocks per message.
SECTION_CHARS, BLOCKS = 3000, 50


async def test_an_acknowledged_alert_is_headed_by_who_took_it_and_is_urgent_no_more(rig: Rig) -> None:
    reference = await submit(rig.app, flags=frozenset({Flag.IMMEDIATE_RISK}))
    await rig.slack.outbox.deliver()
    dsl = rig.phone("smorgan")
    alert = dsl.latest()
    assert words_of(alert).startswith(f":rotating_light: *URGENT: New report {reference} for you to acknowledge*")
    await rig.slack.idle()
    block, button = find_button(alert, "Acknowledge")
    assert (await rig.interact(dsl.action_payload(alert, block, button))).status == 200
    await rig.fake.wait_for("chat.update", channel=dsl.dm, ts=alert["ts"])
    shown = words_of(dsl.message_of(dsl.posts()[0]))
    assert shown.startswith(f"*Report {reference} acknowledged by Sam Morgan at ")
    assert "URGENT" not in shown and ":rotating_light:" not in shown and "for you to acknowledge" not in shown
    assert "Acknowledge by" not in shown  # the deadline is met: not asked any more
    assert "Flagged: a child may be at immediate risk of harm" in shown  # the content stays


async def test_the_999_advice_is_a_message_of_its_own_before_the_next_question(rig: Rig) -> None:
    teacher = rig.phone("cfinch")
    for words in ("hi", "pupil_disclosure", "no", "victim", "Mia Hart", "skip", "She said a made-up thing."):
        asked = await teacher.type(words)
    assert "immediate risk" in asked.words()
    before = len(teacher.posts())
    await teacher.tap("Yes")
    advice, question = (await rig.fake.wait_for("chat.postMessage", before + 2, channel=teacher.dm))[before:]
    assert "call 999 now" in advice.words() and "Where is Mia Hart now?" not in advice.words()
    assert not [b for b in advice.args["blocks"] if b["type"] == "actions"], "the advice has no buttons to tap past it"
    assert question.words().startswith("Where is Mia Hart now?")


async def test_the_summary_shows_a_long_answer_with_many_links_whole(rig: Rig) -> None:
    teacher = rig.phone("cfinch")
    links = [f"https://chat.example/thread/{n:04d}?from=profile" for n in range(22)]
    words = ("He sent these: " + " ".join(links) + " " + "and more besides " * 60)[:1000]
    for answer in ("hi", "pupil_disclosure", "no", "victim", "Mia Hart", "skip", words, "no", "with_me", "no"):
        await teacher.type(answer)
    summary = await teacher.type("no")
    assert "Please check your report" in summary.words()
    assert f"The child's words: {words}" in summary.words()  # every link, whole: nothing cut at 200 characters
    blocks = summary.args["blocks"]
    assert len(blocks) <= BLOCKS and all(len(b["text"]["text"]) <= SECTION_CHARS for b in blocks if "text" in b)


async def test_a_refused_tap_is_answered_where_it_was_pressed_in_one_call(rig: Rig) -> None:
    reference = await submit(rig.app)
    await rig.slack.outbox.deliver()
    dsl, stranger = rig.phone("smorgan"), rig.phone("tokafor")
    alert = dsl.latest()
    block, button = find_button(alert, "Acknowledge")
    # The online safety officer presses the DSL's alert, in the DSL's DM (a crafted request).
    assert (await rig.interact(stranger.action_payload(alert, block, button, channel=dsl.dm))).status == 200
    [told] = await rig.fake.wait_for("response_url", user=stranger.user)
    await rig.slack.idle()
    assert f"You can't acknowledge {reference}: it was not sent to you" in told.words()
    assert told.args["response_type"] == "ephemeral" and told.args["replace_original"] is False
    assert rig.fake.to("chat.postEphemeral") == [], "no call Slack refuses (user_not_in_channel)"
    assert rig.fake.to("chat.postMessage", channel=stranger.dm) == [], "one answer, not a DM as well"
