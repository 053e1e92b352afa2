"""The server's timing settings from the environment: read, checked, named when wrong."""

from __future__ import annotations

import pytest

from bot.server import Settings
from bot.scheduler import EVERY_SECONDS
from routing.yamlfields import InputError


def test_the_scheduler_interval_comes_from_the_environment() -> None:
    assert Settings.from_env({}).scheduler_seconds == EVERY_SECONDS
    assert Settings.from_env({"SAFEGUARD_SCHEDULER_SECONDS": "0.5"}).scheduler_seconds == 0.5


@pytest.mark.parametrize("value", ["soon", "0", "-3", "86400"])
def test_a_scheduler_interval_that_is_not_seconds_is_refused_by_name(value: str) -> None:
    with pytest.raises(InputError, match=f"SAFEGUARD_SCHEDULER_SECONDS '{value}': not a number of seconds"):
        Settings.from_env({"SAFEGUARD_SCHEDULER_SECONDS": value})
