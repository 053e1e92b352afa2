"""The policy engine: who must hear about a report, under the school's own policy. Pure: no I/O but loading YAML."""
