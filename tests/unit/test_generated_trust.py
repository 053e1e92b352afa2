"""The scale benchmark's generated trust is a trust Safeguard takes: it loads, and `policy check` finds nothing."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bench.generated_trust import write_trust
from routing.loader import PRESETS
from routing.trust import load_deployment
from tests.unit.test_cli import safeguard


def test_the_full_size_trust_loads_with_every_preset_and_the_trusts_own_chief_executive(tmp_path: Path) -> None:
    generated = write_trust(tmp_path, schools=50, staff=5000)
    trust = load_deployment(generated.trust_file)
    assert not trust.alone and len(trust.schools) == 50
    assert sum(len(school.people) for school in trust.schools) == 5000
    assert Counter(school.policy.id for school in trust.schools) == {preset: 10 for preset in PRESETS}
    bpet = next(school for school in trust.schools if school.policy.id == "bpet")
    assert [p.id for p in bpet.holders("chief_executive")] == ["trust.ceo"], "held by the trust's people"
    assert len({p.id for s in trust.schools for p in s.people}) == 5000, "one id is one person"
    for school, written in zip(trust.schools, generated.schools):
        assert school.key == written.code and school.person(written.dsl.person_id) is not None
        assert all(school.person(t.person_id) is not None and not school.person(t.person_id).roles  # type: ignore[union-attr]
                   for t in written.teachers)


def test_a_small_generated_trust_passes_policy_check(tmp_path: Path) -> None:
    generated = write_trust(tmp_path, schools=5, staff=60)
    result = safeguard("policy", "check", "--config", str(generated.trust_file))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("no findings") == 5, result.stdout


def test_too_few_staff_for_the_role_holders_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="fewer than its role holders"):
        write_trust(tmp_path, schools=5, staff=20)
