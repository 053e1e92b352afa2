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
        # BPET's Head of Marketing and Communications takes the communications officer's part (BPET §7.0).
        renamed = {"communications_officer": "head_of_marketing"} if preset == "bpet" else {}
        entry["roles"] = [renamed.get(r, r) for r in entry["roles"] if r not in undefined or r in renamed]
    return write_yaml(path, data)


# A social media site request at each preset that sets one out: who approves each step, and what
# the first approves (St Leonard's appendix C; BPET §7.0; principal-slt: the principal alone).
SOCIAL_MEDIA_STEPS = {
    "st-leonards": (("lnwosu", "Communications officer", "the aims, content and brand use"), ("jellis", "Headteacher")),
    "bpet": (("lnwosu", "Head of Marketing and Communications", "the purpose and content"), ("jellis", "Headteacher")),
    "principal-slt": (None, ("jellis", "Principal")),
}
