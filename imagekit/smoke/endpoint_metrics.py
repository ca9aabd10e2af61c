"""The router's per-variant metrics as CloudWatch keeps them: one sample per invocation, statistics per period.

SageMaker emits, per InvokeEndpoint call and variant, `Invocations` 1, `Invocation4XXErrors` and
`Invocation5XXErrors` 1 or 0 (so their Average is the error rate), `ModelLatency` and `OverheadLatency` in
microseconds. GetMetricStatistics and GetMetricData read the kept samples (`values`, `statistic`); the live view,
the report and the rollout alarms read running totals (`Totals`) fed the same samples, so they agree, percentiles to
within half a histogram bucket.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Iterable, NamedTuple

from imagekit import contract

UNITS = {contract.METRIC_INVOCATIONS: "Count", contract.METRIC_4XX: "Count", contract.METRIC_5XX: "Count",
         contract.METRIC_MODEL_LATENCY: "Microseconds", contract.METRIC_OVERHEAD_LATENCY: "Microseconds"}
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
PERCENTILE = re.compile(r"p(\d{1,2}(?:\.\d{1,2})?|100)")
HISTOGRAM_STEP = math.log(1.01)  # percentile buckets 1 % wide: about 2,100 of them from 1 us to 20 min


class Sample(NamedTuple):
    at: float  # epoch seconds when the answer went out
    status: int  # what the container answered (500 when it did not); 1xx/3xx count as 4XX (a ModelError)
    model_us: float
    overhead_us: float


PICK = {contract.METRIC_INVOCATIONS: lambda s: 1.0,
        contract.METRIC_4XX: lambda s: float(s.status < 500 and not 200 <= s.status < 300),
        contract.METRIC_5XX: lambda s: float(s.status >= 500),
        contract.METRIC_MODEL_LATENCY: lambda s: s.model_us,
        contract.METRIC_OVERHEAD_LATENCY: lambda s: s.overhead_us}


def values(samples: Iterable[Sample], metric: str, start: float = -math.inf, end: float = math.inf
           ) -> list[tuple[float, float]]:
    """(time, value) of *metric* for every sample in [start, end)."""
    pick = PICK[metric]
    return [(s.at, pick(s)) for s in samples if start <= s.at < end]


def is_statistic(name: str) -> bool:
    return name in STATISTICS or bool(PERCENTILE.fullmatch(name))


def statistic(numbers: list[float], name: str) -> float | None:
    """CloudWatch's statistic *name* (Sum, Average, ..., or a percentile such as p99) of *numbers*; None if empty."""
    if not numbers:
        return None
    if name == "SampleCount":
        return float(len(numbers))
    if name == "Sum":
        return float(sum(numbers))
    if name == "Average":
        return sum(numbers) / len(numbers)
    if name == "Minimum":
        return float(min(numbers))
    if name == "Maximum":
        return float(max(numbers))
    match = PERCENTILE.fullmatch(name)
    if not match:
        raise ValueError(f"unknown statistic {name!r}")
    ordered = sorted(numbers)
    position = (len(ordered) - 1) * float(match.group(1)) / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def buckets(points: list[tuple[float, float]], start: float, end: float, period: int) -> dict[float, list[float]]:
    """The values of *points* grouped by period, each keyed by its period's start (aligned to *start*)."""
    grouped: dict[float, list[float]] = {}
    for at, value in points:
        if start <= at < end:
            grouped.setdefault(math.floor(start) + (at - math.floor(start)) // period * period, []).append(value)
    return grouped


class Running:
    """One metric's statistics kept as values arrive, in bounded memory: count, sum, minimum, maximum, and a
    histogram of logarithmic buckets (each HISTOGRAM_STEP wide) for percentiles. Reading it costs the number of
    buckets, not the number of samples, so the live view, the report and the alarms never sort the history (a
    sort of a million samples holds the GIL for seconds, and the router would count that wait as ModelLatency)."""

    def __init__(self) -> None:
        self.count, self.total, self.low, self.high = 0, 0.0, math.inf, -math.inf
        self.histogram: Counter[float] = Counter()

    def add(self, value: float) -> None:
        self.count += 1
        self.total += value
        self.low, self.high = min(self.low, value), max(self.high, value)
        self.histogram[math.floor(math.log(value) / HISTOGRAM_STEP) if value > 0 else -math.inf] += 1

    def statistic(self, name: str) -> float | None:
        """CloudWatch's statistic *name*; a percentile is exact to within half a bucket (HISTOGRAM_STEP / 2)."""
        if not self.count:
            return None
        exact = {"SampleCount": float(self.count), "Sum": self.total, "Average": self.total / self.count,
                 "Minimum": self.low, "Maximum": self.high}
        if name in exact:
            return exact[name]
        match = PERCENTILE.fullmatch(name)
        if not match:
            raise ValueError(f"unknown statistic {name!r}")
        rank = (self.count - 1) * float(match.group(1)) / 100
        seen = 0
        for bucket in sorted(self.histogram):
            seen += self.histogram[bucket]
            if seen > rank:
                middle = 0.0 if bucket == -math.inf else math.exp((bucket + 0.5) * HISTOGRAM_STEP)
                return min(max(middle, self.low), self.high)
        return self.high


class Totals:
    """Every metric of one variant (or one bake), kept as samples arrive."""

    def __init__(self) -> None:
        self.metrics = {metric: Running() for metric in UNITS}

    def add(self, sample: Sample) -> None:
        for metric, running in self.metrics.items():
            running.add(PICK[metric](sample))

    def statistic(self, metric: str, name: str) -> float | None:
        return self.metrics[metric].statistic(name)

    def summary(self) -> dict:
        """Totals and latency percentiles: the report's and the live view's numbers."""
        def percentiles(metric: str) -> dict:
            return {name: None if self.metrics[metric].count == 0 else round(self.statistic(metric, name))
                    for name in ("p50", "p99")}

        return {contract.METRIC_INVOCATIONS: self.metrics[contract.METRIC_INVOCATIONS].count,
                contract.METRIC_4XX: round(self.metrics[contract.METRIC_4XX].total),
                contract.METRIC_5XX: round(self.metrics[contract.METRIC_5XX].total),
                contract.METRIC_MODEL_LATENCY: percentiles(contract.METRIC_MODEL_LATENCY),
                contract.METRIC_OVERHEAD_LATENCY: percentiles(contract.METRIC_OVERHEAD_LATENCY)}
