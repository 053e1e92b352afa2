"""The dependency direction of the brief: routing <- dialogs <- storage <- bot, held by a scan of imports."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# What each package may import besides the standard library (STYLE.md, "Direction").
ALLOWED = {
    "routing": {"routing", "yaml", "holidays"},  # holidays: the bank-holiday calendar for working days
    "dialogs": {"routing", "dialogs"},
    # cryptography: Fernet, to encrypt what staff report before it is stored (storage/crypto.py)
    "storage": {"routing", "dialogs", "storage", "sqlalchemy", "alembic", "cryptography"},
}
# Chat SDKs stay in their own folder, so replacing one touches that folder alone.
SDK_HOMES = {"slack_bolt": "bot/channels/slack", "slack_sdk": "bot/channels/slack", "botbuilder": "bot/channels/teams"}
# The benchmarks' baseline is a bare slack-bolt app (issue 8), not part of Safeguard.
BASELINES = {"bench/bare_bolt.py"}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_it_may(package: str) -> None:
    wrong = []
    for path in sorted((ROOT / package).rglob("*.py")):
        outside = imports(path) - ALLOWED[package] - set(sys.stdlib_module_names) - {"__future__"}
        wrong += [f"{path.relative_to(ROOT)} imports {name}" for name in sorted(outside)]
    assert wrong == []


def test_chat_sdks_are_imported_only_in_their_own_folder() -> None:
    wrong = []
    for path in sorted(ROOT.glob("*/**/*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(("tests/", ".venv/", "build/")) or relative in BASELINES:
            continue
        for name in imports(path) & set(SDK_HOMES):
            if not relative.startswith(SDK_HOMES[name] + "/"):
                wrong.append(f"{relative} imports {name}")
    assert wrong == []


def test_the_pure_packages_type_check_strictly() -> None:
    from mypy import api

    stdout, stderr, status = api.run(["--config-file", str(ROOT / "pyproject.toml"), "--no-error-summary"])
    assert status == 0, stdout + stderr
