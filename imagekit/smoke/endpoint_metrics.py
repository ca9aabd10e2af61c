"""The router's per-variant metrics as CloudWatch keeps them: one sample per invocation, statistics per period.

SageMaker emits, per InvokeEndpoint call and variant, `Invocations` 1, `Invocation4XXErrors` and
`Invocation5XXErrors` 1 or 0 (so their Average is the error rate), `ModelLatency` and `OverheadLatency` in
microseconds. GetMetricStatistics, GetMetricData, the rollout alarms and the live view all read the same samples
through `values` and `statistic`, so they agree with each other.
"""

from __future__ import annotations

import math
import re
from typing import Iterable, NamedTuple

from imagekit import contract

UNITS = {contract.METRIC_INVOCATIONS: "Count", contract.METRIC_4XX: "Count", contract.METRIC_5XX: "Count",
         contract.METRIC_MODEL_LATENCY: "Microseconds", contract.METRIC_OVERHEAD_LATENCY: "Microseconds"}
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
PERCENTILE = re.compile(r"p(\d{1,2}(?:\.\d{1,2})?|100)")


class Sample(NamedTuple):
    at: float  # epoch seconds when the answer went out
    status: int  # what the container answered (502 when it did not)
    model_us: float
    overhead_us: float


def values(samples: Iterable[Sample], metric: str, start: float = -math.inf, end: float = math.inf
           ) -> list[tuple[float, float]]:
    """(time, value) of *metric* for every sample in [start, end)."""
    pick = {contract.METRIC_INVOCATIONS: lambda s: 1.0,
            contract.METRIC_4XX: lambda s: float(400 <= s.status < 500),
            contract.METRIC_5XX: lambda s: float(s.status >= 500),
            contract.METRIC_MODEL_LATENCY: lambda s: s.model_us,
            contract.METRIC_OVERHEAD_LATENCY: lambda s: s.overhead_us}[metric]
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


def summary(samples: list[Sample]) -> dict:
    """Totals and latency percentiles since the start: the report's and the live view's numbers."""
    def percentiles(metric: str) -> dict:
        numbers = [value for _, value in values(samples, metric)]
        return {name: None if not numbers else round(statistic(numbers, name)) for name in ("p50", "p99")}

    return {contract.METRIC_INVOCATIONS: len(samples),
            contract.METRIC_4XX: sum(1 for s in samples if 400 <= s.status < 500),
            contract.METRIC_5XX: sum(1 for s in samples if s.status >= 500),
            contract.METRIC_MODEL_LATENCY: percentiles(contract.METRIC_MODEL_LATENCY),
            contract.METRIC_OVERHEAD_LATENCY: percentiles(contract.METRIC_OVERHEAD_LATENCY)}
