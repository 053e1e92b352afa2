"""What is sent unprompted: delivery rounds, retries, notices, queued digests, undelivered."""
