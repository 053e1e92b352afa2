"""`safeguard chat` as a person runs it: the README's walk-through, word for word, and bad arguments."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).parent / "safeguard"
# Times and the year differ from run to run; everything else must read as the README shows it.
CLOCK = re.compile(r"\d\d:\d\d on \w{3} \d{1,2} \w{3}")
YEAR = re.compile(r"SG-\d{4}-")
KEY_WRITTEN = ("safeguard: demo mode: wrote a new encryption key to safeguard.key (readable by you only); keep it "
               "with the database, which cannot be read without it. For real use set SAFEGUARD_ENCRYPTION_KEY "
               "(make one with `safeguard keys new`).\n")


def chat(*args: str, stdin: str = "", cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-c", "from bot.cli.main import main; main()"]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    env.pop("DATABASE_URL", None)
    env.pop("SAFEGUARD_ENCRYPTION_KEY", None)  # as someone trying it out runs it: nothing set
    return subprocess.run([*command, "chat", *args], input=stdin, capture_output=True, text=True, timeout=120,
                          env=env, cwd=cwd)


def walkthrough() -> list[tuple[str, list[str], list[str]]]:
    """The README's console sessions: (person id, lines typed, lines printed)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Try a report from teacher to DSL", 1)[1].split("\n## ", 1)[0]
    sessions = []
    end = 0
    for block in re.finditer(r"```text\n(.*?)\n```", section, flags=re.S):
        person = re.findall(r"safeguard chat --as (\w+)", section[end:block.start()])[-1]
        end = block.end()
        lines = block.group(1).splitlines()
        typed = [line[2:] for line in lines if line.startswith("> ")]
        printed = [line for line in lines if not line.startswith("> ")]
        sessions.append((person, typed, printed))
    return sessions


def masked(line: str) -> str:
    return YEAR.sub("SG-YYYY-", CLOCK.sub("HH:MM on DAY", line))


def test_the_readme_walkthrough_runs_as_shown(tmp_path: Path) -> None:
    sessions = walkthrough()
    assert [person for person, _, _ in sessions] == ["cfinch", "smorgan", "cfinch"]
    year = datetime.now(UTC).year
    for number, (person, typed, printed) in enumerate(sessions):
        stdin = "".join(YEAR.sub(f"SG-{year}-", line) + "\n" for line in typed)
        result = chat("--as", person, stdin=stdin, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        # The first run writes the demo key beside the database, and says so; later runs use it quietly.
        assert result.stderr == (KEY_WRITTEN if number == 0 else "")
        shown = [masked(line) for line in result.stdout.splitlines()]
        position = 0
        for line in printed:
            expected = masked(line)
            assert expected in shown[position:], f"{person}: {line!r} was not printed (in order)\n{result.stdout}"
            position = shown.index(expected, position) + 1
    assert (tmp_path / "safeguard.db").exists(), "the console keeps its reports in ./safeguard.db"
    assert stat.S_IMODE((tmp_path / "safeguard.key").stat().st_mode) == 0o600, "the key is its owner's alone"
    stored = (tmp_path / "safeguard.db").read_bytes()
    assert b"plays a game with online" not in stored, "the child's words are encrypted"
    assert b"Leo Marsh" not in stored, "the child's name is encrypted"


@pytest.mark.parametrize(("args", "message"), [
    (["--as", "nobody"], "safeguard: error: --as nobody: nobody has that id in "),
    ([], "safeguard: error: Missing option '--as'"),
    (["--as", "cfinch", "--config", "no-such-school.yaml"], "safeguard: error: no-such-school.yaml"),
    (["--as", "cfinch", "--database-url", "mysql://root@localhost/x"], "safeguard: error: --database-url mysql://root@localhost/x: Safeguard speaks only aiosqlite and asyncpg"),
])
def test_bad_arguments_exit_2_with_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    result = chat(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(message), result.stderr
    assert len(result.stderr.splitlines()) == 1 and result.stdout == ""


TRUST = ROOT / "bot" / "examples" / "trust.yaml"


@pytest.mark.parametrize(("args", "message"), [
    (["--as", "gmarsh", "--school", "oak"],
     "safeguard: error: --school oak: Gill Marsh (gmarsh) does not work at Oakfield Lower School; their schools are "
     "bpa (Bellevue Place Academy)"),
    (["--as", "pshah", "--school", "xyz"], "safeguard: error: --school xyz: Priya Shah (pshah) does not work at that "
                                           "school; their schools are bpa (Bellevue Place Academy), oak"),
    (["--as", "nobody"], "safeguard: error: --as nobody: nobody has that id in "),
])
def test_chat_on_a_trust_refuses_a_school_where_the_person_does_not_work(
    args: list[str], message: str, tmp_path: Path
) -> None:
    result = chat("--config", str(TRUST), *args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(message), result.stderr
    assert len(result.stderr.splitlines()) == 1 and result.stdout == ""


def test_chat_on_a_trust_asks_someone_at_two_schools_and_pins_one_with_school(tmp_path: Path) -> None:
    asked = chat("--config", str(TRUST), "--as", "pshah", stdin="hello\n", cwd=tmp_path)
    assert asked.returncode == 0, asked.stderr
    assert "Safeguard console: Bellevue Place Education Trust (Bellevue Place Academy and Oakfield Lower School). " \
           "You are Priya Shah" in asked.stdout
    assert "Which school of Bellevue Place Education Trust is this report for?\n  1. Bellevue Place Academy\n" \
           "  2. Oakfield Lower School\n  3. Cancel" in asked.stdout
    pinned = chat("--config", str(TRUST), "--as", "pshah", "--school", "OAK", stdin="Cancel\nhello\n", cwd=tmp_path)
    assert pinned.returncode == 0, pinned.stderr
    assert "Safeguard console: Oakfield Lower School. You are Priya Shah" in pinned.stdout
    # The question left unanswered above is cancelled; with --school the next report starts at once.
    after = pinned.stdout.split("Nothing was sent", 1)[1]
    assert "What are you reporting?" in after and "Which school" not in after
    one = chat("--config", str(TRUST), "--as", "wprice", stdin="hello\n", cwd=tmp_path)
    assert "Safeguard console: Hollins Cross Primary. You are Wren Price." in one.stdout
    assert "Which school" not in one.stdout and "What are you reporting?" in one.stdout
