"""The config (every school of a trust): it loads, `policy check` finds nothing, and each school's calendar works."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfoNotFoundError

from bot.cli.checks.rows import Row, ok, problem
from dialogs.reachable import reachable
from routing.check import check_school, grouped
from routing.school import School
from routing.trust import Trust, load_deployment
from routing.yamlfields import InputError


def load(path: Path) -> tuple[Row, Trust | None]:
    """The config's row, and the deployment it describes (None when it does not load)."""
    try:
        deployment = load_deployment(path)
    except InputError as exc:
        return problem("config", str(exc), f"correct {path}, then run `safeguard doctor` again"), None
    what = "one school" if deployment.alone else f"a trust of {len(deployment.schools)} schools"
    return ok("config", f"{path} loads: {what}"), deployment


def label(deployment: Trust, school: School) -> str:
    """How a school is named in a row's check: alone, by nothing more; in a trust, by its code."""
    return "" if deployment.alone else f" {school.key}"


def policy_rows(deployment: Trust) -> list[Row]:
    """`safeguard policy check` for each school: any report that could reach nobody, or the person it is about."""
    rows = []
    combos = reachable()  # only the reports the guided report can produce, as `policy check` does
    for school in deployment.schools:
        check = "policy" + label(deployment, school)
        findings = check_school(school, combos)
        if not findings:
            rows.append(ok(check, f"{school.name} under {school.policy.id}: no findings"))
            continue
        causes = grouped(findings)
        rows.append(problem(check, f"{school.name} under {school.policy.id}: {len(findings)} finding(s): "
                                   + "; ".join(causes),
                            "give each role the config lacks to someone (people: roles:), or correct the policy; "
                            "`safeguard policy check --config` lists every finding"))
    return rows


def calendar_rows(deployment: Trust, now: datetime) -> list[Row]:
    """Each school's time zone loads, and this year's and next year's bank holidays are known.

    Deadlines count school hours and working days (KCSIE's "next working day" for a referral):
    a zone that does not load, or a year without bank holidays, would put them on the wrong day.
    """
    rows = []
    for school in deployment.schools:
        check = "calendar" + label(deployment, school)
        calendar = school.calendar
        try:
            local = now.astimezone(calendar.zone)
        except (ZoneInfoNotFoundError, ValueError):
            rows.append(problem(check, f"the time zone {calendar.timezone} does not load",
                                "install the time zone data (`pip install -U tzdata`), or correct `timezone:`"))
            continue
        years = (local.year, local.year + 1)
        counts = {year: len(calendar.bank_holidays(year)) for year in years}
        unknown = [str(year) for year, count in counts.items() if count == 0]
        if unknown:
            rows.append(problem(check, f"no {calendar.region} bank holidays are known for {', '.join(unknown)}",
                                "upgrade the holidays library (`pip install -U holidays`)"))
            continue
        known = ", ".join(f"{count} in {year}" for year, count in counts.items())
        rows.append(ok(check, f"{calendar.timezone} (now {local:%H:%M %Z}); {calendar.region} bank holidays: {known}"))
    return rows
