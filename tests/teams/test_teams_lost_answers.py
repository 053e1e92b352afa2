"""The Bot Connector takes a message and its answer is lost: nothing below the outbox sends it again.

Teams offers no way to look for a message, so a message in doubt is sent again by the outbox,
after its back-off (at least once, as the README says); botbuilder, msrest and urllib3 must
not add sends of their own on top. The fake connector counts every POST it received.
"""

from __future__ import annotations

import pytest
from botbuilder.schema import Activity  # type: ignore[import-untyped]
from sqlalchemy import select
from urllib3.exceptions import ConnectTimeoutError, ProtocolError

from dialogs import ReportDraft
from routing.vocabulary import Category, Subject
from storage.models import AlertDelivery
from tests.builders import submitted
from tests.teams.rig import Rig

DRAFT = ReportDraft(Category.PUPIL_DISCLOSURE, Subject.PUPIL, details={"The child's words": "Made-up words for a test"})


async def alert_row(rig: Rig) -> AlertDelivery:
    async with rig.app.sessions() as session:
        query = select(AlertDelivery).where(AlertDelivery.person_id == "smorgan", AlertDelivery.kind == "alert")
        return (await session.scalars(query.execution_options(populate_existing=True))).one()


def alerts_received(rig: Rig, conversation: str) -> int:
    return len([s for s in rig.fake.received() if s.conversation_id == conversation and "New report" in s.text()])


async def test_an_alert_whose_answer_was_lost_is_sent_again_by_the_outbox_alone(rig: Rig) -> None:
    dsl = rig.user("smorgan")
    await dsl.installs()
    rig.fake.drop_next()
    await submitted(rig.app, DRAFT, reporter="cfinch", channel="teams")
    await rig.teams.outbox.deliver()
    row = await alert_row(rig)
    assert (row.status, row.attempts) == ("failed", 1), "its fate unknown: a failure, tried again later"
    assert len(rig.fake.dropped) == 1
    assert alerts_received(rig, dsl.conversation["id"]) == 1, "nothing below the outbox sent it again"

    rig.clock.advance(seconds=10)  # the first back-off
    await rig.teams.outbox.deliver()
    assert (await alert_row(rig)).status == "sent"
    assert alerts_received(rig, dsl.conversation["id"]) == 2, "at least once: the outbox's one re-send"


async def test_a_gateway_error_is_one_post_per_round(rig: Rig) -> None:
    dsl = rig.user("smorgan")
    await dsl.installs()
    before = len(rig.fake.received())
    rig.fake.fail_next(502, "BadGateway")  # a proxy failing after it may have passed the message on
    await submitted(rig.app, DRAFT, reporter="cfinch", channel="teams")
    await rig.teams.outbox.deliver()
    assert (await alert_row(rig)).status == "failed"
    assert len(rig.fake.received()) - before == 1, "msrest did not repeat the POST on a 5xx"


async def test_a_dialog_question_whose_answer_was_lost_is_not_sent_twice(rig: Rig) -> None:
    teacher = rig.user("cfinch")
    rig.fake.drop_next()
    await teacher.post(teacher.activity(text="Pupil disclosure"))
    await rig.teams.idle()
    [question] = rig.fake.dropped
    assert "adult who works at the school" in question.text()
    replies = [s for s in rig.fake.received() if s.conversation_id == teacher.conversation["id"]]
    assert [r.text() for r in replies].count(question.text()) == 1, "the question reached the chat once"


async def test_every_connector_client_the_adapter_makes_repeats_only_a_connection_never_made(rig: Rig) -> None:
    from botframework.connector.auth import ClaimsIdentity  # type: ignore[import-untyped]

    teacher = rig.user("cfinch")
    authentication = rig.teams.connector.adapter.bot_framework_authentication
    turn = await authentication.authenticate_request(Activity().deserialize(teacher.activity(text="hi")), "")
    proactive = authentication.create_connector_factory(ClaimsIdentity({}, True))
    for factory in (turn.connector_factory, proactive):  # a turn's replies; the outbox's sends
        client = await factory.create(rig.fake_url + "/", None)
        policy = client.config.retry_policy()  # what msrest mounts on the client's HTTP session
        assert (policy.read, policy.status, set(policy.status_forcelist or ())) == (False, 0, set())
        assert not policy.is_retry("POST", 502) and not policy.is_retry("POST", 503)
        with pytest.raises(ProtocolError):
            policy.increment("POST", "/v3/conversations/a/activities", error=ProtocolError("connection dropped"))
        assert policy.increment("POST", "/v3/conversations/a/activities",
                                error=ConnectTimeoutError("never connected")).connect == 1
