"""`safeguard demo`: route a few typical reports for the example school and say who hears."""

from __future__ import annotations

from pathlib import Path

import click

from bot.examples import EXAMPLE_SCHOOL
from routing.engine import decide
from routing.report import Report
from routing.school import School, load_school
from routing.vocabulary import CATEGORY_LABELS, FLAG_LABELS, Category, Flag, Subject

# Fictional incidents a class teacher might report in a week.
SCENARIOS: tuple[tuple[str, Report], ...] = (
    ("A parent sent a class teacher a friend request on Instagram",
     Report(Category.FRIEND_REQUEST, Subject.PARENT)),
    ("A pupil says an older child online is asking them for photos; they are scared to go home",
     Report(Category.PUPIL_DISCLOSURE, Subject.PUPIL, frozenset({Flag.IMMEDIATE_RISK}))),
    ("A pupil opened a violent video on a classroom laptop",
     Report(Category.INAPPROPRIATE_CONTENT, Subject.PUPIL, frozenset({Flag.SCHOOL_DEVICE}))),
    ("A pupil shared an indecent picture they took of themselves",
     Report(Category.MISUSE, Subject.PUPIL, frozenset({Flag.SELF_GENERATED_IMAGERY, Flag.ILLEGAL}))),
    ("A teacher is worried about posts the headteacher made online",
     Report(Category.COLLEAGUE_CONCERN, Subject.HEADTEACHER)),
)


@click.command()
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="A school config (default: the example school shipped with Safeguard).")
def demo(config: Path | None) -> None:
    """Show how typical reports are routed for a school (the example school by default)."""
    school = load_school(config or EXAMPLE_SCHOOL)
    click.echo(f"Safeguard routing demo: {school.name}, policy {school.policy.name}\n")
    for story, report in SCENARIOS:
        click.echo(_describe(school, story, report))
    click.echo("The full table: safeguard policy explain --config " + str(config or EXAMPLE_SCHOOL))


def _describe(school: School, story: str, report: Report) -> str:
    decision = decide(school.policy, report, school)
    assert decision.people is not None

    def names(ids: tuple[str, ...]) -> str:
        people = [school.person(i) for i in ids]
        return ", ".join(p.name for p in people if p is not None) or "nobody else"

    role = school.policy.role_name
    flags = "; ".join(FLAG_LABELS[f] for f in sorted(report.flags))
    lines = [
        f"* {story}",
        f"  Reported as: {CATEGORY_LABELS[report.category]}" + (f" ({flags})" if flags else ""),
        f"  Must acknowledge within {decision.ack_within_minutes} min: "
        f"{role(decision.owner)}: {names(decision.people.owner)}",
        f"  Also told: {names(decision.people.informed)}",
        f"  If nobody acknowledges: {names(decision.people.escalation)}, in that order",
    ]
    lines += [f"  Because: {citation}" for citation in decision.citations]
    return "\n".join(lines) + "\n"
