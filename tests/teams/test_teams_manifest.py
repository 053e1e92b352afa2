"""The Teams app package: the manifest against the schema kept in the repo, the icons, and `teams-package`."""

from __future__ import annotations

import importlib.util
import io
import json
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from jsonschema import Draft7Validator

from bot.teams_package_cli import MANIFEST_DIR, build_package, teams_package
from routing.yamlfields import InputError

APP_ID = "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b"  # made up
SCHEMA = json.loads((MANIFEST_DIR / "schema" / "MicrosoftTeams.schema.json").read_text(encoding="utf-8"))


def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((MANIFEST_DIR / "manifest.json").read_text(encoding="utf-8"))
    return loaded


def problems(document: dict[str, Any]) -> list[str]:
    errors = Draft7Validator(SCHEMA).iter_errors(document)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]


def read_png(data: bytes) -> tuple[int, int, list[list[tuple[int, int, int, int]]]]:
    """Width, height and RGBA rows of an 8-bit RGBA PNG (every filter type undone)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, chunks = 8, {}
    idat = b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position:position + 4])
        kind, body = data[position + 4:position + 8], data[position + 8:position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length:position + 12 + length])
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc, f"{kind!r}: bad CRC"
        if kind == b"IDAT":
            idat += body
        chunks[kind] = body
        position += 12 + length
    width, height, depth, colour, *_ = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (depth, colour) == (8, 6), "expected 8-bit RGBA"
    raw, stride, rows, previous = zlib.decompress(idat), width * 4, [], bytearray(width * 4)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left, up, corner = (line[i - 4] if i >= 4 else 0), previous[i], (previous[i - 4] if i >= 4 else 0)
            guess = left + up - corner
            nearest = min((abs(guess - left), 0, left), (abs(guess - up), 1, up), (abs(guess - corner), 2, corner))[2]
            line[i] = (line[i] + (0, left, up, (left + up) // 2, nearest)[kind]) & 0xFF
        rows.append([tuple(line[i:i + 4]) for i in range(0, stride, 4)])
        previous = line
    return width, height, rows  # type: ignore[return-value]


def test_the_manifest_is_valid_against_the_schema_in_the_repo() -> None:
    Draft7Validator.check_schema(SCHEMA)
    assert problems(manifest()) == []


def test_the_schema_catches_what_teams_would_refuse() -> None:
    broken = manifest()
    broken["name"]["short"] = "S" * 31
    broken["accentColor"] = "green"
    broken["bots"][0]["scopes"] = ["everywhere"]
    del broken["developer"]["privacyUrl"]
    found = problems(broken)
    assert len(found) == 4, found


def test_the_bot_is_personal_only_and_takes_no_files() -> None:
    # The handlers refuse group chats and files (bot/teams/replies.py): the manifest says the same.
    bot = manifest()["bots"][0]
    assert (bot["scopes"], bot["supportsFiles"], bot["isNotificationOnly"]) == (["personal"], False, False)


def test_the_icons_are_pngs_of_the_sizes_teams_asks_for() -> None:
    width, height, _ = read_png((MANIFEST_DIR / "color.png").read_bytes())
    assert (width, height) == (192, 192)
    width, height, rows = read_png((MANIFEST_DIR / "outline.png").read_bytes())
    assert (width, height) == (32, 32)
    pixels = [pixel for row in rows for pixel in row]
    assert all(pixel[3] == 0 or pixel[:3] == (255, 255, 255) for pixel in pixels), "outline: white and transparent only"
    assert any(pixel[3] == 255 for pixel in pixels) and any(pixel[3] == 0 for pixel in pixels)


def test_the_icons_are_what_the_script_draws() -> None:
    spec = importlib.util.spec_from_file_location("make_icons", MANIFEST_DIR / "make_icons.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.colour_icon() == (MANIFEST_DIR / "color.png").read_bytes()
    assert script.outline_icon() == (MANIFEST_DIR / "outline.png").read_bytes()


def test_teams_package_writes_the_zip_an_admin_uploads(tmp_path: Path) -> None:
    out = tmp_path / "school.zip"
    result = CliRunner().invoke(teams_package, ["--app-id", APP_ID, "--out", str(out),
                                                "--privacy-url", "https://oakfield.example.org/privacy"])
    assert result.exit_code == 0, result.output
    assert str(out) in result.output
    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        packaged = json.loads(package.read("manifest.json"))
        for icon in ("color.png", "outline.png"):
            assert package.read(icon) == (MANIFEST_DIR / icon).read_bytes()
    assert (packaged["id"], packaged["bots"][0]["botId"]) == (APP_ID, APP_ID)
    assert packaged["developer"]["privacyUrl"] == "https://oakfield.example.org/privacy"
    assert problems(packaged) == []
    assert build_package(APP_ID) == build_package(APP_ID), "the same inputs make the same zip"


@pytest.mark.parametrize("app_id", ["", "not-a-guid", "00000000-0000-0000-0000-000000000000"])
def test_teams_package_refuses_an_app_id_that_is_not_one(app_id: str) -> None:
    with pytest.raises(InputError, match="App ID"):
        build_package(app_id) if app_id else CliRunner().invoke(
            teams_package, ["--app-id", app_id], env={"MICROSOFT_APP_ID": ""}, catch_exceptions=False)


def test_teams_package_refuses_a_plain_http_privacy_address() -> None:
    with pytest.raises(InputError, match="--privacy-url"):
        build_package(APP_ID, developer={"privacyUrl": "http://oakfield.example.org/privacy"})
    assert zipfile.ZipFile(io.BytesIO(build_package(APP_ID))).testzip() is None
