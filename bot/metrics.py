"""Prometheus metrics, in a registry of their own per process (built once, in Services)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        # Not prometheus-client's global registry: tests and several apps in one process
        # would otherwise share (and collide on) the same series.
        self.registry = CollectorRegistry()
        self.commands = Counter(
            "chatops_commands_total",
            "Slash commands by area and outcome",
            ["area", "outcome"],
            registry=self.registry,
        )
        self.ack_seconds = Histogram(
            "chatops_ack_seconds",
            "Time to answer Slack's HTTP request (the ack)",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 3.0, 5.0),
            registry=self.registry,
        )
        self.wallaroo_errors = Counter(
            "chatops_wallaroo_errors_total",
            "Wallaroo failures by kind",
            ["kind"],
            registry=self.registry,
        )
        self.poll_seconds = Histogram(
            "chatops_poll_cycle_seconds",
            "Duration of one poll of every watched deployment or subscribed assay",
            ["job"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0),
            registry=self.registry,
        )
        self.alerts_sent = Counter(
            "chatops_alert_messages_total",
            "Alert messages delivered to Slack by kind (post, update, thread, upload)",
            ["kind"],
            registry=self.registry,
        )
        self.leader = Gauge(
            "chatops_scheduler_leader",
            "1 while this replica holds the poller lease (polls and sends alerts), else 0",
            registry=self.registry,
        )
