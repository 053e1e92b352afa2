"""Every quoted phrase in a preset stands, word for word, in the section of the policy it cites."""

from __future__ import annotations

import bisect
import os
import re
from pathlib import Path

import pytest

from routing.check import rule_variants
from routing.loader import PRESETS, resolve_policy
from routing.policy import Citation, Policy

ROOT = Path(__file__).resolve().parents[2]
SEEDS = Path(os.environ.get("SAFEGUARD_SEEDS_DIR", ROOT.parent / "shared" / "seeds"))

needs_seeds = pytest.mark.skipif(
    not SEEDS.is_dir(),
    reason=f"the policy texts are not at {SEEDS} (set SAFEGUARD_SEEDS_DIR to the shared/seeds folder)",
)


def normalise(text: str) -> str:
    """Fold the policies' curly quotes, Word bookmarks, empty links and runs of white space."""
    text = re.sub(r"\[bookmark: [^\]]*\]", "", text)
    text = re.sub(r"\[([^\]]*)\]\(#\)", r"\1", text)
    text = re.sub("[\u2018\u2019\u201c\u201d\"']", "'", text)
    return re.sub(r"[ \t\u00a0]+", " ", text)


def all_citations(policy: Policy) -> list[Citation]:
    rules = [variant for rule in policy.rules.values() for _, variant in rule_variants(rule)]
    found = [c for rule in rules for c in rule.plan.citations]
    found += [c for rule in rules for o in rule.subjects.values() for c in o.citations]
    found += [c for flag in policy.flags.values() for c in flag.citations]
    # The request procedures (a blocked site, a new social media site): each kind's and each step's.
    found += [c for kind in policy.requests.values() for c in kind.citations]
    found += [c for kind in policy.requests.values() for step in kind.steps
              for c in (*step.citations, *step.instead_citations)]
    return [c for c in found if c.quote is not None]


class Seed:
    """A policy text with the positions of the section headings its preset declares."""

    def __init__(self, policy: Policy) -> None:
        assert policy.seed is not None
        self.text = normalise((SEEDS / policy.seed).read_text(encoding="utf-8"))
        lines = self.text.split("\n")
        offsets = [0]
        for line in lines:
            offsets.append(offsets[-1] + len(line) + 1)
        self.starts: list[tuple[int, str]] = []
        self.missing: list[str] = []
        for section in policy.sections.values():
            heading = normalise(section.heading).strip()
            # The last line that is exactly the heading: the body, after any table of contents.
            hits = [offsets[i] for i, line in enumerate(lines) if line.strip() == heading]
            if hits:
                self.starts.append((hits[-1], section.id))
            else:
                self.missing.append(section.heading)
        self.starts.sort()

    def sections_quoting(self, quote: str) -> set[str]:
        quote = normalise(quote)
        found = set()
        for match in re.finditer(re.escape(quote), self.text):
            index = bisect.bisect_right([s for s, _ in self.starts], match.start()) - 1
            found.add(self.starts[index][1] if index >= 0 else "(before the first section)")
        return found


@needs_seeds
@pytest.mark.parametrize("preset", PRESETS)
def test_every_section_heading_is_in_the_policy_text(preset: str) -> None:
    policy = resolve_policy(preset)
    assert Seed(policy).missing == []


@needs_seeds
@pytest.mark.parametrize("preset", PRESETS)
def test_every_quote_stands_in_the_section_it_cites(preset: str) -> None:
    policy = resolve_policy(preset)
    seed = Seed(policy)
    wrong = []
    for citation in all_citations(policy):
        assert citation.quote is not None
        sections = seed.sections_quoting(citation.quote)
        if citation.section not in sections:
            wrong.append(f"{citation.section}: {citation.quote!r} found in {sorted(sections) or 'no section'}")
    assert wrong == []


@pytest.mark.parametrize("preset", PRESETS)
def test_every_rule_and_flag_cites_something(preset: str) -> None:
    policy = resolve_policy(preset)
    for rule in policy.rules.values():
        assert rule.plan.citations
        assert all(o.citations for o in rule.subjects.values())
    assert all(f.citations for f in policy.flags.values())
