"""The example school config, for the demo, the console and the tests; copy it for your own school."""

from pathlib import Path

EXAMPLE_SCHOOL = Path(__file__).parent / "school.yaml"
# A made-up pupil roster as an MIS exports it, for `safeguard pupils import` and the tests.
EXAMPLE_ROSTER = Path(__file__).parent / "roster.csv"
# An example trust of three schools (one on BPET's policy, one on Mersham's, one on St Leonard's).
EXAMPLE_TRUST = Path(__file__).parent / "trust.yaml"
