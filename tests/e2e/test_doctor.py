"""`safeguard doctor`, run as an IT admin runs it before going live: against FakeSlack and a real database."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.channels.slack.manifest import bot_scopes
from storage.alerts import give_up_alert, queue_alert
from storage.crypto import new_key
from storage.migrate import config, head
from storage.models import NoticeKind
from storage.sealed_reporters import RELAY_ENV, Address, new_handle, new_relay_key, relay_from_env, seal
from tests.builders import TEST_KEY, example_school_with_ids, write_yaml
from tests.e2e.fake_slack import BOT_SCOPES, TOKEN, FakeSlack
from tests.e2e.slack_rig import SECRET, SLACK_IDS
from tests.e2e.test_serve import environment, run
from tests.integration.helpers import new_report

TEAMS = {"MICROSOFT_APP_ID": "00000000-0000-4000-8000-00000000a001", "MICROSOFT_APP_PASSWORD": "fictional-secret"}
# Words of the report stored in every test's database: the doctor never shows them.
WORDS = "Test Pupil A posted a made-up photo"


@pytest.fixture
def school(tmp_path: Path) -> Path:
    """The example school, everyone with a (fictional) Slack id and a Teams id."""
    path = example_school_with_ids(tmp_path / "school.yaml", "slack", SLACK_IDS)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for entry in data["people"]:
        entry["teams"] = f"29:1{entry['id']}-teams"
    return write_yaml(path, data)


@pytest.fixture
async def stored(sessions: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    """The database with a report in it, its words encrypted with the test key."""
    async with sessions.begin() as session:
        await new_report(session, details={"what": WORDS, "where": "a made-up app"})
    return sessions


@pytest.fixture
def slack(fake_slack: tuple[FakeSlack, str]) -> tuple[FakeSlack, str]:
    """FakeSlack whose workspace has every person of the example school."""
    fake, _ = fake_slack
    fake.users.update({slack_id: {} for slack_id in SLACK_IDS.values()})
    return fake_slack


def settings(database_url: str, fake_url: str, **changed: str) -> dict[str, str]:
    """The environment `safeguard serve` would run with: the key, the database, Slack and Teams."""
    return environment(**{"SAFEGUARD_ENCRYPTION_KEY": TEST_KEY, "DATABASE_URL": database_url,
                          "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
                          "SLACK_API_URL": f"{fake_url}/api/", **TEAMS, **changed})


async def doctor(school: Path, env: dict[str, str], *more: str) -> tuple[int, dict[str, dict[str, Any]], str]:
    """Run `safeguard doctor --json`: its exit code, its rows by check, and everything it printed."""
    code, out, err = await run("doctor", "--config", str(school), "--json", *more, env=env)
    assert "Traceback" not in out + err, err
    rows = {row["check"]: row for row in json.loads(out)["checks"]}
    return code, rows, out + err


def problems(rows: dict[str, dict[str, Any]]) -> list[str]:
    return [check for check, row in rows.items() if row["status"] != "ok"]


async def test_all_well_is_exit_0_and_every_row_ok(school: Path, database_url: str, stored: object,
                                                   slack: tuple[FakeSlack, str]) -> None:
    fake, fake_url = slack
    code, rows, printed = await doctor(school, settings(database_url, fake_url))
    assert code == 0, printed
    assert list(rows) == ["config", "policy", "database", "encryption key", "relay key", "outbox", "slack settings",
                          "slack token", "slack scopes", "slack people", "teams", "calendar"]
    assert problems(rows) == [], printed
    assert "opens what is stored (1 report(s))" in rows["encryption key"]["detail"]
    assert rows["slack people"]["detail"] == "all 8 Slack id(s) in the config are active people of workspace T0OAKFIELD"
    assert sorted(c.args["user"] for c in fake.to("users.info")) == sorted(SLACK_IDS.values())
    # IT sees ids, never a person's name or a report's words.
    for name in ("Ellis", "Morgan", "Patel", WORDS):
        assert name not in printed

    code, out, err = await run("doctor", "--config", str(school), env=settings(database_url, fake_url))
    assert (code, err) == (0, "")
    assert out.splitlines()[0].split() == ["check", "status", "detail"]
    assert out.endswith("\nAll is well.\n")


async def test_a_missing_scope_says_which_and_to_reinstall(school: Path, database_url: str, stored: object,
                                                           slack: tuple[FakeSlack, str]) -> None:
    fake, fake_url = slack
    fake.scopes = ",".join(s for s in BOT_SCOPES if s != "im:write")
    code, rows, printed = await doctor(school, settings(database_url, fake_url))
    assert code == 1
    assert problems(rows) == ["slack scopes"], printed
    assert rows["slack scopes"]["detail"] == f"the token lacks im:write (of the {len(bot_scopes())} the app needs)"
    assert "reinstall the app" in rows["slack scopes"]["fix"]


async def test_a_slack_id_nobody_has_is_named_by_the_person_s_config_id(school: Path, database_url: str,
                                                                      stored: object,
                                                                      slack: tuple[FakeSlack, str]) -> None:
    fake, fake_url = slack
    del fake.users[SLACK_IDS["cfinch"]]
    fake.users[SLACK_IDS["hbrooks"]] = {"deleted": True}
    code, rows, printed = await doctor(school, settings(database_url, fake_url))
    assert code == 1
    assert problems(rows) == ["slack people"], printed
    detail = rows["slack people"]["detail"]
    assert "6 of 8 Slack id(s) are people of the workspace" in detail
    assert "cfinch: U0CFINCH01: not a member of this workspace" in detail
    assert "hbrooks: U0HBROOKS1: deactivated in Slack" in detail
    assert "correct the `slack:` id" in rows["slack people"]["fix"]


async def test_a_wrong_encryption_key_says_so_and_shows_no_key(school: Path, database_url: str, stored: object,
                                                               slack: tuple[FakeSlack, str]) -> None:
    _, fake_url = slack
    wrong = new_key()
    code, rows, printed = await doctor(school, settings(database_url, fake_url, SAFEGUARD_ENCRYPTION_KEY=wrong))
    assert code == 1
    assert problems(rows) == ["encryption key"], printed
    assert rows["encryption key"]["detail"].startswith(
        "wrong key: the database's newest reports.details cannot be decrypted with SAFEGUARD_ENCRYPTION_KEY")
    assert "the new key first and the old after it" in rows["encryption key"]["fix"]
    assert wrong not in printed and TEST_KEY not in printed and WORDS not in printed


async def test_the_relay_key_must_open_the_reporters_sealed_here(school: Path, database_url: str,
                                                                  sessions: async_sessionmaker[AsyncSession],
                                                                  slack: tuple[FakeSlack, str]) -> None:
    """A report sent without a name needs the relay key it was sealed with: unset or wrong, the doctor says so."""
    _, fake_url = slack
    relay_key, other = new_relay_key(), new_relay_key()
    code, rows, printed = await doctor(school, settings(database_url, fake_url))
    assert code == 0 and rows["relay key"]["detail"].startswith("not set: staff cannot send a concern without"), printed
    async with sessions.begin() as session:
        report = await new_report(session, reporter=new_handle(), details={"what": WORDS})
        await seal(session, relay_from_env({RELAY_ENV: relay_key}), report=report, address=Address("slack", "U0HIDDEN01"))

    code, rows, printed = await doctor(school, settings(database_url, fake_url, SAFEGUARD_RELAY_KEY=relay_key))
    assert (code, problems(rows)) == (0, []), printed
    assert "opens who sent the 1 report(s) without a name" in rows["relay key"]["detail"]

    for env, said in ((settings(database_url, fake_url), "is not set, but 1 report(s) were sent without a name"),
                      (settings(database_url, fake_url, SAFEGUARD_RELAY_KEY=other), "opens none of the newest"),
                      (settings(database_url, fake_url, SAFEGUARD_RELAY_KEY=TEST_KEY), "is one of the keys in"),
                      (settings(database_url, fake_url, SAFEGUARD_RELAY_KEY="not-a-key"), "is not a Fernet key")):
        code, rows, printed = await doctor(school, env)
        assert (code, problems(rows)) == (1, ["relay key"]), printed
        assert said in rows["relay key"]["detail"], printed
        # Neither key, nor who sent it, nor their words.
        for secret in (relay_key, other, TEST_KEY, "U0HIDDEN01", WORDS):
            assert secret not in printed


async def test_an_unmigrated_database_says_run_db_upgrade(school: Path, database_url: str, engine: AsyncEngine,
                                                          slack: tuple[FakeSlack, str]) -> None:
    _, fake_url = slack
    async with engine.connect() as connection:
        await connection.run_sync(lambda sync: command.downgrade(config(sync), "-1"))  # one migration short
        await connection.commit()
    before = ScriptDirectory.from_config(config()).get_revision(head()).down_revision
    code, rows, printed = await doctor(school, settings(database_url, fake_url))
    assert code == 1
    assert problems(rows) == ["database", "encryption key", "relay key", "outbox"], printed
    assert rows["database"]["detail"].endswith(f"is at revision {before}; this code needs revision {head()}")
    assert rows["database"]["fix"].startswith("run `safeguard db upgrade`")
    assert rows["encryption key"]["status"] == rows["relay key"]["status"] == rows["outbox"]["status"] == "skipped"


async def test_a_database_file_that_is_not_there_is_not_created(school: Path, tmp_path: Path,
                                                                slack: tuple[FakeSlack, str]) -> None:
    _, fake_url = slack
    missing = tmp_path / "nowhere.db"
    code, rows, printed = await doctor(school, settings(f"sqlite+aiosqlite:///{missing}", fake_url))
    assert code == 1 and rows["database"]["status"] == "problem", printed
    assert rows["database"]["detail"].endswith("nowhere.db: no such database file")
    assert not missing.exists()


async def test_a_token_slack_refuses_is_a_problem_and_the_rest_wait_for_it(school: Path, database_url: str,
                                                                           stored: object,
                                                                           slack: tuple[FakeSlack, str]) -> None:
    fake, fake_url = slack
    code, rows, printed = await doctor(school, settings(database_url, fake_url, SLACK_BOT_TOKEN="xoxb-revoked"))
    assert code == 1
    assert problems(rows) == ["slack token", "slack scopes", "slack people"], printed
    assert rows["slack token"]["detail"] == "auth.test: Slack said invalid_auth"
    assert "check SLACK_BOT_TOKEN" in rows["slack token"]["fix"]
    assert fake.to("users.info") == []


async def test_a_slack_that_cannot_be_reached_is_a_row_not_a_crash(school: Path, database_url: str, stored: object,
                                                                   slack: tuple[FakeSlack, str]) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens here once it is closed
    code, rows, printed = await doctor(school, settings(database_url, "", SLACK_API_URL=f"http://127.0.0.1:{port}/api/"))
    assert code == 1
    assert rows["slack token"]["detail"].startswith(f"auth.test: could not reach Slack at http://127.0.0.1:{port}/api/")


async def test_an_old_undelivered_message_is_a_problem_with_its_age_only(
        school: Path, database_url: str, stored: async_sessionmaker[AsyncSession],
        slack: tuple[FakeSlack, str]) -> None:
    _, fake_url = slack
    now = datetime.now(UTC)
    async with stored.begin() as session:
        queued = await queue_alert(session, now=now - timedelta(hours=3), report=None, person_id="cfinch",
                                   channel="slack", kind=NoticeKind.ALERT)
    code, rows, printed = await doctor(school, settings(database_url, fake_url))
    assert code == 1
    assert problems(rows) == ["outbox"], printed
    assert rows["outbox"]["detail"] == ("1 message(s) waiting (slack 1); the oldest for 3 h; "
                                        "0 given up as undeliverable")
    assert "check `safeguard serve` is running" in rows["outbox"]["fix"]
    assert "cfinch" not in printed

    async with stored.begin() as session:  # the platform said it never can be delivered: given up
        await give_up_alert(session, now=now, delivery_id=queued.id, error="user_not_found")
    code, rows, printed = await doctor(school, settings(database_url, fake_url))
    assert code == 1
    assert rows["outbox"]["detail"] == ("0 message(s) waiting; 1 given up as undeliverable (slack 1); "
                                        "the newest queued 3 h ago, 1 in the last 7 days")
    assert rows["outbox"]["fix"].startswith("the DSL was told of each message given up")
    assert "cfinch" not in printed and "user_not_found" not in printed


async def test_teams_with_a_password_and_no_app_id(school: Path, database_url: str, stored: object,
                                                   slack: tuple[FakeSlack, str]) -> None:
    _, fake_url = slack
    code, rows, printed = await doctor(school, settings(database_url, fake_url, MICROSOFT_APP_ID=""))
    assert code == 1
    assert problems(rows) == ["teams"], printed
    assert rows["teams"]["detail"].startswith("MICROSOFT_APP_PASSWORD is set but MICROSOFT_APP_ID is empty")


async def test_a_config_that_does_not_load_is_a_row_and_usage_errors_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("school: Oakfield\npolicy: no-such-policy\ntimezone: Europe/London\npeople: []\n",
                      encoding="utf-8")
    code, rows, printed = await doctor(broken, environment(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"))
    assert code == 1
    assert rows["config"]["status"] == "problem" and "no-such-policy" in rows["config"]["detail"]

    code, out, err = await run("doctor", "--config", str(tmp_path / "absent.yaml"), env=environment())
    assert code == 2 and out == "" and err.startswith("safeguard: error: ")
    assert "Traceback" not in err
