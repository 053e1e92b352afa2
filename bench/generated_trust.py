"""A generated trust for the scale benchmark: many schools, thousands of (fictional) staff, every preset.

`write_trust(directory, schools=50, staff=5000)` writes `trust.yaml` and one school config per
school under `schools/`, loadable with `routing.trust.load_deployment`. The schools take the
five presets in turn; each holds every role its policy routes to, except BPET's Chief
Executive and Chair of the Trust Board, who are the trust's own people. Everyone has a Slack
id; names are made up from two short lists, so none is a real person's on purpose.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from routing.loader import PRESETS

FIRST = ("Alex", "Bea", "Cal", "Dana", "Eli", "Fern", "Gus", "Hana", "Ivo", "Jo", "Kit", "Lou", "Max", "Nell", "Oli",
         "Pip", "Quin", "Rae", "Sol", "Tam", "Uma", "Vic", "Wyn", "Xan", "Yas", "Zed")
LAST = ("Ashdown", "Birchley", "Coldwell", "Dunmore", "Elmsby", "Fairholt", "Greywick", "Hollins", "Ivybridge",
        "Juniper", "Kestley", "Larkmoor", "Millford", "Nettlecombe", "Oakridge", "Pennard", "Quarrydon", "Rookwood",
        "Stonegate", "Thornbury", "Underhill", "Valewood", "Westmere", "Yarrowby")
PLACES = ("Ashby", "Brookfield", "Castlegate", "Dovecote", "Eastwood", "Foxhill", "Glenside", "Harefield", "Ingleby",
          "Kingsmead", "Longacre", "Meadowbank", "Northgate", "Orchard", "Parkside", "Queensway", "Riverside",
          "Southfields", "Tillworth", "Upton", "Woodlands")
KINDS = ("Primary", "Academy", "Lower School", "Junior School", "Infant School")
# The roles each preset's school holds itself (mersham's headteacher is also its DSL; a BPET
# school's Chief Executive and Chair of the Trust Board are the trust's).
SCHOOL_ROLES = {
    "st-leonards": ("headteacher", "dsl", "deputy_dsl", "online_safety_officer", "chair_of_governors", "governor_lead",
                    "communications_officer"),
    "principal-slt": ("headteacher", "slt", "dsl", "deputy_dsl", "chair_of_governors", "governor_lead"),
    "bpet": ("headteacher", "dsl", "deputy_dsl", "online_safety_officer", "governor_lead", "head_of_marketing"),
    "mersham": ("headteacher+dsl", "deputy_dsl", "chair_of_governors", "governor_lead"),
    "perryfields": ("headteacher", "dsl", "deputy_dsl", "online_safety_officer", "chair_of_governors", "governor_lead"),
}
TRUST_PEOPLE = (("ceo", ["chief_executive"]), ("tsl", ["trust_safeguarding_lead"]),
                ("chair", ["chair_of_trustees", "chair_of_governors"]))


@dataclass(frozen=True)
class Member:
    """One member of staff: person id and Slack user id."""

    person_id: str
    slack: str

    @property
    def dm(self) -> str:
        """The bot's DM channel with them, as FakeSlack names it (U... becomes D...)."""
        return "D" + self.slack[1:]


@dataclass(frozen=True)
class GeneratedSchool:
    """A school of the generated trust: its code, config file, policy, DSL and class teachers."""

    code: str
    config: Path
    policy: str
    dsl: Member
    teachers: tuple[Member, ...]


@dataclass(frozen=True)
class GeneratedTrust:
    """What `write_trust` wrote."""

    trust_file: Path
    schools: tuple[GeneratedSchool, ...]

    @property
    def staff(self) -> int:
        """Everyone at the schools (role holders and class teachers), the trust's own people aside."""
        return sum(len(yaml.safe_load(s.config.read_text(encoding="utf-8"))["people"]) for s in self.schools)


def _name(number: int) -> str:
    """The `number`th made-up name (624 of them, then numbered: Alex Ashdown 2)."""
    first = FIRST[number % len(FIRST)]
    last = LAST[(number // len(FIRST)) % len(LAST)]
    cycle = number // (len(FIRST) * len(LAST))
    return f"{first} {last}" + (f" {cycle + 1}" if cycle else "")


def write_trust(directory: Path, *, schools: int = 50, staff: int = 5000, name: str = "Larkmoor Learning Trust") -> GeneratedTrust:
    """Write a trust of `schools` schools and `staff` staff in all to `directory`; what was written."""
    if not 1 <= schools <= 999:
        raise ValueError("a generated trust has 1 to 999 schools")
    (directory / "schools").mkdir(parents=True, exist_ok=True)
    numbers = itertools.count()
    written: list[GeneratedSchool] = []
    entries = []
    for index in range(schools):
        code = f"s{index + 1:03d}"
        policy = PRESETS[index % len(PRESETS)]
        roles = SCHOOL_ROLES[policy]
        size = staff // schools + (1 if index < staff % schools else 0)
        if size < len(roles) + 1:
            raise ValueError(f"{staff} staff over {schools} schools leaves {code} fewer than its role holders and a teacher")
        people: list[dict[str, Any]] = []
        for n in range(size):
            held = roles[n].split("+") if n < len(roles) else []
            person = {"id": f"{code}.{n:04d}", "name": _name(next(numbers)), "roles": held,
                      "slack": f"U{code.upper()}{n:05d}"}
            people.append(person)
        place = PLACES[index % len(PLACES)]
        kind = KINDS[(index // len(PLACES)) % len(KINDS)]
        school_name = f"{place} {kind}" + (f" {index // (len(PLACES) * len(KINDS)) + 1}" if index >= len(PLACES) * len(KINDS) else "")
        config = directory / "schools" / f"{code}.yaml"
        config.write_text(yaml.safe_dump({"school": school_name, "policy": policy, "timezone": "Europe/London",
                                          "people": people}, sort_keys=False), encoding="utf-8")
        entries.append({"id": code, "config": f"schools/{code}.yaml"})
        dsl = next(p for p in people if "dsl" in p["roles"])
        written.append(GeneratedSchool(code, config, policy, Member(dsl["id"], dsl["slack"]),
                                       tuple(Member(p["id"], p["slack"]) for p in people if not p["roles"])))
    trust_people = [{"id": f"trust.{pid}", "name": _name(next(numbers)), "roles": roles, "slack": f"UTRUST{pid.upper()}"}
                    for pid, roles in TRUST_PEOPLE]
    trust_file = directory / "trust.yaml"
    trust_file.write_text(yaml.safe_dump({"trust": name, "timezone": "Europe/London",
                                          "about_trust_people": "chair_of_trustees", "people": trust_people,
                                          "schools": entries}, sort_keys=False), encoding="utf-8")
    return GeneratedTrust(trust_file, tuple(written))
