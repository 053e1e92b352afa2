"""What the request tests in Slack and Teams type into the blocked-content form, and the school they run at."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml

from tests.builders import EXAMPLE_SCHOOL, write_yaml

URL = "https://www.example.org/rivers/year5-fieldwork"
CONTENT = "A charity's river-study pages with a video on water safety (made-up)."
REASONS = "Year 5 geography fieldwork needs the video next week (made-up)."
RISKS = "Video may show adverts; shown from the teacher's screen only (made-up)."
DECIDED = "Fieldwork need; teacher-led viewing only (made-up)."


def school_under(preset: str, path: Path, channel: str, ids: Mapping[str, str]) -> Path:
    """The example school under `preset`, everyone with an id on `channel` ('slack' or 'teams')."""
    data = yaml.safe_load(EXAMPLE_SCHOOL.read_text(encoding="utf-8"))
    data["policy"] = preset
    for entry in data["people"]:
        entry[channel] = ids[entry["id"]]
        # Roles the preset's policy does not define go (the example school is St Leonard's).
        undefined = {"communications_officer"} if preset != "st-leonards" else set()
        if preset in ("mersham", "principal-slt"):
            undefined.add("online_safety_officer")
        entry["roles"] = [r for r in entry["roles"] if r not in undefined]
    return write_yaml(path, data)
