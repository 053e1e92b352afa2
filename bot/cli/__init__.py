"""The `safeguard` command: the entry point, and one module per command group."""
