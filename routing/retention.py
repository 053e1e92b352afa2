"""How long a closed report is kept before its words are erased: the school's `retention:` rules over the defaults.

A rule keeps a report for a period after it was closed. Which rule applies, most specific first:
the hand-off rule once the report was handed on to a record kept elsewhere (a child protection
file: that file is then the record); then a rule naming both its category and its closing
decision; then one naming its decision; then one naming its category; then the default. A
school's rule replaces the built-in rule for the same category and decision; the built-in rules
it does not replace still apply (so a school's shorter `default` leaves a child protection
report at its own, longer period).
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from routing.vocabulary import Category, allowed
from routing.yamlfields import Fields, InputError

# The decisions a report is closed with: bot.cases.messages.CLOSE_DECISIONS' keys (a test holds
# the two together; routing imports nothing of bot's).
DECISIONS = ("no_further_action", "handled_in_school", "early_help", "social_care", "police", "lado")
PERIOD = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")


@dataclass(frozen=True)
class Period:
    """A span of calendar years, months and days, as ISO 8601 writes it (P6Y, P18M, P90D)."""

    years: int = 0
    months: int = 0
    days: int = 0

    def after(self, start: datetime) -> datetime:
        """`start` moved on by this period; a day past the month's end falls on its last day (31 Jan + P1M: 28 Feb)."""
        months = start.month - 1 + self.months + 12 * self.years
        year, month = start.year + months // 12, months % 12 + 1
        day = min(start.day, monthrange(year, month)[1])
        return start.replace(year=year, month=month, day=day) + timedelta(days=self.days)

    @property
    def least_days(self) -> int:
        """The fewest days it can span (a year is at least 365 days, a month at least 28)."""
        return 365 * self.years + 28 * self.months + self.days

    def __str__(self) -> str:
        parts = [f"{n}{unit}" for n, unit in ((self.years, "Y"), (self.months, "M"), (self.days, "D")) if n]
        return "P" + "".join(parts)


def parse_period(value: object) -> Period:
    """A period from the config: `P6Y`, `P18M`, `P2W`, `P90D`, `P1Y6M`, or a whole number of years; ValueError if not."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return Period(years=value)
    text = str(value).strip().upper() if isinstance(value, str) else ""
    match = PERIOD.match(text)
    if match is None or not any(match.groups()):
        raise ValueError(f"{value!r} is not a period; write it ISO 8601 style (P6Y, P18M, P90D) or as a number of years")
    years, months, weeks, days = (int(g) if g else 0 for g in match.groups())
    period = Period(years, months, days + 7 * weeks)
    if period == Period():
        raise ValueError(f"{value!r} is a period of nothing; a record is kept for some time after it is closed")
    return period


@dataclass(frozen=True)
class Rule:
    """How long reports of a category and/or decision are kept after closing (neither: the default)."""

    period: Period
    category: str | None = None
    decision: str | None = None
    handed_on: bool = False
    source: str = "school config"  # or the guidance a built-in rule rests on

    @property
    def name(self) -> str:
        """The rule as `records due` and the `erased` event name it: `category colleague_concern, decision lado: P50Y`."""
        if self.handed_on:
            what = "handed on"
        else:
            named = [f"category {self.category}" if self.category else "", f"decision {self.decision}" if self.decision else ""]
            what = ", ".join(n for n in named if n) or "default"
        return f"{what}: {self.period}"


# The defaults, each with where it comes from (README "How long records are kept"). Safeguard
# does not hold dates of birth or of leaving, so a period that guidance counts from those is
# counted from closing at a length that covers it; where unsure, the longer period.
DEFAULTS = (
    # No series of the IRMS toolkit fits an online-safety incident exactly; six years after
    # closing outlasts the toolkit's "current year + 3" for other records of contact with pupils
    # and the Limitation Act 1980's six years for most claims.
    Rule(Period(years=6), source="IRMS toolkit; Limitation Act 1980 s.2, s.5"),
    # IRMS toolkit: child protection records go with the pupil's file, kept to date of birth + 25
    # years. A pupil is under 25 when their report is closed, so 25 years from closing covers it.
    Rule(Period(years=25), category=Category.PUPIL_DISCLOSURE.value, source="IRMS toolkit (child protection)"),
    Rule(Period(years=25), decision="early_help", source="IRMS toolkit (child protection)"),
    Rule(Period(years=25), decision="social_care", source="IRMS toolkit (child protection)"),
    Rule(Period(years=25), decision="police", source="IRMS toolkit (child protection)"),
    # KCSIE Part four, IRMS toolkit: an allegation against staff is kept on the personnel file to
    # normal pension age or for 10 years from the allegation, whichever is longer; low-level
    # concerns at least until the member of staff leaves. Neither date is known here: 50 years
    # covers someone aged 17 at the allegation to a pension age of 67.
    Rule(Period(years=50), category=Category.COLLEAGUE_CONCERN.value, source="KCSIE Part four; IRMS toolkit"),
    Rule(Period(years=50), decision="lado", source="KCSIE Part four; IRMS toolkit"),
    # Handed on to a child protection (or personnel) file: that file is the record, so the copy
    # here is minimised after the DSL has had time to check the file holds everything.
    Rule(Period(months=3), handed_on=True, source="data minimisation, UK GDPR Art. 5(1)(c), (e)"),
)


@dataclass(frozen=True)
class Retention:
    """A school's retention rules: its own over the built-in ones."""

    rules: tuple[Rule, ...] = field(default_factory=lambda: DEFAULTS)

    def rule_for(self, category: str, decision: str | None, *, handed_on: bool) -> Rule:
        """The rule that keeps a report (see the module's docstring for the order)."""
        by_key = {(r.category, r.decision, r.handed_on): r for r in self.rules}
        if handed_on:
            return by_key[(None, None, True)]
        keys = [(category, decision), (None, decision)] if decision is not None else []
        for wanted in (*keys, (category, None), (None, None)):
            found = by_key.get((*wanted, False))
            if found is not None:
                return found
        raise AssertionError("the default rule is always there")

    @property
    def shortest(self) -> Period:
        """The shortest period of any rule: nothing closed more recently than that can be due."""
        return min((r.period for r in self.rules), key=lambda p: p.least_days)


def read_retention(top: Fields) -> Retention:
    """The `retention:` section of a school config (absent: the defaults), every field checked."""
    if top.data.get("retention") is None:
        return Retention()
    fields = top.child("retention")
    fields.only(("default", "handed_on", "rules"))
    own: list[Rule] = []
    for key, handed_on in (("default", False), ("handed_on", True)):
        if key in fields.data:
            own.append(Rule(_period(fields, key), handed_on=handed_on))
    raw = fields.data.get("rules")
    if raw is not None and not isinstance(raw, list):
        raise fields.error("expected a list of rules, each {category: ..., decision: ..., keep: P6Y}", "rules")
    seen: dict[tuple[str | None, str | None], int] = {}
    for index, entry in enumerate(raw or []):
        rule = fields.nested(entry, f"rules[{index}]")
        rule.only(("category", "decision", "keep"))
        category, decision = rule.optional_string("category"), rule.optional_string("decision")
        if category is not None and category not in {c.value for c in Category}:
            raise rule.error(f"unknown category {category!r}; allowed: {allowed(Category)}", "category")
        if decision is not None and decision not in DECISIONS:
            raise rule.error(f"unknown decision {decision!r}; allowed: {', '.join(DECISIONS)}", "decision")
        if category is None and decision is None:
            raise rule.error("names neither a category nor a decision; the rule for everything else is `default`")
        if (category, decision) in seen:
            raise rule.error(f"the same category and decision as rules[{seen[(category, decision)]}]")
        seen[(category, decision)] = index
        own.append(Rule(_period(rule, "keep"), category=category, decision=decision))
    replaced = {(r.category, r.decision, r.handed_on) for r in own}
    kept = tuple(r for r in DEFAULTS if (r.category, r.decision, r.handed_on) not in replaced)
    return Retention(kept + tuple(own))


def _period(fields: Fields, key: str) -> Period:
    if key not in fields.data:
        raise fields.error("missing", key)
    try:
        return parse_period(fields.data[key])
    except ValueError as exc:
        raise fields.error(str(exc), key) from None


__all__ = ["DECISIONS", "DEFAULTS", "InputError", "Period", "Retention", "Rule", "parse_period",
           "read_retention"]
