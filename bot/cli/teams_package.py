"""`safeguard teams-package`: the zip a Teams admin uploads (manifest.json with the bot's id, and the icons)."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import click

from routing.yamlfields import InputError

MANIFEST_DIR = Path(__file__).resolve().parents[2] / "manifest" / "teams"
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
PLACEHOLDER = "00000000-0000-0000-0000-000000000000"
ICONS = ("color.png", "outline.png")
# A fixed time for every entry, so the same inputs always make the same zip.
ZIP_TIME = (2026, 1, 1, 0, 0, 0)
URL_OPTIONS = {"websiteUrl": "--website-url", "privacyUrl": "--privacy-url", "termsOfUseUrl": "--terms-url"}


def build_package(app_id: str, *, source: Path = MANIFEST_DIR, developer: dict[str, str] | None = None) -> bytes:
    """The app package: manifest.json with `app_id` as the app's and the bot's id, and the two icons."""
    app_id = app_id.strip()
    if not GUID.match(app_id) or app_id == PLACEHOLDER:
        raise InputError(f"--app-id {app_id!r}: not a Microsoft App ID; copy the GUID from the Azure Bot resource "
                         "(Configuration > Microsoft App ID), the same value as MICROSOFT_APP_ID")
    try:
        manifest: dict[str, Any] = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
        icons = {name: (source / name).read_bytes() for name in ICONS}
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{source}: cannot read the Teams manifest and icons ({exc}); run this from a checkout "
                         "of Safeguard, or give --source") from None
    # The app's id and the bot's are the same GUID: one registration, nothing more to keep in step.
    manifest["id"] = app_id
    for bot in manifest.get("bots", []):
        bot["botId"] = app_id
    placeholders = dict(manifest["developer"])
    for key, url in (developer or {}).items():
        if not url.lower().startswith("https://"):
            raise InputError(f"{URL_OPTIONS.get(key, key)} {url!r}: Teams needs an https:// address")
        manifest["developer"][key] = url
    # Teams shows these on the app's page to every member of staff: the repository's own
    # addresses are placeholders, and none of them may reach a package.
    unset = [option for key, option in URL_OPTIONS.items() if manifest["developer"].get(key) == placeholders.get(key)]
    if unset:
        raise InputError(f"{', '.join(unset)}: give your school's or trust's own address; Teams shows it on the "
                         "app's page, and the manifest in the repository only holds a placeholder")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        entries = {"manifest.json": json.dumps(manifest, indent=2, ensure_ascii=False).encode() + b"\n", **icons}
        for name, data in entries.items():
            package.writestr(zipfile.ZipInfo(name, ZIP_TIME), data, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


@click.command("teams-package")
@click.option("--app-id", envvar="MICROSOFT_APP_ID", default="", metavar="GUID",
              help="The bot's Microsoft App ID (Azure Bot resource > Configuration). Default: MICROSOFT_APP_ID.")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=Path("safeguard-teams.zip"),
              show_default=True, help="Where to write the package.")
@click.option("--website-url", default=None, metavar="URL",
              help="Your school's or trust's website (https), shown in Teams. Required.")
@click.option("--privacy-url", default=None, metavar="URL",
              help="Your privacy notice (https), shown in Teams. Required.")
@click.option("--terms-url", default=None, metavar="URL",
              help="Your terms of use (https), shown in Teams. Default: the --privacy-url address.")
@click.option("--source", type=click.Path(path_type=Path, file_okay=False), default=MANIFEST_DIR,
              show_default="manifest/teams", help="The folder holding manifest.json and the icons.")
def teams_package(app_id: str, out: Path, website_url: str | None, privacy_url: str | None, terms_url: str | None,
                  source: Path) -> None:
    """Write the Teams app package to upload in Teams (Apps > Manage your apps > Upload an app)."""
    if not app_id.strip():
        raise InputError("--app-id: give the bot's Microsoft App ID (Azure Bot resource > Configuration), "
                         "or set MICROSOFT_APP_ID")
    website, privacy = (website_url or "").strip(), (privacy_url or "").strip()
    for option, given in (("--website-url", website), ("--privacy-url", privacy)):
        if not given:
            raise InputError(f"{option}: give your school's or trust's own address (https); Teams shows it on the "
                             "app's page")
    # Teams asks for terms of use too; a school's privacy notice is what says how Safeguard uses
    # what staff report, so it stands in for them unless the school has terms of its own.
    terms = (terms_url or "").strip() or privacy
    urls = {"websiteUrl": website, "privacyUrl": privacy, "termsOfUseUrl": terms}
    data = build_package(app_id, source=source, developer=urls)
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise InputError(f"--out {out}: cannot write it ({exc.strerror or exc})") from None
    click.echo(f"Wrote {out} for app {app_id.strip()}: upload it in Teams (Apps > Manage your apps > Upload an app), "
               "or in the Teams admin centre for the whole school.")
    if not (terms_url or "").strip():
        click.echo(f"Terms of use: {terms} (your privacy notice; give --terms-url for terms of your own).")
