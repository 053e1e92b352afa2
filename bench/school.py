"""The bench's school: the example school's role holders, and as many (fictional) class teachers as a run needs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.examples import EXAMPLE_SCHOOL

# Fictional Slack ids for the example school's role holders (as the e2e tests give them).
ROLE_HOLDERS = {
    "jellis": "U0JELLIS01", "smorgan": "U0SMORGAN1", "rpatel": "U0RPATEL01", "tokafor": "U0TOKAFOR1",
    "hbrooks": "U0HBROOKS1", "dwilde": "U0DWILDE01", "cfinch": "U0CFINCH01", "lnwosu": "U0LNWOSU01",
}
DSL = "smorgan"


@dataclass(frozen=True)
class Teacher:
    """A made-up class teacher: a person id and a Slack user id."""

    person_id: str
    slack: str

    @property
    def dm(self) -> str:
        """The bot's DM channel with them, as FakeSlack names it (U... becomes D...)."""
        return "D" + self.slack[1:]


def teachers(count: int) -> list[Teacher]:
    """`count` teachers, numbered: bench0001 is U0BENCH000001."""
    return [Teacher(f"bench{n:04d}", f"U0BENCH{n:06d}") for n in range(1, count + 1)]


def write_school(path: Path, staff: list[Teacher]) -> Path:
    """The example school with a Slack id for everyone, and `staff` added as class teachers."""
    data = yaml.safe_load(EXAMPLE_SCHOOL.read_text(encoding="utf-8"))
    for entry in data["people"]:
        entry["slack"] = ROLE_HOLDERS[entry["id"]]
    data["people"] += [{"id": t.person_id, "name": f"Bench Teacher {t.person_id[5:]}", "roles": [], "slack": t.slack}
                       for t in staff]
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path
