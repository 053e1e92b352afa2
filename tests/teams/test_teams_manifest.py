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

from bot.cli.main import main
from bot.cli.teams_package import MANIFEST_DIR, build_package, teams_package
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
    # The handlers refuse group chats and files (bot/channels/teams/replies.py): the manifest says the same.
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


SCHOOL_URLS = ["--website-url", "https://oakfield.example.org", "--privacy-url", "https://oakfield.example.org/privacy"]


def packaged_manifest(path: Path) -> dict[str, Any]:
    with zipfile.ZipFile(path) as package:
        loaded: dict[str, Any] = json.loads(package.read("manifest.json"))
        return loaded


def test_teams_package_writes_the_zip_an_admin_uploads(tmp_path: Path) -> None:
    out = tmp_path / "school.zip"
    result = CliRunner().invoke(teams_package, ["--app-id", APP_ID, "--out", str(out), *SCHOOL_URLS,
                                                "--terms-url", "https://oakfield.example.org/terms"])
    assert result.exit_code == 0, result.output
    assert str(out) in result.output and "Terms of use" not in result.output
    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        for icon in ("color.png", "outline.png"):
            assert package.read(icon) == (MANIFEST_DIR / icon).read_bytes()
    packaged = packaged_manifest(out)
    assert (packaged["id"], packaged["bots"][0]["botId"]) == (APP_ID, APP_ID)
    assert packaged["developer"] == {"name": "Safeguard", "websiteUrl": "https://oakfield.example.org",
                                     "privacyUrl": "https://oakfield.example.org/privacy",
                                     "termsOfUseUrl": "https://oakfield.example.org/terms"}
    assert problems(packaged) == []
    urls = {"websiteUrl": "https://oakfield.example.org", "privacyUrl": "https://oakfield.example.org/privacy",
            "termsOfUseUrl": "https://oakfield.example.org/terms"}
    assert build_package(APP_ID, developer=urls) == build_package(APP_ID, developer=urls), \
        "the same inputs make the same zip"


def test_without_terms_of_its_own_the_package_points_at_the_privacy_notice_and_says_so(tmp_path: Path) -> None:
    out = tmp_path / "school.zip"
    result = CliRunner().invoke(teams_package, ["--app-id", APP_ID, "--out", str(out), *SCHOOL_URLS])
    assert result.exit_code == 0, result.output
    assert "Terms of use: https://oakfield.example.org/privacy (your privacy notice" in result.output
    packaged = packaged_manifest(out)
    assert packaged["developer"]["termsOfUseUrl"] == "https://oakfield.example.org/privacy"
    placeholders = set(manifest()["developer"].values()) - {"Safeguard"}
    assert not placeholders & set(packaged["developer"].values()), "no placeholder address reaches a package"
    assert "example.org/safeguard" not in json.dumps(packaged)


@pytest.mark.parametrize("missing", ["--website-url", "--privacy-url"])
def test_teams_package_refuses_to_go_without_the_schools_own_addresses(
        missing: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "school.zip"
    given = SCHOOL_URLS[:2] if missing == "--privacy-url" else SCHOOL_URLS[2:]
    with pytest.raises(SystemExit) as exited:
        main(["teams-package", "--app-id", APP_ID, "--out", str(out), *given])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"safeguard: error: {missing}: give your school's or trust's own address")
    assert err.count("\n") == 1 and not out.exists()


def test_a_placeholder_address_never_reaches_a_package() -> None:
    with pytest.raises(InputError, match="--website-url, --privacy-url, --terms-url"):
        build_package(APP_ID)
    with pytest.raises(InputError, match="--terms-url"):
        build_package(APP_ID, developer={"websiteUrl": "https://oakfield.example.org",
                                         "privacyUrl": "https://oakfield.example.org/privacy"})
    with pytest.raises(InputError, match="--privacy-url"):  # the placeholder itself, given as an address
        build_package(APP_ID, developer={"websiteUrl": "https://oakfield.example.org",
                                         "privacyUrl": manifest()["developer"]["privacyUrl"],
                                         "termsOfUseUrl": "https://oakfield.example.org/terms"})


@pytest.mark.parametrize("app_id", ["", "not-a-guid", "00000000-0000-0000-0000-000000000000"])
def test_teams_package_refuses_an_app_id_that_is_not_one(app_id: str) -> None:
    with pytest.raises(InputError, match="App ID"):
        build_package(app_id) if app_id else CliRunner().invoke(
            teams_package, ["--app-id", app_id], env={"MICROSOFT_APP_ID": ""}, catch_exceptions=False)


def test_teams_package_refuses_a_plain_http_privacy_address() -> None:
    with pytest.raises(InputError, match="--privacy-url"):
        build_package(APP_ID, developer={"privacyUrl": "http://oakfield.example.org/privacy"})
    urls = {"websiteUrl": "https://oakfield.example.org", "privacyUrl": "https://oakfield.example.org/privacy",
            "termsOfUseUrl": "https://oakfield.example.org/privacy"}
    assert zipfile.ZipFile(io.BytesIO(build_package(APP_ID, developer=urls))).testzip() is None
