"""The notifier's own Prometheus metrics (beside the kit's HTTP and Kafka ones)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

# From half a millisecond to ten seconds: the window is normally a few milliseconds, and a store outage
# stretches it to the length of the retries.
WINDOW_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class NotifierMetrics:
    """Mail outcomes, and the one window in which a crash could repeat a mail."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.mails = Counter(
            "cx_notifier_mails",
            "Ledger entries finished, by kind and outcome.",
            ["kind", "outcome"],
            registry=registry,
        )
        self.delivery_failures = Counter(
            "cx_notifier_delivery_failures",
            "SMTP attempts that did not end with the relay's 250.",
            ["uncertain"],
            registry=registry,
        )
        self.unconfirmed_seconds = Histogram(
            "cx_notifier_unconfirmed_send_seconds",
            "Time from the relay accepting a mail (250) to the ledger recording it as sent: a crash inside this "
            "window sends the mail again on resume.",
            buckets=WINDOW_BUCKETS,
            registry=registry,
        )

    def finished(self, kind: str, outcome: str) -> None:
        """A ledger entry of `kind` ended: sent, skipped or rejected."""
        self.mails.labels(kind, outcome).inc()

    def delivery_failed(self, *, uncertain: bool) -> None:
        """An SMTP attempt ended without the relay's 250; `uncertain` when the data may have gone through."""
        self.delivery_failures.labels(str(uncertain).lower()).inc()

    def unconfirmed(self, seconds: float) -> None:
        """How long a mail the relay accepted waited for the ledger to record it."""
        self.unconfirmed_seconds.observe(seconds)
