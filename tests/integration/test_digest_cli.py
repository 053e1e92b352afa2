"""`safeguard digest` as an admin runs it: print a week, write its chart, queue it once, refuse a bad week.

The command runs as a separate process on the real clock, so the reports are made in the last
complete week before now. Each test runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.cases import lifecycle
from bot.app import CONSOLE
from bot.digest.weekly import IsoWeek, last_complete_week
from routing.vocabulary import Category, Subject
from storage.db import create_engine, sessionmaker
from storage.migrate import current, upgrade
from storage.reports import create_report
from tests.builders import TEST_KEY, TEST_KEYS, Clock
from tests.integration.console import SCHOOL, console_app

SCRIPT = Path(sys.executable).parent / "safeguard"
QUEUED = "Queued for the Governor lead for online safety on console."


def digest(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-c", "from bot.cli.main import main; main()"]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    for name in ("DATABASE_URL", "SAFEGUARD_CONFIG", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"):
        env.pop(name, None)  # the example school, on the console: nobody has a Slack or Teams id
    return subprocess.run([*command, "digest", *args], capture_output=True, text=True, timeout=120, env=env, cwd=cwd)


def last_week() -> IsoWeek:
    return last_complete_week(datetime.now(UTC), SCHOOL.calendar.zone)


async def seed(url: str) -> str:
    """One report (a parent's misuse: the headteacher's), on Wednesday noon of last week, acknowledged ten minutes later."""
    await upgrade(url)
    engine = create_engine(url, keys=TEST_KEYS)
    try:
        wednesday = last_week().start(SCHOOL.calendar.zone) + timedelta(days=2, hours=12)
        clock = Clock(wednesday)
        app = console_app(sessionmaker(engine), clock)
        async with app.sessions.begin() as session:
            stored = await create_report(session, now=wednesday, school=SCHOOL.name, category=Category.MISUSE,
                                         subject=Subject.PARENT, reporter="cfinch",
                                         details={"what": "Ottoline-Brackenbury (made up)"}, channel=CONSOLE)
        await lifecycle.route(app, stored.reference)
        clock.advance(minutes=10)
        assert (await lifecycle.acknowledge(app, "jellis", stored.reference)).changed
        return stored.reference
    finally:
        await engine.dispose()


async def test_it_prints_last_weeks_digest_and_writes_its_chart(database_url: str, tmp_path: Path) -> None:
    reference = await seed(database_url)
    shown = digest("--database-url", database_url, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert shown.stderr == ""
    assert f"Week {last_week().label}, " in shown.stdout
    assert "Reports: 1 (previous weeks 0, 0, 0, 0)" in shown.stdout
    assert "- Headteacher: 1 (0, 0, 0, 0)" in shown.stdout
    assert "Time to acknowledge: median 10 min, longest 10 min" in shown.stdout
    assert f"Still open: 1, 0 overdue\n{reference}\n" in shown.stdout
    assert "Ottoline" not in shown.stdout and "Jordan Ellis" not in shown.stdout

    chart = tmp_path / "week.png"
    drawn = digest("--database-url", database_url, "--week", last_week().label, "--chart", str(chart), cwd=tmp_path)
    assert drawn.returncode == 0, drawn.stderr
    assert drawn.stdout == shown.stdout
    assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")

    earlier = digest("--database-url", database_url, "--week", last_week().shifted(-1).label, cwd=tmp_path)
    assert "Reports: 0 (previous weeks 0, 0, 0, 0)" in earlier.stdout


async def test_send_queues_once_and_says_so_the_second_time(database_url: str, tmp_path: Path) -> None:
    await seed(database_url)
    first = digest("--database-url", database_url, "--send", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.endswith(f"\n{QUEUED}\n")
    second = digest("--database-url", database_url, "--send", "--week", last_week().label, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert QUEUED not in second.stdout
    assert second.stdout.splitlines()[-1].startswith(
        "Already queued for the Governor lead for online safety on console at ")


@pytest.mark.parametrize(("week", "message"), [
    ("last week", "safeguard: error: --week 'last week' is not an ISO week; write it as YYYY-Www, e.g. 2026-W47"),
    ("2026-W54", "safeguard: error: --week '2026-W54': 2026 has no week 54; its weeks are W01 to W53"),
])
def test_a_bad_week_exits_2_with_one_line(week: str, message: str, tmp_path: Path) -> None:
    result = digest("--week", week, cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", message + "\n")
    assert not (tmp_path / "safeguard.db").exists(), "nothing is touched for a bad week"


async def test_a_week_not_over_is_shown_but_not_sent(tmp_path: Path) -> None:
    await upgrade(f"sqlite+aiosqlite:///{tmp_path / 'safeguard.db'}")  # the default database, in the working directory
    this_week = last_week().shifted(1).label
    result = digest("--week", this_week, "--send", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (f"safeguard: error: --week {this_week}: that week is not over yet, "
                             "and --send queues only a finished week\n")
    later = last_week().shifted(2).label
    not_begun = digest("--week", later, cwd=tmp_path)
    assert not_begun.stderr == f"safeguard: error: --week {later}: that week has not begun yet\n"
    shown = digest("--week", this_week, cwd=tmp_path)
    assert shown.returncode == 0 and f"Week {this_week}, " in shown.stdout


READ_ONLY = {
    "digest": ["digest"],
    "log verify": ["log", "verify"],
    "log export": ["log", "export", "--as", "smorgan"],
}


def safeguard(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-c", "from bot.cli.main import main; main()"]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SAFEGUARD_CONFIG")}
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=120,
                          env={**env, "PYTHONWARNINGS": "ignore", "SAFEGUARD_ENCRYPTION_KEY": TEST_KEY}, cwd=cwd)


@pytest.mark.parametrize("command", READ_ONLY)
async def test_a_command_that_only_reads_never_creates_a_database(
    command: str, database_url: str, tmp_path: Path
) -> None:
    """A typo in --database-url must not look like a quiet week: one line on stderr, exit 2, nothing made."""
    if database_url.startswith("sqlite"):
        missing = tmp_path / "typo" / "safeguard.db"
        url = f"sqlite+aiosqlite:///{missing}"
        result = safeguard(*READ_ONLY[command], "--database-url", url, cwd=tmp_path)
        assert (result.returncode, result.stdout) == (2, ""), result.stderr
        assert result.stderr == (f"safeguard: error: {missing}: no such database file; "
                                 "check --database-url or DATABASE_URL\n")
        assert not missing.exists() and not missing.parent.exists()
        return
    # PostgreSQL: a database that is not there is named in the error and left uncreated ...
    url = make_url(database_url)
    typo = url.set(database=f"{url.database}_typo").render_as_string(hide_password=False)
    result = safeguard(*READ_ONLY[command], "--database-url", typo, cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, ""), result.stderr
    assert result.stderr.startswith("safeguard: error: cannot use the database at ") and result.stderr.count("\n") == 1
    assert f'"{url.database}_typo" does not exist' in result.stderr
    # ... and one that exists but was never set up is not set up by a command that only reads.
    empty = safeguard(*READ_ONLY[command], "--database-url", database_url, cwd=tmp_path)
    assert (empty.returncode, empty.stdout) == (2, ""), empty.stderr
    assert empty.stderr.endswith(" has no Safeguard tables; run `safeguard db upgrade` first\n")
    assert await current(database_url) is None, "no tables were made"
