"""Which hash chain of the log a report's events belong to: its school's, read from its reference.

In a trust every school keeps a chain of its own, so that its records verify and export on
their own (a school that leaves the trust takes them). The chain is the school code a trust
reference carries (`SG-BPA-2026-0001` is chain "bpa"); a lone school's references
(`SG-2026-0001`), and events of the trust as a whole, are in the default chain "".
"""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, not_
from sqlalchemy.orm import InstrumentedAttribute

DEFAULT = ""
TRUST_REFERENCE = re.compile(r"^[A-Z]{2,3}-([A-Z0-9]{2,5})-\d{4}-\d+$")
CODE = re.compile(r"^[a-z0-9]{2,5}$")  # a school code as a chain name: 2 to 5 letters or digits, lower case


def chain_of(reference: str) -> str:
    """The chain a report's events go in: the school code of `SG-BPA-2026-0001` (lower case), else ""."""
    # Three dashes is a trust reference: prefix, school code, year, number. An approval request's
    # (AR-BPA-2026-0001, SM-BPA-2026-0001: any kind's prefix, routing.requests) goes in its school's chain too.
    found = TRUST_REFERENCE.match(reference)
    return found.group(1).lower() if found else DEFAULT


def check_chain(chain: str) -> str:
    """`chain` if it can name a chain ("" or a school code); a ValueError otherwise (a bug, not input)."""
    if chain != DEFAULT and CODE.match(chain) is None:
        raise ValueError(f"{chain!r} is not a chain: give a school code of 2 to 5 lower-case letters or digits, or ''")
    return chain


def in_chain(reference: InstrumentedAttribute[str], chain: str) -> ColumnElement[bool]:
    """SQL for `chain_of(reference) == chain`, so the database picks a chain's reports."""
    trust_reference = reference.like("SG-%-%-%")
    if chain == DEFAULT:
        return not_(trust_reference)
    return reference.like(f"SG-{check_chain(chain).upper()}-%-%")


def shown(chain: str) -> str:
    """How a person is told which chain: `school BPA's records`, or the default chain's words."""
    return f"school {chain.upper()}'s records" if chain else "the log"
