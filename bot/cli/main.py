"""The `safeguard` command. Bad input ends in one line on stderr and exit 2, never a traceback."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import click

from bot.cli import storage
from bot.cli.chat import chat
from bot.cli.demo import demo
from bot.cli.digest import digest
from bot.cli.directory import directory
from bot.cli.doctor import doctor
from bot.cli.keys import keys
from bot.cli.pupils import pupils
from bot.cli.records import records
from bot.cli.report import report
from bot.cli.serve import serve
from bot.cli.teams_package import teams_package
from dialogs.reachable import reachable
from routing.check import check_policy, check_school, grouped
from routing.engine import RoutingError, decide
from routing.explain import explain
from routing.loader import DEFAULT_PRESET, PRESETS, resolve_policy
from routing.policy import Policy
from routing.report import parse_report
from routing.school import School
from routing.trust import Trust, choose_school, load_deployment
from routing.yamlfields import InputError

EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2


@dataclass(frozen=True)
class Target:
    """The policy to route by, and the school's people when a config was given."""

    policy: Policy
    school: School | None


def _target(policy: str | None, config: Path | None, school_id: str | None = None) -> Target:
    if policy is not None and config is not None:
        raise InputError("give --policy or --config, not both (a config names its own policy)")
    if config is not None:
        school = choose_school(load_deployment(config), school_id)
        return Target(school.policy, school)
    if school_id is not None:
        raise InputError("--school picks one school of a trust config: give --config TRUST.yaml with it")
    return Target(resolve_policy(policy or DEFAULT_PRESET), None)


def _policy_options(command: Callable[..., None]) -> Callable[..., None]:
    command = click.option(
        "--config", type=click.Path(path_type=Path, dir_okay=False),
        help="A school config (YAML): its policy, timezone and people; or a trust config of several schools.",
    )(command)
    return click.option(
        "--policy", metavar="NAME|PATH",
        help=f"A preset ({', '.join(PRESETS)}) or a policy file. Default: {DEFAULT_PRESET}.",
    )(command)


SCHOOL_OPTION = click.option("--school", "school_id", metavar="ID",
                             help="With a trust config: the school, by its id in the trust file (e.g. bpa).")


@click.group()
def cli() -> None:
    """Safeguard: online-safety incident reporting for schools, routed by the school's own policy."""


@cli.command()
@_policy_options
@SCHOOL_OPTION
def route(policy: str | None, config: Path | None, school_id: str | None) -> None:
    """Route one report read as JSON on stdin; print the decision as JSON."""
    target = _target(policy, config, school_id)
    text = sys.stdin.read() if not sys.stdin.isatty() else ""
    if not text.strip():
        raise InputError('stdin: no report; send one JSON object, e.g. {"category": "misuse", "subject": "pupil"}')
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"stdin: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    _refuse_broken_policy(target.policy)
    decision = decide(target.policy, parse_report(data, target.school), target.school)
    click.echo(json.dumps(decision.as_json(), indent=2, ensure_ascii=False))


@cli.group()
def policy() -> None:
    """Check a policy, or print its routing table."""


@policy.command()
@_policy_options
def check(policy: str | None, config: Path | None) -> None:
    """Every report has an owner, never its own subject; every role is defined and held (every school of a trust)."""
    if policy is not None and config is not None:
        raise InputError("give --policy or --config, not both (a config names its own policy)")
    # Only the reports the guided report can produce: a finding no reporter can cause is noise.
    combos = reachable()
    if config is None:
        checked = [(f"policy {resolve_policy(policy or DEFAULT_PRESET).id}",
                    check_policy(resolve_policy(policy or DEFAULT_PRESET), combos))]
    else:
        deployment = load_deployment(config)
        checked = [(_label(deployment, school), check_school(school, combos)) for school in deployment.schools]
    failed = False
    for label, findings in checked:
        if findings:
            failed = True
            causes = grouped(findings)
            click.echo(f"{label}: {len(findings)} finding(s) from {len(causes)} cause(s)")
            for line in causes:
                click.echo(f"- {line}")
        else:
            click.echo(f"{label}: no findings")
    if failed:
        sys.exit(EXIT_FINDINGS)


def _label(deployment: Trust, school: School) -> str:
    return school.name if deployment.alone else f"{school.name} ({school.key})"


@policy.command(name="explain")
@_policy_options
@SCHOOL_OPTION
def explain_command(policy: str | None, config: Path | None, school_id: str | None) -> None:
    """Print the routing table for the headteacher to read and sign off."""
    target = _target(policy, config, school_id)
    click.echo(explain(target.policy, target.school, reachable()), nl=False)


cli.add_command(demo)
cli.add_command(chat)
cli.add_command(digest)
cli.add_command(serve)
cli.add_command(directory)
cli.add_command(teams_package)
cli.add_command(keys)
cli.add_command(pupils)
cli.add_command(records)
cli.add_command(report)
cli.add_command(doctor)
storage.register(cli)


def _refuse_broken_policy(policy: Policy) -> None:
    findings = check_policy(policy, reachable())
    if findings:
        more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
        raise InputError(f"policy {policy.id} cannot be used: {findings[0]}{more}; run `safeguard policy check`")


def _fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    click.echo(f"safeguard: error: {message}", err=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI, turning every expected failure into one line on stderr."""
    try:
        code = cli.main(args=argv, prog_name="safeguard", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        # `safeguard` or `safeguard policy` alone: the person wants the help, not an error.
        click.echo(exc.format_message())
        sys.exit(0)
    except click.UsageError as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        _fail(f"{exc.format_message()}{hint}")
    except (InputError, RoutingError) as exc:
        _fail(str(exc))
    except click.Abort:
        _fail("interrupted", 1)
    except click.ClickException as exc:
        _fail(exc.format_message())
    except BrokenPipeError:
        sys.exit(0)  # the reader (e.g. `| head`) has all it wanted
    except Exception as exc:  # a bug: still one line, never a traceback on a user's screen
        _fail(f"internal error ({exc.__class__.__name__}: {exc}); please report it", 1)
    sys.exit(code if isinstance(code, int) else 0)
