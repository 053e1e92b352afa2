"""`python -m bench.ack_before_after BEFORE_TREE`: `bench ack`'s load on two versions of `safeguard serve`, in turn.

On a machine shared with other jobs, figures taken minutes apart are not comparable; here the
server of an earlier tree (a `git archive` of the commit before, unpacked anywhere) and the
server of this tree run side by side, beside the bare slack-bolt app, and each load is run on
each in turn, round after round, so that all meet the same neighbours. The figure compared is
the server's CPU per event, from /proc, from the load's start until the server has settled (the
work left after each acknowledgement included), with the load average beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from pathlib import Path

import aiohttp

from bench.ack import flat_out, paced, settle
from bench.processes import Server, start_bare_bolt, start_fake_slack, start_safeguard
from bench.school import teachers, write_school

HERE = Path(__file__).resolve().parent.parent


def _tree(path: Path) -> dict[str, str]:
    # PYTHONSAFEPATH: the server's working directory (this tree) must not come before the tree it is to run.
    return {"PYTHONPATH": str(path), "PYTHONSAFEPATH": "1"}


async def compare(before: Path, *, seconds: float, rounds: int, senders: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="ack-before-after-"))
    staff = teachers(senders)
    school = write_school(work / "school.yaml", staff)
    fake = start_fake_slack(work)
    servers: dict[str, Server] = {}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                     timeout=aiohttp.ClientTimeout(total=30)) as http:
        try:
            await fake.wait_ready(http)
            api = f"{fake.url}/api/"
            servers["bare slack-bolt"] = start_bare_bolt(work, slack_api=api)
            servers["before"] = start_safeguard(work, school=school, slack_api=api, extra_env=_tree(before))
            servers["after"] = start_safeguard(work, school=school, slack_api=api, extra_env=_tree(HERE))
            for server in servers.values():
                await server.wait_ready(http)
                await paced(http, server, staff, 2.0)  # bolt's auth.test, connections, caches
                await settle(server)
            for number in range(1, rounds + 1):
                for how in ("paced 1/s each", "flat out"):
                    for name, server in servers.items():
                        cpu = server.cpu_seconds()
                        run = await (paced(http, server, staff, seconds) if how.startswith("paced")
                                     else flat_out(http, server, staff, seconds))
                        await settle(server)
                        per_event = (server.cpu_seconds() - cpu) / max(len(run.latencies), 1) * 1000
                        print(f"round {number}, {how}, {name}: {per_event:.2f} ms CPU an event, "
                              f"{run.per_second:,.0f} events a second, {run.failures} failed, "
                              f"p50 {run.ms(0.5):,.1f} ms, p99 {run.ms(0.99):,.1f} ms, "
                              f"load average {os.getloadavg()[0]:.1f}", flush=True)
        finally:
            for server in [*servers.values(), fake]:
                server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ack_before_after", description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path, help="a tree of the version before (e.g. `git archive COMMIT | tar -x`)")
    parser.add_argument("--seconds", type=float, default=8.0, help="each load's length")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--senders", type=int, default=50)
    options = parser.parse_args()
    asyncio.run(compare(options.before.resolve(), seconds=options.seconds, rounds=options.rounds,
                        senders=options.senders))


if __name__ == "__main__":
    main()
