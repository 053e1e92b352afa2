"""What this server process did, counted for Prometheus: reports received, messages sent, requests answered.

Each process counts only what it did itself (Prometheus adds up the servers sharing one
database); what lives in the database (the outbox's depth and oldest message, overdue reports)
is read when scraped, in bot/metrics/figures.py, so every server reports the same truth.

Labels come only from fixed vocabularies: a school's code, a category, a channel, a kind of
message, an HTTP status, one of our own routes. Never a reference, a name or anything typed:
how many disclosures a school has is for its own staff, and no figure may point at one report.
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram

# Queued to sent: seconds when the platform is up, up to the 15-minute back-off when it is not
# (bot/outbox/delivery.py), and hours for a message held for a platform that stays down.
LATENCY_BUCKETS = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 1800, 3600, 4 * 3600, float("inf"))


class Metrics:
    """The counters of one server process, in a registry of its own (tests run many servers in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.reports = Counter("safeguard_reports_received", "Reports this process stored (routed, or waiting to be).",
                               ["school", "category"], registry=self.registry)
        self.delivered = Counter("safeguard_messages_delivered", "Messages this process delivered.",
                                 ["channel", "kind"], registry=self.registry)
        self.failed = Counter("safeguard_message_send_failures",
                              "Attempts that failed in a way that can pass (tried again later).",
                              ["channel", "kind"], registry=self.registry)
        self.given_up = Counter("safeguard_messages_given_up",
                                "Messages the platform said can never be delivered (the DSL is told).",
                                ["channel", "kind"], registry=self.registry)
        self.latency = Histogram("safeguard_delivery_latency_seconds", "From a message queued to it delivered.",
                                 ["channel"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.escalations = Counter("safeguard_escalations",
                                   "Escalation steps and LADO reminders this process took.",
                                   ["school", "kind"], registry=self.registry)
        self.requests = Counter("safeguard_http_requests", "Requests this process answered, by route and status.",
                                ["route", "status"], registry=self.registry)

    def report_received(self, school: str, category: str) -> None:
        self.reports.labels(school=school, category=category).inc()

    def sent(self, channel: str, kind: str, queued_at: datetime | None, now: datetime) -> None:
        """A message delivered; its wait since it was queued goes into the latency histogram."""
        self.delivered.labels(channel=channel, kind=kind).inc()
        if queued_at is not None:
            self.latency.labels(channel=channel).observe(max((now - queued_at).total_seconds(), 0.0))

    def send_failed(self, channel: str, kind: str, *, permanent: bool) -> None:
        (self.given_up if permanent else self.failed).labels(channel=channel, kind=kind).inc()

    def escalated(self, school: str, kind: str) -> None:
        self.escalations.labels(school=school, kind=kind).inc()

    def answered(self, route: str, status: int) -> None:
        self.requests.labels(route=route, status=str(status)).inc()
