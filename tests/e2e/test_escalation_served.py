"""After downtime, `safeguard serve` escalates what fell due while it was down, once, as soon as it starts."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from datetime import timedelta
from pathlib import Path

import yaml

from bot.cases import lifecycle
from bot.app import CONSOLE, SLACK, TEAMS, App, utc_now
from routing.school import load_school
from routing.vocabulary import Category, Subject
from storage.db import create_engine, sessionmaker
from storage.migrate import upgrade
from storage.reports import create_report, get_report
from tests.builders import TEST_KEY, TEST_KEYS
from tests.e2e.fake_slack import TOKEN, FakeSlack, dm_channel
from tests.e2e.slack_rig import SECRET, SLACK_IDS
from tests.e2e.test_serve import COMMAND, environment, free_port


async def test_serve_catches_up_on_an_escalation_that_fell_due_while_it_was_down(
    fake_slack: tuple[FakeSlack, str], school_file: Path, tmp_path: Path
) -> None:
    fake, fake_url = fake_slack
    # The server runs on the real time: its deadlines count around the clock, so that two hours
    # down is two hours overdue whenever the test runs (the school-hours clock is tested apart).
    school = yaml.safe_load(school_file.read_text(encoding="utf-8"))
    school_file.write_text(yaml.safe_dump({**school, "clock": "always"}), encoding="utf-8")
    url = f"sqlite+aiosqlite:///{tmp_path / 'served.db'}"
    await upgrade(url)
    engine = create_engine(url, keys=TEST_KEYS)
    two_hours_ago = utc_now() - timedelta(hours=2)
    try:
        # A pupil disclosure reported two hours ago (30 minutes to acknowledge) while no server ran.
        app = App(load_school(school_file), sessionmaker(engine), channels=(SLACK, TEAMS, CONSOLE),
                  clock=lambda: two_hours_ago)
        async with app.sessions.begin() as session:
            report = await create_report(session, now=two_hours_ago, school=app.school.name,
                                         category=Category.PUPIL_DISCLOSURE, subject=Subject.PUPIL, reporter="cfinch",
                                         details={"what": "A made-up disclosure for a test"}, channel=SLACK)
            reference = report.reference
        await lifecycle.route(app, reference)
    finally:
        await engine.dispose()

    env = environment(SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=f"{fake_url}/api/",
                      SAFEGUARD_ENCRYPTION_KEY=TEST_KEY)
    process = await asyncio.create_subprocess_exec(
        *COMMAND, "serve", "--config", str(school_file), "--port", str(free_port()), "--database-url", url,
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deputy = await fake.wait_for("chat.postMessage", channel=dm_channel(SLACK_IDS["rpatel"]), timeout=60)
        assert f"ESCALATED: report {reference} for you to acknowledge" in deputy[0].words()
        assert "Not acknowledged 2 h after it was reported" in deputy[0].words()
        dsl = await fake.wait_for("chat.postMessage", count=2, channel=dm_channel(SLACK_IDS["smorgan"]), timeout=30)
        assert {call.words().split("\n")[0].strip("*") for call in dsl} == {
            f"New report {reference} for you to acknowledge", f"Reminder: {reference} has not been acknowledged. "
            f"It was due by {app.local(two_hours_ago + timedelta(minutes=30))}."}
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    assert not fake.to("chat.postMessage", channel=dm_channel(SLACK_IDS["jellis"])), \
        "one step at start, not one per deadline missed while down"
    told = [call.words() for call in fake.to("chat.postMessage", channel=dm_channel(SLACK_IDS["cfinch"]))]
    assert [text.split(".")[0] for text in told] == ["Thank you"], "the reporter has their receipt, and no more"
    engine = create_engine(url, keys=TEST_KEYS)
    try:
        async with sessionmaker(engine)() as session:
            stored = await get_report(session, reference)
            assert stored is not None and stored.escalation_step == 1
    finally:
        await engine.dispose()
