"""Guarded rollouts on the local endpoint, as SageMaker's deployment guardrails shift traffic (TrafficRoutingConfig):

- canary:SIZE:BAKE  SIZE of the traffic (at most 50 %) to the new variant, bake, then all of it, bake;
- linear:STEP:BAKE  STEP more (10-50 %) per step, baking after each, until all of it;
- all-at-once:BAKE  all of it, bake.

During every bake the alarms (`--rollback-if`, e.g. `Invocation5XXErrors>1%` or `ModelLatency.p99>200ms`) are
evaluated on the new variant's metrics since the bake began, as the guardrails' CloudWatch alarms watch the green
fleet; one that fires sends every request back to the old weights at once. Each step and decision is an event
kept for the report.
"""

from __future__ import annotations

import math
import operator
import re
import time
from dataclasses import dataclass, field
from typing import Callable

from imagekit import contract
from imagekit.errors import ImagekitError
from imagekit.smoke import endpoint_metrics
from imagekit.smoke.variants import Router, Variant

CANARY_MAX, LINEAR_MIN, LINEAR_MAX = 0.5, 0.1, 0.5  # TrafficRoutingConfig's CanarySize and LinearStepSize bounds
BAKE_MAX_S = 3600  # WaitIntervalInSeconds' upper bound
POLICY_EXAMPLE = "--rollout canary:10%:60s, --rollout linear:10%:30s or --rollout all-at-once:60s"
ALARM_EXAMPLE = "--rollback-if 'Invocation5XXErrors>1%' or --rollback-if 'ModelLatency.p99>200ms'"
ALARM = re.compile(r"(?P<metric>[A-Za-z0-9]+)(?:\.(?P<stat>[A-Za-z0-9.]+))?\s*(?P<op>>=|<=|>|<)\s*"
                   r"(?P<value>\d+(?:\.\d+)?)\s*(?P<unit>%|ms|us|s)?")
OPERATORS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
LATENCY_UNITS = {"us": 1.0, "ms": 1e3, "s": 1e6, None: 1.0}  # to microseconds, CloudWatch's unit for latency
ERROR_METRICS = (contract.METRIC_4XX, contract.METRIC_5XX)
LATENCY_METRICS = (contract.METRIC_MODEL_LATENCY, contract.METRIC_OVERHEAD_LATENCY)


@dataclass(frozen=True)
class Policy:
    kind: str  # canary, linear, all-at-once
    step: float  # share of the traffic per step (1 for all-at-once)
    bake_s: float

    def shares(self) -> list[float]:
        """The new variant's share of the traffic after each step."""
        if self.kind == "canary":
            return [self.step, 1.0]
        if self.kind == "linear":
            steps = math.ceil(round(1 / self.step, 9))
            return [min(1.0, round(self.step * n, 9)) for n in range(1, steps + 1)]
        return [1.0]


def parse_policy(text: str) -> Policy:
    kind, *rest = text.split(":")
    try:
        if kind in ("canary", "linear") and len(rest) == 2 and rest[0].endswith("%"):
            step, bake = float(rest[0][:-1]) / 100, _seconds(rest[1])
        elif kind == "all-at-once" and len(rest) == 1:
            step, bake = 1.0, _seconds(rest[0])
        else:
            raise ValueError
    except ValueError:
        raise ImagekitError(f"--rollout {text!r} is not KIND:SIZE%:BAKE.", f"For example: {POLICY_EXAMPLE}.") from None
    allowed = {"canary": 0 < step <= CANARY_MAX, "linear": LINEAR_MIN <= step <= LINEAR_MAX, "all-at-once": True}
    if not allowed[kind] or not 0 <= bake <= BAKE_MAX_S:
        raise ImagekitError(f"--rollout {text!r}: SageMaker's guardrails allow a canary of at most 50 %, linear steps "
                            f"of 10-50 % and bake periods of 0-{BAKE_MAX_S} s.", f"For example: {POLICY_EXAMPLE}.")
    return Policy(kind, step, bake)


def _seconds(text: str) -> float:
    value = float(text[:-2]) / 1e3 if text.endswith("ms") else float(text[:-1]) * 60 if text.endswith("m") else \
        float(text.removesuffix("s"))
    if not math.isfinite(value):
        raise ValueError(text)
    return value


@dataclass(frozen=True)
class Alarm:
    text: str
    metric: str
    stat: str
    compare: str
    threshold: float  # in CloudWatch's unit of the statistic: a rate (0-1) for an error %, microseconds for latency

    def observe(self, samples: list[endpoint_metrics.Sample]) -> float | None:
        numbers = [value for _, value in endpoint_metrics.values(samples, self.metric)]
        return endpoint_metrics.statistic(numbers, self.stat)

    def fires(self, observed: float | None) -> bool:
        """No data is no alarm (CloudWatch's INSUFFICIENT_DATA does not trip a guardrail)."""
        return observed is not None and OPERATORS[self.compare](observed, self.threshold)

    def show(self, observed: float | None) -> str:
        if observed is None:
            return "no data"
        if self.metric in ERROR_METRICS and self.stat == "Average":
            return f"{observed * 100:.2f}%"
        if self.metric in LATENCY_METRICS:
            return f"{observed / 1e3:.1f}ms"
        return f"{observed:g}"


def parse_alarm(text: str) -> Alarm:
    match = ALARM.fullmatch(text.strip())
    hint = f"For example: {ALARM_EXAMPLE}."
    if not match:
        raise ImagekitError(f"--rollback-if {text!r} is not METRIC[.STAT]>THRESHOLD.", hint)
    metric, stat, unit = match["metric"], match["stat"], match["unit"]
    value = float(match["value"])
    if metric not in endpoint_metrics.UNITS:
        raise ImagekitError(f"--rollback-if {text!r}: {metric} is not a metric the endpoint keeps "
                            f"({', '.join(endpoint_metrics.UNITS)}).", hint)
    if metric in ERROR_METRICS and unit == "%":
        stat, value = stat or "Average", value / 100  # the 0/1 samples' average is the error rate
        if stat != "Average":
            raise ImagekitError(f"--rollback-if {text!r}: an error rate in % is the Average of {metric}.", hint)
    elif metric in LATENCY_METRICS and unit != "%":
        stat, value = stat or "Average", value * LATENCY_UNITS[unit]
    elif unit is None:
        stat = stat or "Sum"
    else:
        raise ImagekitError(f"--rollback-if {text!r}: {unit} does not fit {metric} (% for the error metrics, "
                            "us/ms/s for the latencies, a plain number for counts).", hint)
    if not endpoint_metrics.is_statistic(stat):
        raise ImagekitError(f"--rollback-if {text!r}: {stat} is not a CloudWatch statistic (SampleCount, Average, "
                            "Sum, Minimum, Maximum, or a percentile such as p99).", hint)
    return Alarm(text.strip(), metric, stat, match["op"], value)


def check_rollout(variants: list[Variant], target: str) -> None:
    """What cannot be rolled out, refused before the engine is asked."""
    names = [v.name for v in variants]
    if target not in names:
        raise ImagekitError(f"--rollout-to {target}: there is no variant of that name ({', '.join(names)}).",
                            "Name one of the --variant NAMEs.")
    if not any(v.weight > 0 for v in variants if v.name != target):
        raise ImagekitError(f"--rollout to {target}: no other variant has traffic to shift from.",
                            f"Start {target} at weight 0 beside the current one, e.g. --variant blue=my-model:v1:1 "
                            f"--variant {target}=my-model:v2:0.")


@dataclass
class Rollout:
    """One rollout of *target* on *router*: `run()` steps, bakes, and completes or rolls back."""

    router: Router
    target: str
    policy: Policy
    alarms: list[Alarm]
    on_event: Callable[[dict], None] = lambda event: None
    events: list[dict] = field(default_factory=list)
    outcome: str = "running"  # then completed or rolled-back (stopped: interrupted, weights left as they were)
    fired: str | None = None  # the alarm that rolled it back

    def weights(self, original: dict[str, float], share: float) -> dict[str, float]:
        """*share* of the traffic to the target, the rest split among the others as their old weights were."""
        total = sum(original.values())
        others = sum(w for name, w in original.items() if name != self.target)
        return {name: round(share * total if name == self.target else (1 - share) * total * w / others, 9)
                for name, w in original.items()}

    def note(self, event: str, **fields: object) -> None:
        entry = {"at": round(time.time(), 3), "event": event, **fields}
        self.events.append(entry)
        self.on_event(entry)

    def run(self) -> str:
        """Step, bake and decide; the outcome. Interrupted (Ctrl-C), the weights stay where they were."""
        original = {name: v.weight for name, v in self.router.variants.items()}
        self.note("start", policy=f"{self.policy.kind} {self.policy.step:.0%} bake {self.policy.bake_s:g}s",
                  target=self.target, weights=original, alarms=[a.text for a in self.alarms])
        already = original[self.target] / sum(original.values())  # a target with traffic starts from its share
        for share in [share for share in self.policy.shares() if share > already]:
            self.router.set_weights(self.weights(original, share))
            self.note("shift", share=share, weights=self.weights(original, share))
            fired = self._bake()
            if fired is not None:
                alarm, observed = fired
                self.router.set_weights(original)
                self.outcome, self.fired = "rolled-back", alarm.text
                self.note("rollback", alarm=alarm.text, observed=alarm.show(observed), share=share, weights=original)
                return self.outcome
        self.outcome = "completed"
        self.note("complete", weights={n: v.weight for n, v in self.router.variants.items()})
        return self.outcome

    def _bake(self) -> tuple[Alarm, float | None] | None:
        """Evaluate the alarms until the bake ends: the first that fires and what it observed, or None."""
        started = time.time()
        deadline = started + self.policy.bake_s
        while True:
            samples = [s for s in self.router.samples(self.target) if s.at >= started]
            observed = {alarm: alarm.observe(samples) for alarm in self.alarms}
            for alarm, value in observed.items():
                if alarm.fires(value):
                    return alarm, value
            left = deadline - time.time()
            if left <= 0:
                self.note("baked", seconds=self.policy.bake_s, invocations=len(samples),
                          alarms={a.text: a.show(v) for a, v in observed.items()})
                return None
            time.sleep(min(contract.ROLLOUT_EVALUATION_S, left))

    def report(self) -> dict:
        return {"target": self.target, "policy": self.policy.kind, "step": self.policy.step,
                "bake_s": self.policy.bake_s, "alarms": [a.text for a in self.alarms], "outcome": self.outcome,
                "alarm": self.fired, "events": self.events}


def describe(event: dict) -> str:
    """One log line per rollout event."""
    kind = event["event"]
    weights = ", ".join(f"{name} {weight:g}" for name, weight in (event.get("weights") or {}).items())
    if kind == "start":
        return (f"rollout: {event['policy']} to {event['target']}, alarms {event['alarms'] or 'none'}; "
                f"weights {weights}")
    if kind == "shift":
        return f"rollout: {event['share']:.0%} of the traffic to the new variant (weights {weights})"
    if kind == "baked":
        observed = ", ".join(f"{a} observed {v}" for a, v in event["alarms"].items()) or "no alarms"
        return f"rollout: baked {event['seconds']:g}s, {event['invocations']} invocations: {observed}"
    if kind == "rollback":
        return (f"rollout: alarm {event['alarm']} fired (observed {event['observed']}) at {event['share']:.0%}: "
                f"rolled back to {weights}")
    return f"rollout: {kind} (weights {weights})"
