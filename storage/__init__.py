"""Reports, alerts and the tamper-evident event log, on SQLAlchemy 2 (issue 3)."""
