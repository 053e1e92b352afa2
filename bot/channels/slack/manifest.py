"""The Slack app manifest (manifest/slack/manifest.yaml) as the code reads it: the bot scopes the app needs."""

from __future__ import annotations

from pathlib import Path

import yaml

MANIFEST = Path(__file__).resolve().parents[3] / "manifest" / "slack" / "manifest.yaml"


class ManifestError(RuntimeError):
    """The manifest is missing or not shaped as Slack's app manifest is."""


def bot_scopes(path: Path = MANIFEST) -> frozenset[str]:
    """The bot scopes the manifest asks for: exactly those the code needs (tests/e2e/test_manifest.py holds them so)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        scopes = data["oauth_config"]["scopes"]["bot"]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise ManifestError(f"cannot read the bot scopes of {path}: {exc.__class__.__name__}") from None
    if not isinstance(scopes, list) or not all(isinstance(scope, str) for scope in scopes):
        raise ManifestError(f"{path}: oauth_config.scopes.bot is not a list of scopes")
    return frozenset(scopes)
