"""Small builders for test data: schools, people and policy files. All names are fictional."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from matplotlib.figure import Figure
from PIL import Image
from sqlalchemy import select

from bot.cases import lifecycle
from bot.app import App
from bot.cli.roster import read_roster
from bot.examples import EXAMPLE_ROSTER, EXAMPLE_SCHOOL, EXAMPLE_TRUST
from dialogs import ReportDraft
from dialogs.report import Colleague
from routing.loader import resolve_policy
from routing.school import Person, School
from storage.crypto import new_key, parse_keys
from storage.digest_outbox import queue_digest
from storage.models import DigestDelivery, Report
from storage.pupils import import_roster

# A key made for this run of the tests, never one written down (SAFEGUARD_ENCRYPTION_KEY for subprocesses).
TEST_KEY = new_key()
TEST_KEYS = parse_keys(TEST_KEY, source="the test key")


def person(pid: str, *roles: str) -> Person:
    """A person with a made-up name and the given roles."""
    return Person(id=pid, name=f"Test Person {pid}", roles=tuple(roles))


def school(preset: str, *people: Person, name: str = "Test School") -> School:
    """A school on a preset with these people."""
    return School(name=name, policy=resolve_policy(preset), timezone="Europe/London", people=people)


def write_yaml(path: Path, data: Any) -> Path:
    """Write `data` as YAML and return the path."""
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def minimal_policy(**overrides: Any) -> dict[str, Any]:
    """A small valid policy file's content: every category owned by the headteacher."""
    rule = {
        "owner": "headteacher",
        "escalation": ["dsl"],
        "ack_within_minutes": 60,
        "cite": [{"section": "§1", "quote": "Report it to the headteacher"}],
        "subjects": {
            "headteacher": {
                "owner": "chair_of_governors",
                "escalation": ["dsl"],
                "cite": [{"statutory": "KCSIE 2024 Part four", "says": "the chair of governors"}],
            },
            "dsl": {"escalation": ["chair_of_governors"], "cite": [{"section": "§1", "quote": "Report it"}]},
        },
    }
    data: dict[str, Any] = {
        "name": "Test policy",
        "source": "Test policy",
        "roles": {
            "headteacher": {"name": "Headteacher"},
            "dsl": {"name": "DSL"},
            "chair_of_governors": {"name": "Chair of governors"},
        },
        "sections": {"§1": {"title": "Reporting"}},
        "rules": {c: dict(rule) for c in
                  ("misuse", "friend_request", "inappropriate_content", "colleague_concern", "pupil_disclosure",
                   "cyberbullying", "self_referral")},
    }
    data.update(overrides)
    return data


def staff_directory() -> tuple[Colleague, ...]:
    """A made-up staff directory for dialog tests; two people share a name on purpose."""
    return (
        Colleague("u-rowan", "Alex Rowan"),
        Colleague("u-birch", "Sam Birch"),
        Colleague("u-hartley", "Jo Hartley"),
        Colleague("u-lee-1", "Chris Lee"),
        Colleague("u-lee-2", "Chris Lee"),
    )


# A Friday morning in term; London is on UTC in November, so local times read the same.
START = datetime(2026, 11, 20, 9, 15, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, at: datetime = START) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


def example_school_with_ids(path: Path, channel: str, ids: dict[str, str]) -> Path:
    """The example school written to `path`, everyone given their (fictional) `channel` id."""
    data = yaml.safe_load(EXAMPLE_SCHOOL.read_text(encoding="utf-8"))
    for entry in data["people"]:
        entry[channel] = ids[entry["id"]]
    return write_yaml(path, data)


def screenshot(fmt: str = "PNG", size: tuple[int, int] = (48, 32), colour: str = "#3a6ea5") -> bytes:
    """A small real picture in `fmt` (PNG, JPEG, GIF, WEBP), drawn by Pillow: a stand-in for a phone's screenshot."""
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format=fmt)
    return buffer.getvalue()


DIGEST_WEEK = "2026-W47"


def chart_png() -> bytes:
    """A small real PNG chart, drawn by matplotlib's Agg renderer (no display needed)."""
    figure = Figure(figsize=(2, 1.2), dpi=60)
    figure.add_subplot().bar(["Mon", "Tue", "Wed"], [1, 0, 2])
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


async def queue_governor_digest(app: App, channel: str, text: str, chart: bytes | None) -> None:
    """The governor lead's digest for DIGEST_WEEK, queued on `channel` as the weekly job queues it."""
    async with app.sessions.begin() as session:
        assert await queue_digest(session, now=app.now(), school=app.school.name, week=DIGEST_WEEK,
                                  person_id="dwilde", channel=channel, text=text, chart=chart)


async def the_digest(app: App) -> DigestDelivery:
    """The one digest row in the database."""
    async with app.sessions() as session:
        return (await session.scalars(select(DigestDelivery))).one()


async def import_example_roster(app: App) -> None:
    """The example school's made-up roster, imported as `safeguard pupils import` does it."""
    rows = read_roster(EXAMPLE_ROSTER.read_bytes(), EXAMPLE_ROSTER.name)
    async with app.sessions.begin() as session:
        await import_roster(session, now=app.now(), school=app.school.name, rows=rows)


async def submitted(app: App, draft: ReportDraft, *, reporter: str, channel: str) -> str:
    """Submit a report through the lifecycle, as Send does; its reference.

    A stored and routed report has nothing to say at once: its receipt is in the outbox.
    """
    replies = await lifecycle.submit(app, reporter_id=reporter, channel=channel, report=draft)
    assert replies == [], [r.text for r in replies]
    async with app.sessions() as session:
        query = select(Report.reference).where(Report.reporter == reporter).order_by(Report.id.desc()).limit(1)
        return (await session.scalars(query)).one()


def example_trust_with_ids(directory: Path, channel: str) -> Path:
    """The example trust (its file and its schools' configs) written under `directory`, everyone given a
    (fictional) `channel` id made from their person id (U0GMARSH for gmarsh), the same at every school."""
    def account(person_id: str) -> str:
        code = "".join(ch for ch in person_id.upper() if ch.isalnum())
        return f"U0{code}" if channel == "slack" else f"29:trust-{person_id}"

    trust = yaml.safe_load(EXAMPLE_TRUST.read_text(encoding="utf-8"))
    for entry in trust["people"]:
        entry[channel] = account(entry["id"])
    (directory / "schools").mkdir(parents=True, exist_ok=True)
    for school in trust["schools"]:
        data = yaml.safe_load((EXAMPLE_TRUST.parent / school["config"]).read_text(encoding="utf-8"))
        for entry in data["people"]:
            entry[channel] = account(entry["id"])
        write_yaml(directory / school["config"], data)
    return write_yaml(directory / "trust.yaml", trust)
