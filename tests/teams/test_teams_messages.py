"""Teams cards that must say the right thing: the acknowledged alert, and the whole summary."""

from __future__ import annotations

import json

from bot.app import TEAMS
from dialogs import ReportDraft
from routing.vocabulary import Category, Flag, Subject
from tests.builders import submitted
from tests.teams.fake_connector import nodes
from tests.teams.rig import Rig

TEAMS_LIMIT = 28_000  # bytes of one message


async def test_an_acknowledged_alert_is_headed_by_who_took_it_and_is_urgent_no_more(rig: Rig) -> None:
    dsl = rig.user("smorgan")
    await dsl.installs()
    draft = ReportDraft(Category.PUPIL_DISCLOSURE, Subject.PUPIL, None, frozenset({Flag.IMMEDIATE_RISK}), False,
                        {"The child's words": "A made-up account."})
    reference = await submitted(rig.app, draft, reporter="cfinch", channel=TEAMS)
    await rig.teams.outbox.deliver()
    alert = await rig.fake.wait_in(dsl.conversation["id"], "for you to acknowledge")
    assert alert.text().startswith(f"URGENT: New report {reference} for you to acknowledge")
    assert alert.cards[0]["body"][0]["style"] == "attention"
    await rig.teams.idle()
    await dsl.taps(alert.action("Acknowledge"), reply_to=alert.id)
    updated = await rig.fake.wait_for(lambda s: s.kind == "update" and s.activity_id == alert.id)
    assert updated.text().startswith(f"Report {reference} acknowledged by Sam Morgan at ")
    assert "URGENT" not in updated.text() and "for you to acknowledge" not in updated.text()
    assert "Acknowledge by" not in updated.text()
    assert "Flagged: a child may be at immediate risk of harm" in updated.text()  # the content stays
    assert updated.cards[0]["body"][0]["style"] != "attention"
    assert not [run for run in nodes(updated.cards, ("TextRun",)) if run.get("color") == "attention"]
    assert updated.activity["summary"] == f"Safeguard: a report, now acknowledged ({reference})"


async def test_the_summary_shows_a_long_answer_with_many_links_whole(rig: Rig) -> None:
    teacher = rig.user("cfinch")
    links = [f"https://chat.example/thread/{n:04d}?from=profile" for n in range(22)]
    words = ("He sent these: " + " ".join(links) + " " + "and more besides " * 60)[:1000]
    for answer in ("hello", "Pupil disclosure", "No", "The child is the victim", "Mia Hart", "Skip", words, "No", "With me", "No"):
        await teacher.send(teacher.activity(text=answer))
    [summary] = await teacher.send(teacher.activity(text="No"))
    assert "Please check your report:" in summary.text()
    assert f"The child's words: {words}" in summary.text()  # every link, whole: nothing cut at 200 characters
    assert len(json.dumps(summary.activity).encode()) < TEAMS_LIMIT
    assert [a["title"] for a in summary.actions()][:1] == ["Send"]
