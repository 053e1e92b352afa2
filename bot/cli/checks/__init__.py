"""`safeguard doctor`'s checks: each returns rows of ok / problem / how to fix, never raises for what it finds."""
