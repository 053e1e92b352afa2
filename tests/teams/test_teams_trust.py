"""A trust of three schools served by one Teams bot: a report at one school reaches its DSL alone.

Activities go to our server over HTTP and what it sends is read back from the fake Bot Connector,
on the example trust with a Teams id for everyone: the reference shows the school, the other
schools' DSLs and the trust's Chief Executive are told nothing and list nothing ("My cases"), and
a deputy DSL at two schools is asked which school her report is for.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.builders import example_trust_with_ids
from tests.teams.fake_connector import Sent
from tests.teams.rig import Rig, User

CHILD_WORDS = "She said an older boy online keeps asking her for photos (made-up words)."


@pytest.fixture
def school_file(tmp_path: Path) -> Path:
    """The example trust, everyone with a Teams user id (29:trust-ID)."""
    return example_trust_with_ids(tmp_path, "teams")


def user(rig: Rig, person_id: str) -> User:
    return User(rig, person_id, f"29:trust-{person_id}", "00000000-0000-4000-8000-777777777777")


async def report_disclosure(teacher: User, card: Sent) -> None:
    card = await teacher.taps(card.action("Pupil disclosure"))
    card = await teacher.says("no")
    card = await teacher.taps(card.action("The child is the victim"))
    card = await teacher.taps(card.action("Next"), answer="Mia Hart")
    card = await teacher.taps(card.action("Skip"))
    card = await teacher.taps(card.action("Next"), answer=CHILD_WORDS)
    _, card = await teacher.answers(card.action("Yes"))
    card = await teacher.says("With me")
    card = await teacher.says("No")
    card = await teacher.taps(card.action("No"))
    assert "Please check your report:" in card.text()
    await teacher.taps(card.action("Send"))


async def my_cases(person: User, welcome: Sent) -> str:
    return "\n".join(sent.text() for sent in await person.answers(welcome.action("My cases")))


async def test_a_report_at_one_school_reaches_its_dsl_and_nobody_at_another_school_nor_the_ceo(rig: Rig) -> None:
    teacher, dsl = user(rig, "gmarsh"), user(rig, "obrien")
    others = [user(rig, pid) for pid in ("smorgan", "ebarker", "arowe", "mhale")]
    [welcome] = await dsl.installs()
    welcomes = [(other, (await other.installs())[0]) for other in others]
    card = await teacher.says("hello")
    assert card.text().startswith("What are you reporting?")
    await report_disclosure(teacher, card)
    receipt = await rig.fake.wait_in(teacher.conversation["id"], "Thank you.")
    assert "Your report SG-BPA-2026-0001 has been sent" in receipt.text()
    alert = await rig.fake.wait_in(dsl.conversation["id"], "SG-BPA-2026-0001")
    assert alert.text().startswith("URGENT: New report SG-BPA-2026-0001 for you to acknowledge")
    assert "SG-BPA-2026-0001" in await my_cases(dsl, welcome)
    await rig.teams.idle()
    for other, other_welcome in welcomes:
        told = [s.text() for s in rig.fake.sent if s.conversation_id == other.conversation["id"]]
        assert not any("SG-BPA" in text for text in told), other.person_id
        assert "SG-BPA" not in await my_cases(other, other_welcome), other.person_id


async def test_a_deputy_dsl_at_two_schools_is_asked_which_school_in_teams(rig: Rig) -> None:
    deputy, oak_dsl = user(rig, "pshah"), user(rig, "smorgan")
    [welcome] = await oak_dsl.installs()
    asked = await deputy.says("hello")
    assert asked.text().startswith("Which school of Bellevue Place Education Trust is this report for?")
    assert [a["title"] for a in asked.actions()] == ["Bellevue Place Academy", "Oakfield Lower School", "Cancel"]
    card = await deputy.taps(asked.action("Oakfield Lower School"))
    assert "What are you reporting?" in card.text()
    await report_disclosure(deputy, card)
    alert = await rig.fake.wait_in(oak_dsl.conversation["id"], "SG-OAK-2026-0001")
    assert alert.text().startswith("URGENT: New report SG-OAK-2026-0001")
    assert "SG-OAK-2026-0001" in await my_cases(oak_dsl, welcome), "her own school's case in My cases"
