"""A trust of three schools served by one Slack app: a report at one school reaches its DSL alone.

Over real HTTP signed like Slack, against FakeSlack, on the example trust with a Slack id for
everyone: the reference shows the school (SG-BPA-2026-0001), Oakfield's DSL and the trust's Chief
Executive see nothing of it (DM, App Home), and a deputy DSL at two schools is asked which school
her report is for, with buttons, before anything else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from storage.models import Report
from tests.builders import example_trust_with_ids
from tests.e2e.slack_rig import Phone, Rig
from tests.e2e.test_slack_ways_in import home_opened

WORDS = "She said an older boy online keeps asking her for photos (made-up words)."


@pytest.fixture
def school_file(tmp_path: Path) -> Path:
    """The example trust, everyone with a Slack id (U0 and their person id)."""
    return example_trust_with_ids(tmp_path, "slack")


def phone(rig: Rig, person_id: str) -> Phone:
    code = "".join(ch for ch in person_id.upper() if ch.isalnum())
    return rig.phones.setdefault(person_id, Phone(rig, person_id, f"U0{code}"))


async def home(rig: Rig, person: Phone, count: int = 1) -> str:
    """The words of the App Home published for `person` when they open it."""
    assert (await rig.event(home_opened(person.user))).status == 200
    view: dict[str, Any] = (await rig.fake.wait_for("views.publish", count, user_id=person.user))[count - 1].args["view"]
    return str(view)


async def report_disclosure(teacher: Phone) -> str:
    await teacher.type("Pupil disclosure")
    for answer in ("No", "The child is the victim"):
        await teacher.tap(answer)
    await teacher.type("Mia Hart")
    await teacher.tap("Skip")
    await teacher.type(WORDS)
    before = len(teacher.posts())
    await teacher.tap("Yes")  # immediate risk: the 999 advice, then the next question
    await teacher.wait_for_post(before + 2)
    await teacher.tap("With me")
    await teacher.tap("No")
    await teacher.tap("No")
    return (await teacher.tap("Send")).text()


async def test_a_report_at_one_school_reaches_its_dsl_and_nobody_at_another_school_nor_the_ceo(rig: Rig) -> None:
    teacher, dsl = phone(rig, "gmarsh"), phone(rig, "obrien")
    oak_dsl, ceo, tsl = phone(rig, "smorgan"), phone(rig, "arowe"), phone(rig, "mhale")
    sent = await report_disclosure(teacher)
    assert "SG-BPA-2026-0001" in sent, sent
    alert = await dsl.wait_for_said("URGENT: New report SG-BPA-2026-0001 for you to acknowledge")
    assert "Mia Hart" in alert.text()
    assert "SG-BPA-2026-0001" in await home(rig, dsl)
    await rig.slack.idle()
    for other in (oak_dsl, ceo, tsl):
        assert other.posts() == [], f"{other.person_id} was told of another school's report"
        assert "SG-BPA" not in await home(rig, other), other.person_id
    async with rig.app.sessions() as session:
        stored = (await session.scalars(select(Report))).one()
    assert (stored.reference, stored.school) == ("SG-BPA-2026-0001", "bpa")


async def test_a_deputy_dsl_at_two_schools_picks_the_school_first_and_the_report_lands_there(rig: Rig) -> None:
    deputy, oak_dsl, bpa_dsl = phone(rig, "pshah"), phone(rig, "smorgan"), phone(rig, "obrien")
    asked = await deputy.type("hi")
    assert "Which school of Bellevue Place Education Trust is this report for?" in asked.text()
    labels = [e["text"]["text"] for b in deputy.latest()["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert labels == ["Bellevue Place Academy", "Oakfield Lower School", "Cancel"], "only the schools she works at"
    oakfield = "Oakfield Lower School"
    chosen = await deputy.tap(oakfield)
    assert f"This report is for {oakfield}." in deputy.said() and "What are you reporting?" in chosen.text()
    sent = await report_disclosure(deputy)
    assert "SG-OAK-2026-0001" in sent, sent
    await oak_dsl.wait_for_said("URGENT: New report SG-OAK-2026-0001")
    assert "SG-OAK-2026-0001" in await home(rig, oak_dsl), "her own school's case, on the trust's one Home tab"
    await rig.slack.idle()
    assert "SG-OAK" not in "\n".join(c.text() for c in bpa_dsl.posts())


async def test_a_teacher_at_one_school_is_not_asked_which(rig: Rig) -> None:
    teacher = phone(rig, "wprice")  # Hollins Cross only
    assert "What are you reporting?" in (await teacher.type("hi")).text()
