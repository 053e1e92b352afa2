"""Benchmarks, run by hand (`python -m bench`): figures and ratios, never a test's pass or fail."""
