"""Words typed in the DM: the dialog's step and the event's id are one transaction, stored before Slack has its answer.

So a typed message costs one commit (one disk sync on SQLite), and the id is on disk exactly
when the step is: a retry of a message whose step was not stored is taken, not skipped.
"""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import Draft, InboundEvent
from tests.e2e.slack_rig import Rig
from tests.integration.test_message_transaction import counted

# A database that refuses every draft written (a real failure of the step's transaction, mid-way).
REFUSE = {
    "sqlite": ["CREATE TRIGGER refuse_drafts BEFORE INSERT ON drafts BEGIN SELECT RAISE(ABORT, 'refused'); END"],
    "postgresql": ["CREATE FUNCTION refuse_drafts() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$ "
                   "LANGUAGE plpgsql",
                   "CREATE TRIGGER refuse_drafts BEFORE INSERT ON drafts FOR EACH ROW EXECUTE FUNCTION refuse_drafts()"],
}
# The server's outbox loops, which begin their first round (and sweep the drafts) when they will.
LOOPS = ("slack-outbox", "teams-outbox")
ALLOW = {"sqlite": ["DROP TRIGGER refuse_drafts"],
         "postgresql": ["DROP TRIGGER refuse_drafts ON drafts", "DROP FUNCTION refuse_drafts()"]}


async def _run(engine: AsyncEngine, statements: dict[str, list[str]]) -> None:
    async with engine.begin() as conn:
        for statement in statements[engine.dialect.name]:
            await conn.execute(text(statement))


async def test_a_typed_message_is_one_transaction_with_its_event_id(rig: Rig, engine: AsyncEngine) -> None:
    teacher = rig.phone("cfinch")
    asked = await teacher.type("hi")
    await rig.slack.idle()
    with counted(engine, besides=LOOPS) as seen:
        answered = await teacher.type("1", event_id="Ev0TYPED001")
        await rig.slack.idle()
    assert answered.text() != asked.text(), "the answer was taken"
    assert seen["connections"] == [1], "one connection for the whole event"
    assert seen["statements"] == ["INSERT", "SELECT", "INSERT"], "the id recorded, the turn read, the draft written"
    assert seen["commits"] == [1], "one commit (one disk sync) for the event"
    if engine.dialect.name == "sqlite":
        assert len(seen["trips"]) == 4, f"one trip to aiosqlite's thread a statement, and the commit: {seen['trips']}"
    async with rig.app.sessions() as session:
        assert await session.scalar(select(func.count()).where(InboundEvent.event_id == "Ev0TYPED001")) == 1


async def test_the_step_is_stored_before_slack_has_its_answer(rig: Rig) -> None:
    teacher = rig.phone("cfinch")
    assert (await rig.event(teacher.message_event("hi"))).status == 200
    async with rig.app.sessions() as session:  # not waiting for the reply: the step came before the ack
        assert await session.scalar(select(func.count()).select_from(Draft).where(Draft.user_id == "cfinch")) == 1
    await teacher.wait_for_post(1)


async def test_a_retry_of_a_message_whose_step_failed_is_taken(rig: Rig, engine: AsyncEngine) -> None:
    teacher = rig.phone("cfinch")
    await _run(engine, REFUSE)
    event = teacher.message_event("hi")
    assert (await rig.event(event, event_id="Ev0REFUSED1")).status == 200
    assert "cannot reach its database" in (await teacher.wait_for_post(1)).text()
    await _run(engine, ALLOW)
    # Slack sends it again (say our answer was lost): the id went with the failed step, so it is taken now.
    assert (await rig.event(event, event_id="Ev0REFUSED1", retry=1)).status == 200
    assert "What are you reporting?" in (await teacher.wait_for_post(2)).text()
    assert (await rig.event(event, event_id="Ev0REFUSED1", retry=2)).status == 200
    await rig.slack.idle()
    assert len(teacher.posts()) == 2, "taken once it was stored, and not again"
