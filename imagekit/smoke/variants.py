"""Production variants locally: several serve containers behind one router that splits traffic like an endpoint.

The router listens on one port, sends each POST /invocations to a variant picked by weight ÷ sum of weights
(or to the one named by X-Amzn-SageMaker-Target-Variant), answers with x-Amzn-Invoked-Production-Variant, and
records one sample per invocation under CloudWatch's names (endpoint_metrics). The same port answers boto3:
InvokeEndpoint at /endpoints/NAME/invocations and a SageMaker/CloudWatch subset (endpoint_api). POST
/_imagekit/weights {"NAME": weight, ...} changes weights at once; GET /_imagekit/metrics returns the metrics.
"""

from __future__ import annotations

import http.client
import itertools
import json
import math
import random
import sys
import threading
import time
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterator, NamedTuple
from urllib.parse import urlsplit

from imagekit import contract, engine, interrupts
from imagekit.errors import ImagekitError
from imagekit.smoke import endpoint_api, endpoint_metrics, logs
from imagekit.smoke.common import finish_run, repeat_concurrently, run_workdir
from imagekit.smoke.report import Check, Report
from imagekit.smoke.serving import (
    DEFAULT_PAYLOAD,
    _headers,
    _invoke,
    _model_dir,
    _payload,
    _stop,
    _wait_ready,
    check_startup_timeout,
    start_serving,
)

WEIGHTS_ROUTE = "/_imagekit/weights"
METRICS_ROUTE = "/_imagekit/metrics"
# What the platform passes on to the container (it strips every other request header).
FORWARDED_HEADERS = ("content-type", "accept", contract.HEADER_CUSTOM_ATTRIBUTES.lower(),
                     contract.HEADER_INFERENCE_ID.lower(), contract.HEADER_TARGET_MODEL.lower())
OVERSIZED_DRAIN_FACTOR = 4
SPLIT_SIGMAS = 4  # observed share may differ from weight ÷ sum by this many binomial standard deviations
DEFAULT_REQUESTS = 200
SAMPLE_ORDER_SLACK_S = 1.0


@dataclass
class Variant:
    name: str
    image: str
    weight: float
    port: int = 0  # host port of its container, once started
    container: object = field(default=None, repr=False, compare=False)  # its serve container, once started
    samples: deque = field(default_factory=lambda: deque(maxlen=contract.LOCAL_METRIC_SAMPLES), repr=False)
    totals: endpoint_metrics.Totals = field(default_factory=endpoint_metrics.Totals, repr=False)
    recorded: int = 0  # samples ever recorded (the deque keeps the newest LOCAL_METRIC_SAMPLES)


def parse_variant(text: str) -> Variant:
    """NAME=IMAGE:WEIGHT (the weight is after the last colon, so IMAGE may carry a tag)."""
    name, eq, rest = text.partition("=")
    image, colon, weight = rest.rpartition(":")
    try:
        value = float(weight)
    except ValueError:
        value = -1
    if not eq or not name or not colon or not image or not math.isfinite(value) or value < 0:
        raise ImagekitError(f"--variant {text!r} is not NAME=IMAGE:WEIGHT (a weight of 0 or more).",
                            "For example: --variant blue=my-model:v1:0.9 --variant green=my-model:v2:0.1")
    try:
        engine.check_reference(image)
    except ImagekitError as error:
        raise ImagekitError(f"--variant {text!r}: {error.message}", error.hint) from None
    return Variant(name, image, value)


def check_variants(variants: list[Variant]) -> None:
    """What CreateEndpointConfig refuses, refused before the engine is asked."""
    if not variants:
        raise ImagekitError("No --variant was given.", "For example: --variant blue=my-model:v1:1")
    bad = [v.name for v in variants if not endpoint_api.is_name(v.name)]
    if bad:
        raise ImagekitError(f"--variant name {bad[0]!r} is not a VariantName: letters, digits and hyphens, starting "
                            f"with a letter or digit, at most {contract.MAX_NAME_CHARS}.", "For example: --variant "
                            "blue=my-model:v1:1")
    if len({v.name for v in variants}) != len(variants):
        raise ImagekitError("Two --variant options use the same name.", "Give every variant its own NAME.")
    if not any(v.weight > 0 for v in variants):
        given = " ".join(f"{v.name}={v.image}:{v.weight:g}" for v in variants)
        raise ImagekitError(f"Every variant has weight 0 ({given}), so the endpoint would route no request.",
                            "Give at least one variant a weight above 0, e.g. "
                            f"--variant {variants[0].name}={variants[0].image}:1.")


class Router(ThreadingHTTPServer):
    """The endpoint's front door: weighted choice, target-variant header, metrics, live weights, and the AWS APIs
    (endpoint_api) on the same port."""

    daemon_threads = True

    def __init__(self, variants: list[Variant], port: int = 0,
                 endpoint_name: str = endpoint_api.DEFAULT_ENDPOINT_NAME) -> None:
        super().__init__(("127.0.0.1", port), _RouterHandler)
        self.endpoint_name = endpoint_name
        self.variants = {v.name: v for v in variants}
        self.lock = threading.Lock()
        self.random = random.Random(0)
        self.created = self.modified = time.time()
        self.desired: dict[str, float] | None = None  # weights of an update in progress (EndpointStatus Updating)
        self.update_timer: threading.Timer | None = None

    def choose(self, target: str | None) -> Variant | None:
        if target:
            return self.variants.get(target)
        with self.lock:
            live = [v for v in self.variants.values() if v.weight > 0]
            if not live:
                return None
            return self.random.choices(live, weights=[v.weight for v in live])[0]

    def _checked(self, weights: object) -> dict[str, float]:
        """*weights* as floats, or ValueError saying what is wrong: every route that changes weights comes through
        here (under the lock) before anything changes, so no weight can break the weighted choice."""
        if not isinstance(weights, dict):
            raise ValueError("give the weights as a JSON object of variant name to weight")
        unknown = [str(name) for name in weights if name not in self.variants]
        if unknown:
            raise ValueError(f"unknown variant(s): {', '.join(sorted(unknown))} (the variants: "
                             f"{', '.join(self.variants)})")
        bad = {name: weight for name, weight in weights.items() if isinstance(weight, bool)
               or not isinstance(weight, (int, float)) or not math.isfinite(weight) or weight < 0}
        if bad:
            name, weight = next(iter(bad.items()))
            raise ValueError(f"the weight {weight!r} of {name} is not a finite number of 0 or more")
        after = {**{name: v.weight for name, v in self.variants.items()}, **weights}
        if not math.isfinite(sum(after.values())):
            raise ValueError("the weights add up to more than a float can hold; use smaller numbers (only their "
                             "ratios matter)")
        if not any(after.values()):
            raise ValueError(f"every variant of {self.endpoint_name} would have weight 0, so it would route no "
                             "request")
        return {name: float(weight) for name, weight in weights.items()}

    def _apply(self, weights: dict[str, float]) -> None:
        for name, weight in weights.items():
            self.variants[name].weight = weight
        self.modified = time.time()

    def set_weights(self, weights: object) -> None:
        """New weights for the variants named, at once (the rollout's and /_imagekit/weights' way); ValueError,
        with nothing changed, if any weight is bad."""
        with self.lock:
            self._apply(self._checked(weights))

    def begin_update(self, weights: dict[str, float]) -> bool:
        """UpdateEndpointWeightsAndCapacities: Updating now, the new weights of the variants named and InService
        after LOCAL_ENDPOINT_UPDATE_S; False if an update is already in progress (the platform refuses it);
        ValueError, with nothing changed, if any weight is bad."""
        with self.lock:
            if self.desired is not None:
                return False
            self.desired = self._checked(weights)
            self.modified = time.time()
            self.update_timer = threading.Timer(contract.LOCAL_ENDPOINT_UPDATE_S, self._finish_update)
            self.update_timer.daemon = True
            self.update_timer.start()
        return True

    def _finish_update(self) -> None:
        """Only the variants the update named change (a rollout's shift meanwhile stays), and in the same step as
        the status turns InService, so DescribeEndpoint never shows InService with the old weights."""
        with self.lock:
            desired, self.desired = self.desired or {}, None
            self._apply(desired)

    def state(self) -> dict:
        """What DescribeEndpoint reports: status, and per variant its current and desired weight."""
        with self.lock:
            desired = self.desired or {}
            return {"status": "Updating" if self.desired is not None else "InService",
                    "created": self.created, "modified": self.modified,
                    "variants": [{"name": v.name, "image": v.image, "current": v.weight,
                                  "desired": desired.get(v.name, v.weight)} for v in self.variants.values()]}

    def record(self, variant: Variant, sample: endpoint_metrics.Sample) -> None:
        with self.lock:
            variant.samples.append(sample)
            variant.totals.add(sample)
            variant.recorded += 1

    def samples(self, name: str, since: float) -> list[endpoint_metrics.Sample]:
        """The kept samples of variant *name* from *since* on (read from the newest back, so a recent window
        does not copy the whole history)."""
        with self.lock:
            # SAMPLE_ORDER_SLACK_S: samples are stamped just before the lock, so they may be out of order by a bit.
            recent = list(itertools.takewhile(lambda s: s.at >= since - SAMPLE_ORDER_SLACK_S,
                                              reversed(self.variants[name].samples)))
        return [s for s in reversed(recent) if s.at >= since]

    def samples_after(self, name: str, seen: int) -> tuple[list[endpoint_metrics.Sample], int]:
        """The samples of variant *name* recorded after the first *seen* (those still kept), and how many were ever
        recorded: a reader that passes the count back next time reads each sample once."""
        with self.lock:
            variant = self.variants[name]
            new = min(variant.recorded - seen, len(variant.samples))
            return list(itertools.islice(reversed(variant.samples), new))[::-1], variant.recorded

    def metrics(self) -> dict:
        """Per variant its weight and running totals: cheap whatever the history (the live view reads it every
        second)."""
        with self.lock:
            return {name: {"CurrentWeight": v.weight, **v.totals.summary()} for name, v in self.variants.items()}

    def handle_error(self, request, client_address) -> None:
        """A client that hangs up mid-request (a load generator stopping) is its own business: no traceback."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)

    def server_close(self) -> None:
        if self.update_timer is not None:
            self.update_timer.cancel()
        super().server_close()


class _RouterHandler(BaseHTTPRequestHandler):
    server: Router
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects
    timeout = contract.INVOCATION_TIMEOUT_S  # an idle kept-alive connection is closed after this long

    def log_message(self, *args) -> None:  # quiet: the report carries the numbers
        pass

    def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send(self, reply: endpoint_api.Reply) -> None:
        status, headers, body = reply
        self._reply(status, body, headers)

    def do_GET(self) -> None:
        if self.path == contract.PING_ROUTE:
            self._reply(200, b"{}")
        elif self.path == METRICS_ROUTE:
            self._reply(200, json.dumps(self.server.metrics()).encode())
        else:
            self._reply(404, b'{"error": "not found"}')

    def _refuse(self, status: int, message: str) -> None:
        """An answer after which the connection closes (what is left of the request cannot be trusted)."""
        self.close_connection = True
        status, headers, body = endpoint_api.runtime_error(status, "ValidationError", message)
        self._reply(status, body, {**headers, "Connection": "close"})

    def _read_body(self) -> bytes | None:
        """The body, or None once the request was answered: without a usable Content-Length (411 missing, 400
        not a number of 0 or more: reading on would wait for bytes that never come), or oversized, which
        InvokeEndpoint refuses before any variant sees it. What is reasonable is read so the client gets the answer
        rather than a reset; bigger means hang up."""
        given = self.headers.get("Content-Length")
        if given is None:
            self._refuse(411, "The request has no Content-Length header (the endpoint needs the body's length).")
            return None
        if not given.strip().isdigit():
            self._refuse(400, f"Content-Length {given!r} is not a number of bytes.")
            return None
        length = int(given)
        if length <= contract.MAX_PAYLOAD_BYTES:
            return self.rfile.read(length)
        if length <= OVERSIZED_DRAIN_FACTOR * contract.MAX_PAYLOAD_BYTES:
            while length > 0:
                chunk = self.rfile.read(min(length, 1 << 16))
                if not chunk:
                    break
                length -= len(chunk)
        self._refuse(413, f"The request body is over the {contract.MAX_PAYLOAD_BYTES}-byte limit.")
        return None

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        body = self._read_body()
        if body is None:
            return
        endpoint = endpoint_api.invoked_endpoint(path)
        if path == contract.INVOCATIONS_ROUTE or endpoint is not None:
            return self._send(self._invoke(body, endpoint))
        if path == WEIGHTS_ROUTE:
            try:
                self.server.set_weights(json.loads(body))
            except ValueError as error:  # not JSON (JSONDecodeError is one), or a bad weight
                return self._reply(400, json.dumps({"error": str(error)}).encode())
            return self._reply(200, json.dumps({n: v.weight for n, v in self.server.variants.items()}).encode())
        target = self.headers.get(contract.HEADER_AMZ_TARGET)
        if path == "/" and target:
            return self._send(endpoint_api.json_api(self.server, target, body, self.headers))
        if path == "/" and "x-www-form-urlencoded" in (self.headers.get("Content-Type") or ""):
            return self._send(endpoint_api.query_api_error(body))
        self._reply(404, b'{"error": "not found"}')

    def _invoke(self, body: bytes, endpoint: str | None) -> endpoint_api.Reply:
        """InvokeEndpoint: to the target variant or one chosen by weight; *endpoint* None is the bare /invocations
        route, which fronts whatever endpoint this is."""
        region = endpoint_api.region_of(self.headers)
        if endpoint is not None and endpoint != self.server.endpoint_name:
            return endpoint_api.runtime_error(400, "ValidationError", f"Endpoint {endpoint} of account "
                                              f"{contract.LOCAL_ACCOUNT_ID} not found.")
        too_long = endpoint_api.check_invoke_headers(self.headers)
        if too_long:
            return endpoint_api.runtime_error(400, "ValidationError", too_long)
        started = time.perf_counter()
        target = self.headers.get(contract.HEADER_TARGET_VARIANT)
        variant = self.server.choose(target)
        if variant is None:
            return endpoint_api.runtime_error(
                400, "ValidationError", f"Variant {target} does not exist on endpoint {self.server.endpoint_name} "
                f"(its variants: {', '.join(self.server.variants)})." if target else
                f"Every variant of endpoint {self.server.endpoint_name} has weight 0.")
        headers = {k: v for k, v in self.headers.items() if k.lower() in FORWARDED_HEADERS}
        connection = http.client.HTTPConnection("127.0.0.1", variant.port, timeout=contract.INVOCATION_TIMEOUT_S)
        try:
            model_started = time.perf_counter()
            connection.request("POST", contract.INVOCATIONS_ROUTE, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            model_us = (time.perf_counter() - model_started) * 1e6
            status, content_type = response.status, response.getheader("Content-Type", "application/octet-stream")
            attributes = response.getheader(contract.HEADER_CUSTOM_ATTRIBUTES)
        except (OSError, http.client.HTTPException) as error:
            model_us, status, content_type, attributes = 0.0, 0, "application/json", None
            answer = f"Variant {variant.name}'s container did not answer: {error}".encode()
        finally:
            connection.close()
        # Counted before the answer goes out, so a caller that reads the metrics next sees this call; no answer
        # counts as a 5XX, as the platform counts a container that timed out.
        self.server.record(variant, endpoint_metrics.Sample(
            time.time(), status or 500, model_us, (time.perf_counter() - started) * 1e6 - model_us))
        reply = {"Content-Type": content_type, contract.HEADER_INVOKED_VARIANT: variant.name}
        if attributes:
            reply[contract.HEADER_CUSTOM_ATTRIBUTES] = attributes
        if not 200 <= status < 300:  # the caller sees any other answer as ModelError (424), as the platform does
            code, headers, error = endpoint_api.model_error(self.server, variant.name, status, answer, region)
            return code, {**reply, **headers}, error
        return 200, reply, answer  # InvokeEndpoint's success is 200, whichever 2xx the container chose


@contextmanager
def running_endpoint(variants: list[Variant], *, model: str | Path | None = None, env: dict[str, str] | None = None,
                     startup_timeout: float = contract.STARTUP_HEALTH_TIMEOUT_S, port: int = 0,
                     report: Report | None = None, pass_aws_credentials: bool = False,
                     endpoint_name: str = endpoint_api.DEFAULT_ENDPOINT_NAME) -> Iterator[Router]:
    """Start every variant and the router; everything is removed when the block ends (also on Ctrl-C)."""
    check_variants(variants)
    check_startup_timeout(startup_timeout)
    report = report or Report(",".join(v.image for v in variants))
    run_id = engine.new_run_id()
    work = run_workdir("endpoint")
    router = None
    try:
        model_dir = _model_dir(work, model)
        for variant in variants:
            container, variant.port, inner = start_serving(run_id, variant.image, model_dir, env, pass_aws_credentials,
                                                           name=variant.name)
            variant.container = container
            logs.follow(report, container, variant.name)
            if not _wait_ready(report, container, variant.port, startup_timeout, inner,
                               f"variants.{variant.name}.ready"):
                raise ImagekitError(f"Variant {variant.name} ({variant.image}) never became ready: "
                                    f"{report.checks[-1].detail}", "Run `imagekit smoke serve` on that image alone.")
        with interrupts.deferred():  # shutdown() below would wait forever for a serve_forever that never started
            router = Router(variants, port, endpoint_name)
            threading.Thread(target=router.serve_forever, daemon=True).start()
        yield router
    finally:
        if router is not None:
            router.shutdown()
            router.server_close()
        finish_run(run_id, work, contract.SERVE_STOP_GRACE_S)


def serve_variants(variants: list[Variant], *, model: str | Path | None = None,
                   payloads: list[str | Path] | None = None, content_type: str | None = None,
                   accept: str | None = None, requests: int = DEFAULT_REQUESTS, concurrency: int = 1,
                   env: dict[str, str] | None = None, startup_timeout: float = contract.STARTUP_HEALTH_TIMEOUT_S,
                   stop_grace: float = contract.SERVE_STOP_GRACE_S, pass_aws_credentials: bool = False,
                   on_check: Callable[[Check], None] | None = None) -> Report:
    """`imagekit smoke serve --variant ...`: each variant's invocations and SIGTERM as `smoke serve IMAGE` checks
    them, then through the router the split, the target header, live weights and that every request succeeded."""
    if requests < 1 or concurrency < 1:
        raise ImagekitError(f"--requests {requests} --concurrency {concurrency}: with --variant, requests must be at "
                            "least 1 (the split needs them) and concurrency at least 1.",
                            f"Omit --requests for {DEFAULT_REQUESTS}.")
    bodies = [_payload(p) for p in payloads or []] or [DEFAULT_PAYLOAD]
    headers = _headers(content_type, accept)
    report = Report(",".join(f"{v.name}={v.image}" for v in variants), on_check=on_check)
    with running_endpoint(variants, model=model, env=env, startup_timeout=startup_timeout, report=report,
                          pass_aws_credentials=pass_aws_credentials) as router:
        port = router.server_address[1]
        for variant in variants:  # the container itself, exactly as `smoke serve IMAGE` checks it
            _as_variant(report, variant, lambda scratch, v=variant: _invoke(scratch, v.port, bodies, content_type,
                                                                             accept, v.container))
        answers: list[_Answer] = []
        split = repeat_concurrently(lambda: _call(port, bodies[0], headers), requests, concurrency)
        answers += split
        seen = Counter(answer.variant for answer in split)
        total = sum(v.weight for v in variants)
        worst = max(abs(seen[v.name] / requests - v.weight / total) for v in variants)
        tolerance = max(SPLIT_SIGMAS * math.sqrt(0.25 / requests), 0.02)  # p(1-p) is at most 1/4
        report.check("variants.split", worst <= tolerance and None not in seen,
                     f"{requests} requests went {dict(seen)} for weights "
                     f"{ {v.name: v.weight for v in variants} } (largest deviation {worst:.2f}).")
        target = variants[-1].name
        targeted = [_call(port, bodies[0], {**headers, contract.HEADER_TARGET_VARIANT: target}) for _ in range(10)]
        answers += targeted
        answered = {answer.variant for answer in targeted}
        report.check("variants.target-header", answered == {target},
                     f"{contract.HEADER_TARGET_VARIANT}: {target} was answered by {sorted(map(str, answered))}.")
        router.set_weights({v.name: (1.0 if v.name == target else 0.0) for v in variants})
        updated = [_call(port, bodies[0], headers) for _ in range(10)]
        answers += updated
        after = {answer.variant for answer in updated}
        report.check("variants.weight-update", after == {target},
                     f"After setting all weight on {target}, requests went to {sorted(map(str, after))}.")
        _judge_answers(report, answers)
        report.data["variants"] = router.metrics()
        # SIGTERM last, all variants at once: the wait is the slowest one's, not the sum.
        with ThreadPoolExecutor(max_workers=len(variants)) as pool:
            stopped = list(pool.map(lambda v: _scratch(report, lambda scratch: _stop(scratch, v.container,
                                                                                      stop_grace)), variants))
        for variant, scratch in zip(variants, stopped, strict=True):
            _file_as_variant(report, variant, scratch)
    return report


def _scratch(report: Report, run: Callable[[Report], None]) -> Report:
    scratch = Report(report.image)
    run(scratch)
    return scratch


def _file_as_variant(report: Report, variant: Variant, scratch: Report) -> None:
    """A single-image serve check's results, filed under the variant: serve.X becomes variants.NAME.X."""
    for check in scratch.checks:
        name = f"variants.{variant.name}.{check.name.removeprefix('serve.')}"
        if check.skipped:
            report.skip(name, check.detail.removeprefix("not run: "))
        else:
            report.check(name, check.ok, check.detail)


def _as_variant(report: Report, variant: Variant, run: Callable[[Report], None]) -> None:
    _file_as_variant(report, variant, _scratch(report, run))


def _judge_answers(report: Report, answers: list["_Answer"]) -> None:
    """Every request through the router must have succeeded: a variant answering 4xx/5xx fails the run."""
    failed = [answer for answer in answers if not 200 <= answer.status < 300]
    if not failed:
        report.check("variants.errors", True, f"All {len(answers)} requests through the router answered 2xx.")
        return
    parts = []
    for name in dict.fromkeys(answer.variant for answer in failed):
        mine = [answer for answer in failed if answer.variant == name]
        sent = sum(1 for answer in answers if answer.variant == name)
        parts.append(f"{name or 'no variant'}: {len(mine)} of {sent} failed, e.g. {_describe(mine[0])}")
    report.check("variants.errors", False, f"{len(failed)} of {len(answers)} requests through the router did not "
                 f"answer 2xx — {'; '.join(parts)}. InvokeEndpoint callers would get these errors.")


def _describe(answer: "_Answer") -> str:
    """The router's answer in the caller's terms: a ModelError names the container's own status and message."""
    try:
        error = json.loads(answer.body)
    except ValueError:
        error = None
    if isinstance(error, dict) and "OriginalStatusCode" in error:
        original = str(error.get("OriginalMessage", ""))[:200].strip()
        if not error.get("OriginalStatusCode"):  # the platform's 0: no answer at all
            return f"{answer.status} ModelError: the container gave no answer (it timed out, hung up or exited)" + \
                (f": {original}" if original else "")
        return f"{answer.status} ModelError: the container answered {error.get('OriginalStatusCode')}: {original}"
    return f"{answer.status}: {answer.body[:200].decode('utf-8', 'replace').strip()}"


class _Answer(NamedTuple):
    variant: str | None  # per x-Amzn-Invoked-Production-Variant
    status: int
    body: bytes


def _call(port: int, body: bytes, headers: dict[str, str]) -> _Answer:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=contract.INVOCATION_TIMEOUT_S)
    try:
        connection.request("POST", contract.INVOCATIONS_ROUTE, body=body, headers=headers)
        response = connection.getresponse()
        return _Answer(response.getheader(contract.HEADER_INVOKED_VARIANT), response.status, response.read())
    finally:
        connection.close()
