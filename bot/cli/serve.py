"""`safeguard serve`: migrate, route anything left unrouted, then serve Slack, Teams and /healthz until stopped."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import click

from bot.app import CONSOLE, SLACK, TEAMS, App
from bot.cli.keyring import keyring_for
from bot.cases.lifecycle import route_unrouted
from bot.cli.storage import run_on_database, shown_url
from dialogs.reachable import reachable
from routing.check import check_school, grouped
from routing.trust import load_deployment
from routing.yamlfields import InputError
from storage.crypto import ENV, HOW_TO_MAKE_ONE, KeyringError
from storage.db import create_engine, sessionmaker
from storage.migrate import upgrade
from storage.rotation import unlock
from storage.sealed_reporters import RELAY_ENV, kept_apart


@click.command()
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="The school config, or a trust's (YAML): every school it lists is served. "
                   "Default: SAFEGUARD_CONFIG, else the example school.")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Default: PORT, else 3978.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address to listen on (0.0.0.0 for every interface, behind your HTTPS proxy).")
@click.option("--database-url", default=None, metavar="URL",
              help="sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB. Default: DATABASE_URL, else ./safeguard.db.")
@click.option("--demo", is_flag=True,
              help="To try Safeguard out: without SAFEGUARD_ENCRYPTION_KEY, keep the key in a file beside the "
                   "SQLite database (written if absent).")
def serve(config: Path | None, port: int | None, host: str, database_url: str | None, demo: bool) -> None:
    """Run the server: Slack at POST /slack/events, Teams at POST /api/messages, and GET /healthz.

    Needs SAFEGUARD_ENCRYPTION_KEY (make one with `safeguard keys new`), unless run with --demo.
    """
    # Imported here: aiohttp and slack_bolt take a while to load, and every other command
    # (`safeguard route`, which other tools call per report) should not wait for them.
    from aiohttp import web

    from bot.server import Settings, build_server

    settings = Settings.from_env(os.environ)
    settings = replace(settings, config=config or settings.config, port=port or settings.port,
                       database_url=database_url or settings.database_url)
    shown = shown_url(settings.database_url)
    if settings.encryption_keys is None and not demo:
        raise KeyringError(f"{ENV} is not set: the server encrypts what staff report with it; {HOW_TO_MAKE_ONE} "
                           "and keep it safe (the reports cannot be read without it), or try Safeguard out "
                           "with `safeguard serve --demo`, which keeps a key in a file beside the database")
    deployment = load_deployment(settings.config)
    school = deployment.schools[0]
    found = keyring_for(settings.encryption_keys, settings.database_url, create=True)
    if found.created:
        click.echo(found.notice(), err=True)
    elif found.file is not None:
        click.echo(f"safeguard: demo mode: encrypting with the key in {found.file}; for real use set {ENV}", err=True)
    relay = settings.relay
    if relay is not None:
        kept_apart(relay, found.keyring)  # apart from the key in use, a demo key file's too
    else:
        click.echo(f"safeguard: {RELAY_ENV} is not set, so reports cannot be sent without a name "
                   "(`safeguard keys relay` makes one)", err=True)
    for each in deployment.schools:
        named = "" if deployment.alone else f"{each.key}: "
        for line in grouped(check_school(each, reachable())):
            click.echo(f"safeguard: warning: {named}{line}", err=True)
    everyone = [person for each in deployment.schools for person in each.everyone]
    if not settings.slack:
        click.echo("safeguard: warning: Slack is off: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET to turn it on "
                   "(or SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_SIGNING_SECRET for one app in several "
                   "workspaces)", err=True)
    elif settings.slack_workspaces and any(each.slack_team is None for each in deployment.schools):
        unnamed = ", ".join(each.key for each in deployment.schools if each.slack_team is None)
        click.echo(f"safeguard: warning: {unnamed} names no Slack workspace: with SLACK_CLIENT_ID set, "
                   "add `slack_team: T...` (the workspace's id) or nobody there is reached on Slack", err=True)
    elif not any(person.slack for person in everyone):
        click.echo(f"safeguard: warning: nobody in {settings.config} has a Slack id; add `slack:` ids "
                   "(or run `safeguard directory sync-slack`)", err=True)
    if not any(person.teams for person in everyone):
        click.echo(f"safeguard: warning: nobody in {settings.config} has a Teams id; add `teams:` ids "
                   "to reach people on Microsoft Teams", err=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # A person is alerted on the first channel they have an id for; the console reaches the rest.
    channels = ((SLACK,) if settings.slack else ()) + (TEAMS, CONSOLE)

    async def run() -> None:
        await upgrade(settings.database_url)
        engine = create_engine(settings.database_url, keys=found.keyring)
        try:
            app = App(school, sessionmaker(engine), channels=channels,
                      lease=timedelta(seconds=settings.delivery_lease), deployment=deployment, relay=relay)
            sealed = await unlock(app.sessions, now=app.now())
            if sealed.encrypted:
                click.echo(f"safeguard: encrypted {sealed.encrypted} value(s) stored before encryption at rest", err=True)
            await route_unrouted(app)
            runner = web.AppRunner(build_server(app, settings), access_log=None)
            await runner.setup()
            try:
                try:
                    await web.TCPSite(runner, host, settings.port).start()
                except OSError as exc:
                    # Not the database's fault: say so, rather than let run_on_database blame it.
                    raise InputError(f"cannot listen on {host}:{settings.port}: {exc.strerror or exc}; "
                                     "is another server using that port? (see --port)") from None
                teams = "Teams on (anonymous local mode)" if settings.teams.anonymous else "Teams on"
                served = school.name if deployment.alone else \
                    f"{deployment.name} ({len(deployment.schools)} schools: {', '.join(s.key for s in deployment.schools)})"
                click.echo(f"Safeguard is serving {served} on http://{host}:{settings.port} "
                           f"(Slack {'on' if settings.slack else 'off'}; {teams}; database {shown}). Ctrl-C stops it.")
                await _until_stopped()
            finally:
                await runner.cleanup()
        finally:
            await engine.dispose()

    run_on_database(shown, run())
    click.echo("Safeguard stopped.")


async def _until_stopped() -> None:
    """Wait for Ctrl-C or SIGTERM (a service manager stopping us), then return to shut down cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
