"""`storage.log.verify` timed in-process on a kept store, by CPU time as well as wall time (issue 24).

    PYTHONPATH=. python bench/verify_cpu.py grow sqlite+aiosqlite:////tmp/verify.db 200000 KEYFILE   # once
    PYTHONPATH=<checkout> python bench/verify_cpu.py time sqlite+aiosqlite:////tmp/verify.db KEYFILE

The machine is shared, so wall time swings with the others' load; CPU time (this process's,
its SQLite reader thread's, and the second process's that digests the reports, if one ran)
moves less. Run the code before and after alternately over the same store: point PYTHONPATH at
a checkout of each (`git archive <commit> | tar -x -C DIR`); the script itself need not be in it.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import resource
import sys
import time
from pathlib import Path

import storage
from bench.dataset import grow
from bot.examples import EXAMPLE_SCHOOL
from routing.school import load_school
from storage.crypto import new_key, parse_keys
from storage.db import create_engine, sessionmaker
from storage.log import verify


async def _grow(url: str, reports: int, keyfile: Path) -> None:
    if not keyfile.exists():
        keyfile.write_text(new_key())
    keys = parse_keys(keyfile.read_text(), source=str(keyfile))
    print(await grow(url, keys, reports, school=load_school(EXAMPLE_SCHOOL)))


async def _time(url: str, keyfile: Path) -> None:
    engine = create_engine(url, keys=parse_keys(keyfile.read_text(), source=str(keyfile)))
    try:
        async with sessionmaker(engine)() as session:
            cpu, wall = time.process_time(), time.perf_counter()
            result = await verify(session)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        await engine.dispose()
    if not result.ok:
        raise SystemExit(f"the store does not verify: {result.problem}")
    for _ in range(50):  # the second process ended and waited for, so that its CPU is counted
        if not multiprocessing.active_children():
            break
        time.sleep(0.1)
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    child_cpu = child.ru_utime + child.ru_stime
    print(f"{Path(storage.__file__).parent.parent}: {result.checked:,} events; CPU {cpu:.2f} s here + "
          f"{child_cpu:.2f} s in the second process = {cpu + child_cpu:.2f} s; wall {wall:.2f} s "
          f"({result.checked / wall:,.0f} events a second); peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB "
          f"here, {child.ru_maxrss / 1024:,.0f} MiB the second process; load average {os.getloadavg()[0]:.2f}")


def main(argv: list[str]) -> None:
    if len(argv) == 4 and argv[0] == "grow":
        asyncio.run(_grow(argv[1], int(argv[2]), Path(argv[3])))
    elif len(argv) == 3 and argv[0] == "time":
        asyncio.run(_time(argv[1], Path(argv[2])))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
