"""One MultiTenant bot for schools in several Microsoft 365 tenants: a person is found by tenant and id,
and an id from one tenant never finds someone of a school in another."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from botbuilder.schema import Activity
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import TEAMS, App
from bot.channels.teams import TeamsSettings
from bot.channels.teams.people import Directory
from bot.examples import EXAMPLE_TRUST
from routing.school import load_school
from routing.trust import load_deployment
from routing.yamlfields import InputError
from tests.teams.rig import BOT, TENANT, Rig

OTHER_TENANT = "5b1e3c2a-7d4f-4e6a-9b8c-1a2b3c4d5e6f"  # made up: another school's Microsoft 365 tenant
THIRD_TENANT = "0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f"  # made up: a tenant no school is in
SHARED_ID = "29:1same-string-in-two-tenants"


@pytest.fixture
def school_file(school_file: Path) -> Path:
    """The example school with everyone's Teams id, naming the tenant its staff sign in to."""
    data = yaml.safe_load(school_file.read_text(encoding="utf-8"))
    data["teams_tenant"] = TENANT
    school_file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return school_file


def from_tenant(activity: dict[str, Any], tenant: str) -> dict[str, Any]:
    """The same activity as Teams would send it from `tenant`."""
    return {**activity, "conversation": {**activity["conversation"], "tenantId": tenant},
            "channelData": {"tenant": {"id": tenant}}}


async def test_a_colleague_in_the_schools_tenant_is_known_and_the_same_ids_elsewhere_are_not(rig: Rig) -> None:
    teacher = rig.user("cfinch")
    known = await teacher.send(teacher.activity(text="hello"))
    assert known and "doesn't know your Teams account" not in known[0].text()
    # The very same user id and Entra object id, but from another tenant: nobody this school knows.
    elsewhere = await teacher.send(from_tenant(teacher.activity(text="hello"), OTHER_TENANT))
    assert len(elsewhere) == 1 and "doesn't know your Teams account" in elsewhere[0].text()


@pytest.fixture
def trust_in_two_tenants(tmp_path: Path) -> Path:
    """The example trust with Bellevue Place and Hollins Cross in tenants of their own, and one Teams id
    string given to a member of staff in each."""
    shutil.copytree(EXAMPLE_TRUST.parent, tmp_path / "trust")
    schools = tmp_path / "trust" / "schools"
    for name, tenant, person in (("bellevue-place", TENANT, "nkaur"), ("hollins-cross", OTHER_TENANT, "ebarker")):
        path = schools / f"{name}.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["teams_tenant"] = tenant
        next(p for p in data["people"] if p["id"] == person)["teams"] = SHARED_ID
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return tmp_path / "trust" / EXAMPLE_TRUST.name


def activity(tenant: str, user_id: str = SHARED_ID) -> Activity:
    """A message activity as botbuilder reads what Teams sends from `tenant`."""
    return Activity().deserialize({
        "type": "message", "id": "1700000000001", "channelId": "msteams", "serviceUrl": "https://smba.example/",
        "from": {"id": user_id, "name": "Test Person"}, "recipient": BOT, "text": "hello",
        "conversation": {"id": "a:1personal", "conversationType": "personal", "tenantId": tenant},
        "channelData": {"tenant": {"id": tenant}},
    })


async def test_the_same_teams_id_in_two_tenants_is_each_tenants_own_person(
        trust_in_two_tenants: Path, sessions: async_sessionmaker[AsyncSession]) -> None:
    trust = load_deployment(trust_in_two_tenants)
    directory = Directory(App(trust.schools[0], sessions, channels=(TEAMS,)), trust.schools)
    found = {tenant: directory.person(activity(tenant)) for tenant in (TENANT, OTHER_TENANT, THIRD_TENANT)}
    assert {tenant: person.id if person else None for tenant, person in found.items()} == {
        TENANT: "nkaur", OTHER_TENANT: "ebarker", THIRD_TENANT: None}
    # Tenant ids come in whatever case; Teams's channelData and conversation agree, or nobody is found.
    assert getattr(directory.person(activity(TENANT.upper())), "id", None) == "nkaur"
    mixed = activity(TENANT)
    mixed.channel_data = {"tenant": {"id": OTHER_TENANT}}
    assert directory.person(mixed) is None


def test_one_teams_id_twice_in_one_tenant_is_still_refused(trust_in_two_tenants: Path) -> None:
    path = trust_in_two_tenants.parent / "schools" / "hollins-cross.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(OTHER_TENANT, TENANT), encoding="utf-8")
    with pytest.raises(InputError, match="hollins-cross.yaml: people\\[0\\].teams: .* the same account is one person"):
        load_deployment(trust_in_two_tenants)


def test_a_tenant_id_that_is_not_a_guid_names_file_and_field(school_file: Path) -> None:
    school_file.write_text(school_file.read_text(encoding="utf-8").replace(TENANT, "oakfield.onmicrosoft.com"),
                           encoding="utf-8")
    with pytest.raises(InputError, match=r"school\.yaml: teams_tenant: 'oakfield.onmicrosoft.com' is not a tenant id"):
        load_school(school_file)


def test_a_multitenant_bot_needs_no_tenant_id() -> None:
    settings = TeamsSettings.from_env({"MICROSOFT_APP_ID": "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b",
                                       "MICROSOFT_APP_PASSWORD": "made-up", "MICROSOFT_APP_TYPE": "MultiTenant"})
    config = settings.bot_config()
    assert (getattr(config, "APP_TYPE"), getattr(config, "APP_TENANTID")) == ("MultiTenant", "")
