"""Prometheus metrics of the matcher (served on /metrics with the kit's registry)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

# From 1 ms to 10 s: an encode takes tens of milliseconds, a batch or a takeover up to seconds.
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class MatcherMetrics:
    """Time spent per stage of a run, and runs published per trigger."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.stage_seconds = Histogram(
            "cx_matcher_stage_seconds",
            "Seconds spent per stage of matching (per batch or per application).",
            ["stage"],
            buckets=_BUCKETS,
            registry=registry,
        )
        self.runs = Counter("cx_matcher_runs", "MatchFound published, by trigger.", ["trigger"], registry=registry)

    def observe(self, stage: str, seconds: float) -> None:
        """Record one stage's duration."""
        self.stage_seconds.labels(stage).observe(seconds)

    def published(self, trigger: str, count: int = 1) -> None:
        """Count published runs."""
        if count:
            self.runs.labels(trigger).inc(count)
