"""A report's life: submit, route, acknowledge, note, close, escalate; who may act; what the bot says."""
