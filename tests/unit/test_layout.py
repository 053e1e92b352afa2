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


# Inside bot/, rooms that depend only downwards: the shared App at the bottom, then a report's
# life (cases), then what is sent unprompted (outbox) and the weekly digest, side by side, then
# the chat channels, then the composition root that starts them (server, scheduler), then the
# command line. A room imports its own modules and those of lower rooms, never a room beside it
# or above it, so the core never needs an edge.
BOT_ROOMS: dict[str, tuple[int, tuple[str, ...]]] = {
    "shared": (0, ("bot.app", "bot.examples", "bot.metrics")),
    "cases": (1, ("bot.cases",)),
    "outbox": (2, ("bot.outbox",)),
    "digest": (2, ("bot.digest",)),
    "channels": (3, ("bot.channels",)),
    "root": (4, ("bot.server", "bot.scheduler")),
    "cli": (5, ("bot.cli",)),
}


def bot_modules() -> dict[str, Path]:
    found = {}
    for path in sorted((ROOT / "bot").rglob("*.py")):
        dotted = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        found[dotted.removesuffix(".__init__")] = path
    return found


def bot_imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of bot/ that `path` imports, type-checking imports included (they are a dependency too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            named = [f"{node.module}.{alias.name}" for alias in node.names]
            found |= {name for name in [node.module, *named] if name in modules}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in modules}
    return found


def room_of(module: str) -> str:
    """The room a module of bot/ lives in ("bot" for the package itself, which holds no code)."""
    for room, (_, prefixes) in BOT_ROOMS.items():
        if any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes):
            return room
    return "bot"


def test_every_module_of_bot_lives_in_a_room() -> None:
    assert [m for m in bot_modules() if room_of(m) == "bot" and m != "bot"] == []


def test_rooms_of_bot_depend_only_downwards() -> None:
    modules = bot_modules()
    wrong = []
    for module, path in modules.items():
        mine = room_of(module)
        for target in sorted(bot_imports(path, modules)):
            theirs = room_of(target)
            if theirs not in (mine, "bot") and BOT_ROOMS[theirs][0] >= BOT_ROOMS[mine][0]:
                wrong.append(f"{module} ({mine}) imports {target} ({theirs})")
    assert wrong == []


def test_no_import_circles_in_bot() -> None:
    modules = bot_modules()
    graph = {module: bot_imports(path, modules) - {module} for module, path in modules.items()}
    # A module's own package's __init__ re-exporting it is not a circle of dependence.
    graph = {module: {t for t in targets if not module.startswith(t + ".")} for module, targets in graph.items()}
    circles = []
    done: set[str] = set()

    def walk(module: str, trail: list[str]) -> None:
        if module in trail:
            circles.append(" -> ".join(trail[trail.index(module):] + [module]))
            return
        if module in done:
            return
        for target in sorted(graph[module]):
            walk(target, [*trail, module])
        done.add(module)

    for module in sorted(graph):
        walk(module, [])
    assert circles == []
