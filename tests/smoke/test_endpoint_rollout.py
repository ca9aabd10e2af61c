"""Guarded rollouts under generated load (stub models, no engine), the alarm and policy grammar, and the live view."""

from __future__ import annotations

import io
import threading
import time

import pytest

from imagekit.errors import ImagekitError
from imagekit.smoke import live
from imagekit.smoke.rollout import Rollout, check_rollout, describe, parse_alarm, parse_policy
from imagekit.smoke.variants import Variant

from .endpoint_stub import post, stub_endpoint

ALARMS = ["Invocation5XXErrors>1%", "ModelLatency.p99>5s"]  # latency generous: 2 busy CI cores


def _rollout_under_load(fail_every: int, policy: str) -> tuple[Rollout, dict]:
    """A rollout from blue to green while two clients keep sending requests; green fails every N-th request."""
    with stub_endpoint({"blue": 1.0, "green": 0.0}, fail_every={"green": fail_every}) as router:
        stop = threading.Event()

        def load() -> None:
            while not stop.is_set():
                post(router)
                time.sleep(0.002)

        clients = [threading.Thread(target=load, daemon=True) for _ in range(2)]
        for thread in clients:
            thread.start()
        try:
            rollout = Rollout(router, "green", parse_policy(policy), [parse_alarm(a) for a in ALARMS])
            rollout.run()
        finally:
            stop.set()
            for thread in clients:
                thread.join()
        return rollout, {name: v.weight for name, v in router.variants.items()}


def test_a_canary_to_a_good_variant_completes_with_every_step_logged() -> None:
    rollout, weights = _rollout_under_load(0, "canary:20%:2s")
    assert rollout.outcome == "completed" and rollout.fired is None
    assert weights == {"blue": 0.0, "green": 1.0}
    events = rollout.report()["events"]
    assert [e["event"] for e in events] == ["start", "shift", "baked", "shift", "baked", "complete"]
    assert [e["share"] for e in events if e["event"] == "shift"] == [0.2, 1.0]
    assert events[1]["weights"] == {"blue": 0.8, "green": 0.2}
    baked = events[2]
    assert baked["invocations"] > 0 and baked["alarms"]["Invocation5XXErrors>1%"] == "0.00%"
    assert "baked 2s" in describe(baked)


def test_a_canary_to_a_variant_failing_5_percent_rolls_back_naming_the_alarm() -> None:
    rollout, weights = _rollout_under_load(20, "canary:50%:30s")
    assert rollout.outcome == "rolled-back"
    assert rollout.fired == "Invocation5XXErrors>1%"
    assert weights == {"blue": 1.0, "green": 0.0}  # every request back on the old weights
    last = rollout.report()["events"][-1]
    assert last["event"] == "rollback" and last["share"] == 0.5
    assert last["observed"].endswith("%") and float(last["observed"][:-1]) > 1
    assert "alarm Invocation5XXErrors>1% fired" in describe(last)
    assert last["at"] - rollout.report()["events"][0]["at"] < 25  # as soon as it fires, not at the bake's end


def test_linear_steps_and_the_report() -> None:
    rollout, weights = _rollout_under_load(0, "linear:50%:0.5s")
    assert rollout.outcome == "completed" and weights == {"blue": 0.0, "green": 1.0}
    assert [e["share"] for e in rollout.events if e["event"] == "shift"] == [0.5, 1.0]
    report = rollout.report()
    assert (report["target"], report["policy"], report["step"], report["bake_s"]) == ("green", "linear", 0.5, 0.5)


def test_a_target_that_already_has_traffic_starts_from_its_share() -> None:
    with stub_endpoint({"blue": 3.0, "green": 1.0}) as router:
        rollout = Rollout(router, "green", parse_policy("linear:20%:0s"), [])
        assert rollout.run() == "completed"
    assert [e["share"] for e in rollout.events if e["event"] == "shift"] == [0.4, 0.6, 0.8, 1.0]
    assert rollout.events[1]["weights"] == {"blue": 2.4, "green": 1.6}  # the total weight is kept


def test_policies_follow_the_guardrails_bounds() -> None:
    assert parse_policy("linear:10%:30s").shares() == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    assert parse_policy("linear:30%:1m").shares() == [0.3, 0.6, 0.9, 1.0]
    assert parse_policy("linear:30%:1m").bake_s == 60
    assert parse_policy("canary:5%:500ms").shares() == [0.05, 1.0]
    assert parse_policy("all-at-once:10s").shares() == [1.0]
    for bad, message in [("canary:60%:10s", "at most 50 %"), ("linear:5%:10s", "10-50 %"),
                         ("canary:10%:2h", "not KIND:SIZE%:BAKE"), ("blue-green:10%:1s", "not KIND:SIZE%:BAKE"),
                         ("linear:20%:4000s", "0-3600 s"), ("canary:10:1s", "not KIND:SIZE%:BAKE")]:
        with pytest.raises(ImagekitError, match=message):
            parse_policy(bad)


def test_alarms_read_like_cloudwatch_alarms() -> None:
    errors = parse_alarm("Invocation5XXErrors>1%")
    assert (errors.metric, errors.stat, errors.compare, errors.threshold) == ("Invocation5XXErrors", "Average", ">",
                                                                              0.01)
    latency = parse_alarm("ModelLatency.p99 > 200ms")
    assert (latency.stat, latency.threshold) == ("p99", 200_000)  # CloudWatch keeps microseconds
    assert parse_alarm("Invocation4XXErrors>=3").stat == "Sum"
    assert parse_alarm("OverheadLatency.Maximum>1s").threshold == 1e6
    for bad, message in [("Errors>1%", "not a metric the endpoint keeps"), ("ModelLatency>1%", "does not fit"),
                         ("ModelLatency.p999x>1ms", "not a CloudWatch statistic"), ("latency is high", "METRIC"),
                         ("Invocation5XXErrors.Sum>1%", "is the Average")]:
        with pytest.raises(ImagekitError, match=message):
            parse_alarm(bad)


def test_a_rollout_needs_traffic_to_shift_from() -> None:
    with pytest.raises(ImagekitError, match="no other variant has traffic"):
        check_rollout([Variant("blue", "m:1", 0.0), Variant("green", "m:2", 1.0)], "green")
    with pytest.raises(ImagekitError, match="no variant of that name"):
        check_rollout([Variant("blue", "m:1", 1.0)], "red")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


METRICS = {"blue": {"CurrentWeight": 0.9, "Invocations": 90, "Invocation4XXErrors": 9, "Invocation5XXErrors": 0,
                    "ModelLatency": {"p50": 1500, "p99": 12000}, "OverheadLatency": {"p50": 20, "p99": 90}},
           "green": {"CurrentWeight": 0.1, "Invocations": 0, "Invocation4XXErrors": 0, "Invocation5XXErrors": 0,
                     "ModelLatency": {"p50": None, "p99": None}, "OverheadLatency": {"p50": None, "p99": None}}}


def test_the_live_view_redraws_a_table_on_a_terminal_and_prints_lines_otherwise() -> None:
    terminal = _Terminal()
    with live.live_view(lambda: METRICS, stream=terminal):
        time.sleep(1.5)
    drawn = terminal.getvalue()
    assert "\x1b[" in drawn  # redrawn in place
    for cell in ("blue", "0.9 (90%)", "10.0%", "1.5", "12.0", "green", "0.1 (10%)"):
        assert cell in drawn
    plain = io.StringIO()
    with live.live_view(lambda: METRICS, stream=plain, interval=0.2):
        time.sleep(0.7)
    lines = plain.getvalue().splitlines()
    assert len(lines) >= 2 and "\x1b" not in plain.getvalue()
    assert lines[0] == ("variants: blue weight 0.9 (90%), 90 invocations, 4XX 10.0%, 5XX 0.0%, p50 1.5 ms, "
                        "p99 12.0 ms; green weight 0.1 (10%), 0 invocations, 4XX -, 5XX -, p50 - ms, p99 - ms")
    quiet = io.StringIO()
    with live.live_view(lambda: METRICS, quiet=True, stream=quiet):
        pass
    assert quiet.getvalue() == ""
