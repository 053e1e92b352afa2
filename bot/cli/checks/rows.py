"""One row of `safeguard doctor`'s table: what was checked, how it went, and how to fix it."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum


class Status(StrEnum):
    """How a check went."""

    OK = "ok"
    PROBLEM = "problem"
    # Not used by this deployment (Teams with no Teams ids), or not checkable until a problem
    # above is fixed (the key, before the database is migrated): never a pass it did not earn.
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Row:
    """One check's outcome; `fix` says what to do about a problem. Ids and counts only, never a name or a report's words."""

    check: str
    status: Status
    detail: str
    fix: str = ""


def ok(check: str, detail: str) -> Row:
    return Row(check, Status.OK, detail)


def problem(check: str, detail: str, fix: str) -> Row:
    return Row(check, Status.PROBLEM, detail, fix)


def skipped(check: str, detail: str) -> Row:
    return Row(check, Status.SKIPPED, detail)


def healthy(rows: Sequence[Row]) -> bool:
    """Whether no row is a problem."""
    return all(row.status is not Status.PROBLEM for row in rows)


def as_json(rows: Sequence[Row]) -> str:
    """The rows for a machine: {"ok": ..., "checks": [{check, status, detail, fix}, ...]}."""
    return json.dumps({"ok": healthy(rows), "checks": [asdict(row) for row in rows]}, indent=2, ensure_ascii=False)


def as_table(rows: Sequence[Row], width: int = 100) -> str:
    """The rows as a plain-text table for a terminal: check, status, detail, and the fix beneath a problem."""
    name_width = max([len("check"), *(len(row.check) for row in rows)])
    status_width = max(len(status.value) for status in Status)
    indent = " " * (name_width + status_width + 4)
    text_width = max(width - len(indent), 30)
    lines = [f"{'check':<{name_width}}  {'status':<{status_width}}  detail",
             f"{'-' * name_width}  {'-' * status_width}  {'-' * min(text_width, 40)}"]
    for row in rows:
        detail = textwrap.wrap(row.detail, text_width) or [""]
        lines.append(f"{row.check:<{name_width}}  {row.status.value:<{status_width}}  {detail[0]}")
        lines.extend(indent + more for more in detail[1:])
        if row.fix:
            lines.extend(indent + part for part in textwrap.wrap("fix: " + row.fix, text_width,
                                                                  subsequent_indent="     "))
    problems = sum(row.status is Status.PROBLEM for row in rows)
    lines.append("")
    lines.append("All is well." if not problems else f"{problems} problem(s): see the fixes above.")
    return "\n".join(lines) + "\n"
