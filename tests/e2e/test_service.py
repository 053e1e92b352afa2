"""Safeguard as a systemd service: the example unit checked by systemd itself, and `safeguard serve` as it runs there."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from pathlib import Path

import aiohttp
import pytest

from tests.builders import TEST_KEY
from tests.e2e.test_serve import COMMAND, SCRIPT, environment, free_port, serve_once, until_healthy

UNIT = Path(__file__).resolve().parents[2] / "deploy" / "safeguard.service"
ENV_EXAMPLE = UNIT.with_name("safeguard.env.example")
INSTALLED = "/opt/safeguard/bin/safeguard"
# What the unit must keep: its own user, a read-only system, the key as a credential (systemd-analyze security).
HARDENING = {
    "DynamicUser": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
    "NoNewPrivileges": "yes", "StateDirectory": "safeguard", "Restart": "on-failure", "RestartPreventExitStatus": "2",
    "LoadCredential": "safeguard-key:/etc/safeguard/encryption.key", "CapabilityBoundingSet": "",
    "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "UMask": "0077",
}


def settings(unit: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in unit.splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_the_unit_keeps_its_hardening() -> None:
    found = settings(UNIT.read_text(encoding="utf-8"))
    for key, value in HARDENING.items():
        assert found.get(key) == [value], key
    assert found["ExecStart"][0].startswith(f"{INSTALLED} serve ")
    assert any("DATABASE_URL=sqlite+aiosqlite:////var/lib/safeguard/" in env for env in found["Environment"])
    assert "SAFEGUARD_ENCRYPTION_KEY=" not in UNIT.read_text(encoding="utf-8") + ENV_EXAMPLE.read_text(encoding="utf-8")


@pytest.fixture
def unit_here(tmp_path: Path) -> Path:
    """The unit as written, but starting this venv's safeguard (systemd checks that ExecStart exists)."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed here (it comes with systemd): the unit cannot be verified")
    if not SCRIPT.exists():
        pytest.skip(f"no safeguard script at {SCRIPT}: install the package (pip install -e .) to verify the unit")
    unit = tmp_path / "safeguard.service"
    unit.write_text(UNIT.read_text(encoding="utf-8").replace(INSTALLED, str(SCRIPT)), encoding="utf-8")
    return unit


def test_systemd_verifies_the_unit(unit_here: Path) -> None:
    result = subprocess.run(["systemd-analyze", "verify", str(unit_here)], capture_output=True, text=True,
                            timeout=60, check=False)
    # verify exits 0 even for a key it does not know: any word from it is a mistake in the unit.
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_systemd_rates_the_unit_well_exposed_little(unit_here: Path) -> None:
    result = subprocess.run(["systemd-analyze", "security", "--offline=yes", str(unit_here)], capture_output=True,
                            text=True, timeout=60, check=False)
    if "--offline" in result.stderr:
        pytest.skip("this systemd-analyze cannot rate a unit file offline (systemd 250 or later can)")
    level = re.search(r"Overall exposure level for safeguard\.service: ([0-9.]+)", result.stdout)
    assert level is not None, result.stdout + result.stderr
    assert float(level.group(1)) <= 2.0, result.stdout


async def test_serve_reads_the_key_from_its_systemd_credential(tmp_path: Path) -> None:
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "safeguard-key").write_text(TEST_KEY + "\n", encoding="ascii")
    database = ["--database-url", f"sqlite+aiosqlite:///{tmp_path / 'served.db'}"]
    out, err = await serve_once(*database, env=environment(CREDENTIALS_DIRECTORY=str(credentials)))
    assert "Safeguard is serving" in out and "demo mode" not in err
    assert not (tmp_path / "served.key").exists()
    # The same key from a file named in the environment opens the same database.
    out, _ = await serve_once(*database, env=environment(SAFEGUARD_ENCRYPTION_KEY_FILE=str(credentials / "safeguard-key")))
    assert "Safeguard is serving" in out


@pytest.mark.parametrize(("env", "message"), [
    ({"SAFEGUARD_READY_MAX_QUEUE_AGE": "soon"},
     "safeguard: error: SAFEGUARD_READY_MAX_QUEUE_AGE 'soon': not a number of seconds; use a number from 0.1 to 86399"),
    ({"SAFEGUARD_READY_MAX_QUEUE_AGE": "-5"}, "safeguard: error: SAFEGUARD_READY_MAX_QUEUE_AGE '-5': not a number"),
    ({"SAFEGUARD_METRICS_TOKEN": "secret"},
     "safeguard: error: SAFEGUARD_METRICS_TOKEN is too short to keep /metrics private"),
    ({"SAFEGUARD_ENCRYPTION_KEY_FILE": "/nonexistent/encryption.key"},
     "safeguard: error: the key file /nonexistent/encryption.key cannot be read: No such file or directory"),
    ({"SAFEGUARD_ENCRYPTION_KEY_FILE": "/nonexistent/encryption.key", "SAFEGUARD_ENCRYPTION_KEY": TEST_KEY},
     "safeguard: error: both SAFEGUARD_ENCRYPTION_KEY and SAFEGUARD_ENCRYPTION_KEY_FILE are set"),
], ids=["ready-age-word", "ready-age-negative", "short-token", "missing-key-file", "key-twice"])
def test_serve_refuses_a_bad_setting_in_one_line(tmp_path: Path, env: dict[str, str], message: str) -> None:
    given = {"SAFEGUARD_ENCRYPTION_KEY": TEST_KEY, **env}
    if "SAFEGUARD_ENCRYPTION_KEY_FILE" in env and "SAFEGUARD_ENCRYPTION_KEY" not in env:
        del given["SAFEGUARD_ENCRYPTION_KEY"]
    result = subprocess.run([*COMMAND, "serve", "--database-url", f"sqlite+aiosqlite:///{tmp_path / 'served.db'}"],
                            env=environment(**given), capture_output=True, text=True, timeout=60, check=False)
    assert (result.returncode, result.stdout) == (2, ""), result.stderr
    assert result.stderr.startswith(message), result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1
    assert TEST_KEY not in result.stderr
    assert list(tmp_path.iterdir()) == [], "nothing started"


async def test_serve_answers_readyz_and_metrics_on_this_machine(tmp_path: Path) -> None:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        *COMMAND, "serve", "--port", str(port), "--database-url", f"sqlite+aiosqlite:///{tmp_path / 'served.db'}",
        env=environment(SAFEGUARD_ENCRYPTION_KEY=TEST_KEY), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        async with aiohttp.ClientSession() as http:
            await until_healthy(http, f"http://127.0.0.1:{port}", "safeguard serve")
            async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                assert (response.status, await response.text()) == (200, "ready\n")
            async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                assert response.status == 200 and "safeguard_database_up 1.0" in await response.text()
    finally:
        process.terminate()
        await asyncio.wait_for(process.communicate(), 30)
