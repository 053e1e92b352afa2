"""The example school config, for the demo, the console and the tests; copy it for your own school."""

from pathlib import Path

EXAMPLE_SCHOOL = Path(__file__).parent / "school.yaml"
