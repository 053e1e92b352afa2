"""`python -m bench [NAME ...]`: run the benchmarks named (all by default) and print their figures.

Each is run by hand, on a quiet machine; nothing here passes or fails. Figures print as
Markdown tables (for bench/RESULTS.md); `--json FILE` keeps them for comparing runs.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.figures import Options, Section, markdown, write_json

# Name: (module, what it measures). Each module has `measure(options) -> Section`.
BENCHMARKS = {
    "ack": ("bench.ack", "Slack event acknowledgement at 50 and 200 concurrent senders, beside a bare slack-bolt app"),
    "alert": ("bench.alert", "report sent to alert arriving at the (fake) Slack Web API, 50 concurrent reporters"),
    "burst": ("bench.burst", "fifty Sends in the same instant: when the edits, receipts and alerts reached Slack"),
    "digest": ("bench.digest", "the weekly digest over 10k, 100k and 1M stored reports"),
    "verify": ("bench.verify", "`safeguard log verify` over 1M events"),
    "memory": ("bench.memory", "the server's resident memory with 10,000 half-finished dialogs"),
    "scale": ("bench.scale", "a trust of 50 schools and 5,000 staff: report to alert, one server process and two, "
                             "on PostgreSQL"),
}


def machine() -> dict[str, str]:
    """The machine and software the figures were taken on."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                check=False, cwd=Path(__file__).parent).stdout.strip() or "unknown"
    except OSError:
        commit = "unknown"
    return {"cpu": cpu, "cores": str(os.cpu_count()), "memory": memory, "os": platform.platform(),
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version, "commit": commit}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"any of {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes, to check the benchmarks run (the test run's smoke test); not figures")
    parser.add_argument("--postgres", metavar="URL",
                        default=os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or None,
                        help="also run the database benchmarks on PostgreSQL (scale runs only there), in a scratch "
                             "database made on this server (default: BENCH_DATABASE_URL, else TEST_DATABASE_URL)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON to FILE")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"no benchmark called {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    names = args.names or list(BENCHMARKS)
    about = machine()
    print("Machine: " + "; ".join(f"{key} {value}" for key, value in about.items()), flush=True)
    sections: list[Section] = []
    with tempfile.TemporaryDirectory(prefix="safeguard-bench-") as workdir:
        options = Options(quick=args.quick, postgres=args.postgres, workdir=Path(workdir))
        for name in names:
            module, what = BENCHMARKS[name]
            print(f"\n== {name}: {what}", file=sys.stderr, flush=True)
            section = importlib.import_module(module).measure(options)
            sections.append(section)
            print("\n" + markdown(section), flush=True)
    if args.json is not None:
        write_json(args.json, sections, about)
    return 0


if __name__ == "__main__":
    sys.exit(main())
