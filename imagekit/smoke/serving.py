"""`imagekit smoke serve`: run `docker run IMAGE serve` as SageMaker hosting does and exercise its HTTP contract."""

from __future__ import annotations

import http.client
import json
import statistics
import time
from pathlib import Path
from typing import Callable

from imagekit import contract, engine
from imagekit.errors import ImagekitError
from imagekit.smoke import diagnose, hardware, invoke_input, logs
from imagekit.smoke.common import check_seconds, environment, finish_run, log_tail, repeat_concurrently, run_workdir
from imagekit.smoke.layout import unpack_model
from imagekit.smoke.report import Check, Report

# While /ping is polled: (seconds waited, the window, what was last seen) for a progress indicator.
Progress = Callable[[float, float, str], None]

PING_INTERVAL_S = 0.25
BIND_TO_PORT_PROBE = 8081  # any port but 8080 proves the image honours SAGEMAKER_BIND_TO_PORT
SAFE_PORT_RANGE_PROBE = "9000-9099"  # given alongside, as multi-container endpoints do, for any second port
MULTI_MODEL_PROBE = "smoke-model"  # the model name a multi-models image is asked to load
DEFAULT_PAYLOAD = b"{}"
# After this many /pings in a row accepted but unanswered within the platform's 2 s, one /ping is sent with
# PATIENT_PING_S to tell a /ping that answers 200, only too late (named at the window's end) from a server still
# loading behind an accepting front such as nginx (which answers nothing in that time either).
SLOW_PING_TRIES = 3
PATIENT_PING_S = 10.0
# After the body of the limit's size, how long /ping may take to answer 200 again (a worker replaced by then may
# still be loading the model). The runtime holds a request that reaches a loading worker up to the invocation time
# limit, so a server back within it has lost no request that the platform would not have timed out anyway.
RECOVERY_S = contract.INVOCATION_TIMEOUT_S


def check_startup_timeout(startup_timeout: float) -> None:
    """--startup-timeout, refused before the engine is asked (serve and serve --variant)."""
    check_seconds("--startup-timeout", startup_timeout, f"Omit it for the platform's "
                  f"{contract.STARTUP_HEALTH_TIMEOUT_S:g} s.", contract.STARTUP_HEALTH_TIMEOUT_MAX_S,
                  contract.STARTUP_HEALTH_SETTING)


def check_load_options(requests: int, concurrency: int, payloads: list[str | Path] | None) -> None:
    """--requests, --concurrency and --payload, refused before anything runs (`smoke all` would train first)."""
    if requests < 0 or concurrency < 1:
        raise ImagekitError(f"--requests {requests} --concurrency {concurrency}: requests must be 0 or more and "
                            "concurrency at least 1.", "For a load test try --requests 200 --concurrency 4.")
    for path in payloads or []:
        _payload_file(path)


def serve(image: str, *, model: str | Path | None = None, payloads: list[str | Path] | None = None,
          content_type: str | None = None, accept: str | None = None,
          startup_timeout: float = contract.STARTUP_HEALTH_TIMEOUT_S, requests: int = 0, concurrency: int = 1,
          env: dict[str, str] | None = None, stop_grace: float = contract.SERVE_STOP_GRACE_S,
          pass_aws_credentials: bool = False, on_check: Callable[[Check], None] | None = None,
          on_progress: Progress | None = None, instance_type: str | None = None) -> Report:
    """Start serve with the model read-only at /opt/ml/model; check /ping, /invocations, limits and SIGTERM.

    *instance_type* gives the container that instance's CPU, memory and GPUs (imagekit.smoke.hardware).

    While /ping is not 200 the container is watched (sockets, state, log): the likely cause is shown while waiting
    and named if /ping never answers 200; only an exit ends the wait before the window does.
    """
    check_startup_timeout(startup_timeout)
    check_load_options(requests, concurrency, payloads)
    invoke_input.check_request_options(payloads, content_type, accept)
    bodies = [_payload(p) for p in payloads or []]
    placement = hardware.place(instance_type)
    report = Report(image, on_check=on_check)
    hardware.check(report, contract.SERVE_COMMAND, placement)
    run_id = engine.new_run_id()
    work = run_workdir("serve")
    try:
        model_dir = _model_dir(work, model)
        started = start_ready(report, run_id, image, model_dir, env, pass_aws_credentials, startup_timeout, "serve",
                              on_progress, resources=placement.options)
        if started is None:
            return report
        container, host_port, port = started
        named_exit = _invoke(report, host_port, bodies or [DEFAULT_PAYLOAD], content_type, accept, container,
                             probe=not bodies)
        multi_model = _labels(image).get(contract.LABEL_MULTI_MODELS) == contract.CAPABILITY_TRUE
        if _exited_answering(report, container, named_exit, ["serve.load"] * bool(requests) + [
                "serve.payload-limit", "serve.sigterm"] + ["serve.multi-model"] * multi_model):
            return report
        if requests:
            _load(report, host_port, bodies[0] if bodies else DEFAULT_PAYLOAD, content_type, requests, concurrency)
        _payload_limit(report, container, host_port, bodies[0] if bodies else DEFAULT_PAYLOAD, content_type,
                       {**diagnose.config_env(_config(image)), **(env or {})})
        _execution_parameters(report, host_port)
        _stop(report, container, stop_grace)
        if multi_model:
            _multi_model(report, run_id, image, model_dir, env, pass_aws_credentials, startup_timeout,
                         bodies[0] if bodies else DEFAULT_PAYLOAD, content_type, placement.options)
        return report
    finally:
        finish_run(run_id, work, stop_grace)


def _exited_answering(report: Report, container, named: bool, later: list[str]) -> bool:
    """Whether serve exited during the /invocations checks; then the *later* checks are not run (they would only
    blame their own requests for the exit), and the exit is a failed serve.exited unless already *named*."""
    code = diagnose.exit_code(container)
    if code is None:
        return False
    if not named:
        report.check("serve.exited", False, diagnose.exited(
            container, contract.SERVE_COMMAND, when=f"after answering POST {contract.INVOCATIONS_ROUTE}"))
    for check in later:
        report.skip(check, f"serve had exited with code {code}")
    return True


def start_ready(report: Report, run_id: str, image: str, model_dir: Path, env: dict[str, str] | None,
                pass_aws_credentials: bool, startup_timeout: float, name: str,
                on_progress: Progress | None = None, resources: dict | None = None) -> tuple[object, int, int] | None:
    """start_serving with its log followed as *name*, then /ping until 200: (container, host port, container
    port), or None once NAME.start or NAME.ready has failed in *report*. *resources*: the instance's CPU,
    memory and GPUs (imagekit.smoke.hardware)."""
    try:
        container, host_port, port = start_serving(run_id, image, model_dir, env, pass_aws_credentials, name=name,
                                                   resources=resources)
        logs.follow(report, container, name)
    except StartFailed as failed:
        report.check(f"{name}.start", False, failed.detail)
        return None
    if not _wait_ready(report, container, host_port, startup_timeout, port, check=f"{name}.ready",
                       on_progress=on_progress):
        return None
    return container, host_port, port


def _model_dir(work: Path, model: str | Path | None) -> Path:
    """The model as hosting sees it: extracted from model.tar.gz (or copied) into a fresh directory."""
    model_dir = work / "model"
    if model is not None:
        unpack_model(Path(model), model_dir)
    else:
        model_dir.mkdir()
    return model_dir


def _labels(image: str) -> dict[str, str]:
    return _config(image).get("Labels") or {}


def _config(image: str) -> dict:
    return engine.require_image(image).get("Config") or {}


class StartFailed(ImagekitError):
    """serve never got going: the runtime refused its command, or it exited before its port was published.
    The image's fault (exit 1): `smoke serve` reports it as a failed serve.start check."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, exit_code=1)
        self.detail = detail


def start_serving(run_id: str, image: str, model_dir: Path, env: dict[str, str] | None,
                  pass_aws_credentials: bool = False, name: str = "serve",
                  multi_model: str | None = None, resources: dict | None = None) -> tuple[object, int, int]:
    """Start `docker run IMAGE serve` with the model read-only; returns (container, host port, container port).

    StartFailed (with the cause and the log tail) when the runtime refuses the command or the container exits
    before the engine has published its port: the image's fault, never the engine's.

    An image with the bind-to-port label is told to listen on another port than 8080, proving it honours
    SAGEMAKER_BIND_TO_PORT the way multi-container endpoints need. With *multi_model* (a model name) it runs
    as a multi-model endpoint: SAGEMAKER_MULTI_MODEL=true and the model under the multi-model directory.
    *resources* are the instance type's limits and GPU request (hardware.Placement.options).
    """
    labels = _labels(image)
    port = BIND_TO_PORT_PROBE if labels.get(contract.LABEL_BIND_TO_PORT) == contract.CAPABILITY_TRUE else \
        contract.SERVING_PORT
    platform = {contract.ENV_BIND_TO_PORT: str(port), contract.ENV_SAFE_PORT_RANGE: SAFE_PORT_RANGE_PROBE} \
        if port != contract.SERVING_PORT else {}
    mount = contract.MODEL_DIR
    if multi_model:
        platform[contract.ENV_MULTI_MODEL] = contract.CAPABILITY_TRUE
        mount = contract.multi_model_dir(multi_model)
    container = engine.create_container(
        run_id, image, [contract.SERVE_COMMAND], name=f"imagekit-{run_id}-{name}",
        environment=environment(platform, env, pass_aws_credentials),
        volumes={str(model_dir): {"bind": str(mount), "mode": "ro"}},
        ports={f"{port}/tcp": ("127.0.0.1", None)}, **(resources or {}))
    try:
        engine.start_container(container, contract.SERVE_COMMAND)
    except engine.StartRefused as refused:
        problem = diagnose.command_problem(diagnose.command_file(container, contract.SERVE_COMMAND))
        raise StartFailed(f"{refused.message}{f' {problem}' if problem else ''} {refused.hint}") from None
    return container, _host_port(container, port), port


def _payload_file(path: str | Path) -> Path:
    """A --payload path that names a regular file; anything else is refused naming what it is."""
    file = Path(path)
    if file.is_file():
        return file
    what = "does not exist" if not file.exists() else "is a directory" if file.is_dir() else \
        "is not a regular file (a device, FIFO or socket)"
    raise ImagekitError(f"Payload file {file} {what}.", "Pass --payload with a regular file holding one request "
                        "body, e.g. --payload request.json (repeat --payload for several requests).")


def _payload(path: str | Path) -> bytes:
    return _payload_file(path).read_bytes()


def _host_port(container, port: int) -> int:
    """The published host port. A container that died at once has none: that is its exit, not an engine fault."""
    container.reload()
    bindings = (container.attrs["NetworkSettings"]["Ports"] or {}).get(f"{port}/tcp") or []
    if bindings:
        return int(bindings[0]["HostPort"])
    try:
        container.wait(timeout=contract.START_EXIT_WAIT_S)
    except Exception:  # noqa: BLE001 - still running after the wait (requests' ReadTimeout): the engine's fault
        raise ImagekitError(f"The engine did not publish port {port} of the serve container.",
                            "Check `imagekit doctor`; the engine may be out of ports.") from None
    container.reload()
    raise StartFailed(diagnose.exited(container, contract.SERVE_COMMAND))


def _request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
             timeout: float = contract.INVOCATION_TIMEOUT_S) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        try:
            connection.request(method, path, body=body, headers=headers or {})
        except (BrokenPipeError, ConnectionResetError):
            if body is None:
                raise
            # A server may answer (413) before reading the whole body and hang up; its answer is still there.
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def _wait_ready(report: Report, container, host_port: int, deadline_s: float, port: int,
                check: str = "serve.ready", on_progress: Progress | None = None) -> bool:
    """Poll /ping (2 s per request, like the platform) until 200 or the end of the window, and meanwhile watch why
    it is not 200 yet, showing the likely cause in the progress line.

    SageMaker keeps polling for the whole window while the process lives (a server may open a side port, answer
    errors or log a handled exception while it loads), so only an exit ends the wait early: the start check fails
    (exit code, cause, log tail, and the likely cause seen while it ran). At the end of the window the ready check
    fails naming the likely cause, or "still loading" when none was seen.
    """
    started = time.monotonic()
    ping, status, body = "/ping: no answer yet", None, b""
    timeouts = 0  # the /pings in a row, up to the last, accepted but unanswered within the per-check timeout
    slow_answer: float | None = None  # how long the last patient /ping took to answer 200, if it did
    seen = diagnose.Observation(None, ping)  # the last look's
    likely: diagnose.Observation | None = None  # the last look that found a cause
    likely_since = likely_until = started  # when that kind of cause was first and last seen

    def exited() -> bool:
        if diagnose.exit_code(container) is None:
            return False
        report.check(_start_check(check), False,
                     diagnose.exited(container, contract.SERVE_COMMAND, likely.cause if likely else None))
        return True

    next_look = started
    while (elapsed := time.monotonic() - started) < deadline_s:
        if exited():
            return False
        timed_out = False
        try:
            status, _, body = _request(host_port, "GET", contract.PING_ROUTE, timeout=contract.PING_TIMEOUT_S)
            if status == 200:
                seconds = round(time.monotonic() - started, 2)
                report.data["time_to_ready_s"] = seconds
                return report.check(check, True, f"/ping answered 200 on port {port} after {seconds} s.")
            ping = f"/ping: {status}"
        except (OSError, http.client.HTTPException) as error:
            status, body = None, b""
            ping = f"/ping: no answer ({type(error).__name__})"
            timed_out = isinstance(error, TimeoutError)
        timeouts = timeouts + 1 if timed_out else 0
        if timeouts and timeouts % SLOW_PING_TRIES == 0:
            patience = min(PATIENT_PING_S, deadline_s - (time.monotonic() - started))
            answered = _patient_ping(host_port, patience)
            if answered is not None or patience >= PATIENT_PING_S:  # a cut-short silence proves nothing
                slow_answer = answered
        if time.monotonic() >= next_look:
            next_look = time.monotonic() + contract.DIAGNOSE_INTERVAL_S
            seen = diagnose.observe(container, port, ping, status, body, diagnose.recent_log(container),
                                    ping_timed_out=timed_out)
            if seen.cause:
                if likely is None or likely.kind != seen.kind:
                    likely_since = time.monotonic()
                likely, likely_until = seen, time.monotonic()
            if on_progress:
                on_progress(elapsed, deadline_s, seen.summary)
        time.sleep(PING_INTERVAL_S)
    if exited():
        return False
    waited = time.monotonic() - started
    where = f" The image has the bind-to-port label, so it was told {contract.ENV_BIND_TO_PORT}={port}." \
        if port != contract.SERVING_PORT else ""
    if seen.cause:
        verdict = f"likely cause (seen for the last {time.monotonic() - likely_since:.0f} s): {seen.cause}"
    elif timeouts >= SLOW_PING_TRIES and slow_answer is not None:
        verdict = diagnose.slow_ping(timeouts, slow_answer)
    else:
        verdict = diagnose.still_loading(waited, deadline_s, seen) + (
            f" Earlier (from {likely_since - started:.0f} s to {likely_until - started:.0f} s) smoke saw: "
            f"{likely.cause}" if likely else "")
    report.check(check, False, f"/ping never answered 200 within {deadline_s:g} s: {verdict}{where} "
                               f"SageMaker would fail the endpoint. Log tail:\n{log_tail(container)}")
    return False


def _patient_ping(host_port: int, patience: float) -> float | None:
    """The seconds one /ping given *patience* took to answer 200, or None when it did not: evidence that /ping
    works but too slowly, not that the server is still loading."""
    started = time.monotonic()
    try:
        status = _request(host_port, "GET", contract.PING_ROUTE, timeout=patience)[0]
    except (OSError, http.client.HTTPException, ValueError):  # ValueError: no time left for it
        return None
    return round(time.monotonic() - started, 1) if status == 200 else None


def _start_check(ready_check: str) -> str:
    """serve.ready -> serve.start (variants.NAME.ready -> variants.NAME.start): an exit is a failed start."""
    return ready_check.rsplit(".", 1)[0] + ".start"


def _headers(content_type: str | None, accept: str | None) -> dict[str, str]:
    headers = {"Content-Type": content_type or contract.DEFAULT_CONTENT_TYPE,
               contract.HEADER_CUSTOM_ATTRIBUTES: "imagekit-smoke=1",
               "X-Imagekit-Unknown-Header": "containers must ignore headers they do not know"}
    if accept:
        headers["Accept"] = accept
    return headers


def _invoke(report: Report, port: int, bodies: list[bytes], content_type: str | None, accept: str | None,
            container=None, probe: bool = False) -> bool:
    """POST each body; with *probe* (no --payload: imagekit's guessed body) a 4xx refusal is only a warning.
    A request that gets no answer from a *container* that has exited fails naming the exit and its cause, and
    the remaining bodies are not sent (a dead server answers nothing); True when that happened."""
    def logs() -> str:
        return f" Log tail:\n{log_tail(container)}" if container is not None else ""

    untyped = []  # the checks whose 200 had no Content-Type
    for index, body in enumerate(bodies, 1):
        name = "serve.invocations" if len(bodies) == 1 else f"serve.invocations.{index}"
        try:
            status, headers, answer = _request(port, "POST", contract.INVOCATIONS_ROUTE, body,
                                               _headers(content_type, accept), timeout=contract.INVOCATION_TIMEOUT_S)
        except TimeoutError:
            limit = contract.INVOCATION_TIMEOUT_S
            report.check(name, False, f"POST {contract.INVOCATIONS_ROUTE} got no response within {limit:g} s, "
                                      f"SageMaker's invocation time limit: InvokeEndpoint would fail with a "
                                      "ModelError. Make the handler answer within it (e.g. fewer rows per request), "
                                      "or use Asynchronous Inference or Batch Transform for long-running requests."
                                      f"{logs()}")
            continue
        except (OSError, http.client.HTTPException) as error:
            if container is not None and diagnose.exit_code(container, diagnose.EXIT_SETTLE_S) is not None:
                report.check(name, False, diagnose.exited(container, contract.SERVE_COMMAND,
                                                          when=f"while answering POST {contract.INVOCATIONS_ROUTE}"))
                return True
            report.check(name, False, f"POST {contract.INVOCATIONS_ROUTE} failed: {error}.{logs()}")
            continue
        if status != 200:
            text = answer[:300].decode("utf-8", "replace").strip()
            if probe and status in invoke_input.PROBE_REFUSED:
                report.check(invoke_input.PROBE_CHECK, False, invoke_input.probe_refused(status, text, content_type))
                continue
            stop = "" if text.endswith((".", "!", "?")) else "."
            report.check(name, False, f"POST {contract.INVOCATIONS_ROUTE} answered {status}: {text}{stop}{logs()}")
        elif not headers.get("content-type"):
            untyped.append(name)
            report.check(name, True, f"200, no Content-Type, {len(answer)} bytes.")
        elif accept and not _acceptable(headers["content-type"], accept):
            report.check(name, False, f"Asked for Accept: {accept} but the response is {headers['content-type']}; "
                                      "answer in the requested type, or 406 when it is not supported.")
        else:
            report.check(name, True, f"200, {headers['content-type']}, {len(answer)} bytes.")
    if untyped:
        fallback = f"the Accept type ({accept})" if accept else "the Accept type, when the caller sent one"
        report.check("serve.content-type", False,
                     f"A 200 from POST {contract.INVOCATIONS_ROUTE} had no Content-Type ({', '.join(untyped)}). "
                     f"InvokeEndpoint's ContentType is optional and SDK local mode falls back to {fallback}, so a "
                     "caller that decodes by its own configured type works, but one that dispatches on the "
                     "response type gets none. Set Content-Type on every answer.")
    return False


def _multi_model(report: Report, run_id: str, image: str, model_dir: Path, env: dict[str, str] | None,
                 pass_aws_credentials: bool, startup_timeout: float, body: bytes, content_type: str | None,
                 resources: dict) -> None:
    """The image claims the multi-models capability: run it as a multi-model endpoint and walk the /models API."""
    name = MULTI_MODEL_PROBE
    try:
        container, port, inner = start_serving(run_id, image, model_dir, env, pass_aws_credentials, name="mme",
                                               multi_model=name, resources=resources)
    except StartFailed as failed:
        report.check("serve.multi-model.start", False, failed.detail)
        return
    logs.follow(report, container, "mme")
    if not _wait_ready(report, container, port, startup_timeout, inner, check="serve.multi-model.ready"):
        return
    url, route = str(contract.multi_model_dir(name)), f"{contract.MODELS_ROUTE}/{name}"
    load = json.dumps({"model_name": name, "url": url}).encode()
    json_type = {"Content-Type": "application/json"}
    steps = [  # (what SageMaker does, method, path, body, headers, the status the platform expects)
        ("load", "POST", contract.MODELS_ROUTE, load, json_type, 200),
        ("list", "GET", contract.MODELS_ROUTE, None, {}, 200),
        ("describe", "GET", route, None, {}, 200),
        ("invoke", "POST", f"{route}/invoke", body,
         {**_headers(content_type, None), contract.HEADER_TARGET_MODEL: f"{name}.tar.gz"}, 200),
        ("load again", "POST", contract.MODELS_ROUTE, load, json_type, 409),
        ("unload", "DELETE", route, None, {}, 200),
        ("describe unloaded", "GET", route, None, {}, 404),
    ]
    problems, listed = [], b""
    for step, method, path, data, headers, expected in steps:
        try:
            status, _, answer = _request(port, method, path, data, headers)
        except (OSError, http.client.HTTPException) as error:
            status, answer = None, str(error).encode()
        if step == "list":
            listed = answer
        if status != expected:
            problems.append(f"{step} ({method} {path}) answered {status}, expected {expected}: "
                            f"{answer[:200].decode('utf-8', 'replace')}")
    if not problems and name.encode() not in listed:
        problems.append(f"GET {contract.MODELS_ROUTE} did not list the loaded model: {listed[:200]!r}")
    report.check("serve.multi-model", not problems,
                 "; ".join(problems) + f". SageMaker would fail this multi-model endpoint. Log tail:\n"
                 f"{log_tail(container)}" if problems else
                 f"With {contract.ENV_MULTI_MODEL}=true the {contract.MODELS_ROUTE} API loaded, listed, invoked "
                 "and unloaded the model, and refused a second load with 409.")


def _acceptable(content_type: str, accept: str) -> bool:
    """Whether a response type satisfies an Accept header (media ranges such as */* and text/*, parameters ignored)."""
    kind, _, subtype = content_type.split(";")[0].strip().lower().partition("/")
    for media_range in accept.split(","):
        want_kind, _, want_subtype = media_range.split(";")[0].strip().lower().partition("/")
        if want_kind in ("*", kind) and want_subtype in ("*", subtype):
            return True
    return False


def _load(report: Report, port: int, body: bytes, content_type: str | None, requests: int, concurrency: int) -> None:
    def one() -> tuple[bool, float]:
        started = time.perf_counter()
        try:
            status, _, _ = _request(port, "POST", contract.INVOCATIONS_ROUTE, body, _headers(content_type, None))
            return status == 200, time.perf_counter() - started
        except (OSError, http.client.HTTPException):
            return False, time.perf_counter() - started

    started = time.perf_counter()
    results = repeat_concurrently(one, requests, max(concurrency, 1))
    wall = time.perf_counter() - started
    latencies = sorted(seconds * 1000 for _, seconds in results)
    errors = sum(1 for ok, _ in results if not ok)
    cuts = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else latencies * 99
    load = {"requests": requests, "concurrency": concurrency, "errors": errors,
            "throughput_rps": round(requests / wall, 1), "p50_ms": round(cuts[49], 2), "p90_ms": round(cuts[89], 2),
            "p99_ms": round(cuts[98], 2)}
    report.data["load"] = load
    report.check("serve.load", errors == 0, f"{requests} requests at concurrency {concurrency}: "
                                            f"{load['throughput_rps']} req/s, p50 {load['p50_ms']} ms, "
                                            f"p99 {load['p99_ms']} ms, {errors} errors.")


def payload_limit(env: dict[str, str]) -> int:
    """The body size the platform lets through: 6 MB, or SAGEMAKER_MAX_PAYLOAD_IN_MB (batch transform) when set."""
    value = env.get(contract.ENV_MAX_PAYLOAD_IN_MB, "").strip()
    return int(value) * contract.MEGABYTE if value.isdigit() and int(value) > 0 else contract.MAX_PAYLOAD_BYTES


def limit_body(sample: bytes, size: int) -> bytes:
    """A body of exactly *size* bytes built from *sample*: whole copies of it as lines when it is line-shaped
    (CSV, JSON lines), padded with spaces after one copy otherwise (JSON allows them) — so a handler can parse it."""
    line = sample if sample.endswith(b"\n") else sample + b"\n"
    if b"\n" in sample.rstrip(b"\n") or sample.endswith(b"\n"):
        copies = max(size // len(line), 1)
        return (line * copies)[:size].ljust(size, b"\n")
    return sample[:size].ljust(size, b" ")


def _payload_limit(report: Report, container, port: int, sample: bytes, content_type: str | None,
                   env: dict[str, str]) -> None:
    """A body of exactly the platform's limit reaches the container, so it must be accepted (not refused with 413
    or cut off), and the server must still answer /ping afterwards. Bigger bodies never get past the platform's
    router (InvokeEndpoint answers 413 itself), so what a container does with them is not checked."""
    size = payload_limit(env)
    try:
        status, _, answer = _request(port, "POST", contract.INVOCATIONS_ROUTE, limit_body(sample, size),
                                     _headers(content_type, None))
        outcome = f"answered {status}"
    except (OSError, http.client.HTTPException) as error:
        status, answer, outcome = None, b"", f"got no answer ({type(error).__name__})"
    megabytes = f"{size / contract.MEGABYTE:g} MB"
    where = f" (the limit set by {contract.ENV_MAX_PAYLOAD_IN_MB})" if size != contract.MAX_PAYLOAD_BYTES else \
        " (InvokeEndpoint's limit)"
    if status == 413:
        cap = diagnose.body_cap(container, answer)
        report.check("serve.payload-limit", False,
                     f"A {size}-byte ({megabytes}) body{where} was refused with 413: the container caps request "
                     f"bodies below what SageMaker lets through{cap}. Raise the cap to at least {megabytes} "
                     "(nginx `client_max_body_size`, Flask `MAX_CONTENT_LENGTH`, the model server's max request "
                     "size); requests between the cap and the limit fail today.")
        return
    recovered = _ping_again(container, port)
    if status is None or recovered:
        report.check("serve.payload-limit", False,
                     f"A {size}-byte ({megabytes}) body{where} {outcome}"
                     + (f"; afterwards {recovered}" if recovered else "") +
                     f". SageMaker delivers bodies up to that size. Log tail:\n{log_tail(container)}")
        return
    report.check("serve.payload-limit", True, f"A {size}-byte ({megabytes}) body{where} {outcome}; /ping still 200.")


def _ping_again(container, port: int) -> str | None:
    """None once /ping answers 200 again (within RECOVERY_S: a replaced worker may be loading), else what it did."""
    started, last = time.monotonic(), "no answer"
    while True:
        try:
            ping = _request(port, "GET", contract.PING_ROUTE, timeout=contract.PING_TIMEOUT_S)[0]
            if ping == 200:
                return None
            last = f"/ping answered {ping}"
        except (OSError, http.client.HTTPException) as error:
            last = f"/ping got no answer ({type(error).__name__})"
        code = diagnose.exit_code(container)
        if code is not None:
            return f"serve exited with code {code}"
        if time.monotonic() - started >= RECOVERY_S:
            return f"{last}, still after {RECOVERY_S:g} s"
        time.sleep(PING_INTERVAL_S)


def _execution_parameters(report: Report, port: int) -> None:
    try:
        status, _, body = _request(port, "GET", contract.EXECUTION_PARAMETERS_ROUTE, timeout=contract.PING_TIMEOUT_S)
    except (OSError, http.client.HTTPException):
        status, body = 0, b""
    report.data["execution_parameters"] = body.decode("utf-8", "replace") if status == 200 else None
    report.data["execution_parameters_status"] = status


def _stop(report: Report, container, grace: float) -> None:
    """SIGTERM, then SIGKILL after the grace period, as endpoint updates and scale-in do. A container that has
    already exited is not judged: it would "stop" at once whatever it does with SIGTERM."""
    code = diagnose.exit_code(container)
    if code is not None:
        report.skip("serve.sigterm", f"serve had exited with code {code} before SIGTERM was sent")
        return
    started = time.monotonic()
    engine.send_signal(container, "SIGTERM")
    try:
        container.wait(timeout=grace)
        seconds = round(time.monotonic() - started, 2)
        report.check("serve.sigterm", True, f"serve exited {seconds} s after SIGTERM.")
    except Exception:
        engine.send_signal(container, "SIGKILL")
        report.check("serve.sigterm", False, f"serve was still running {grace:g} s after SIGTERM and had to be "
                                             "killed; in-flight requests would be cut off at scale-in. A program "
                                             "that runs as PID 1 gets no default SIGTERM action, and SageMaker "
                                             "starts no init for it (no `docker run --init`): handle SIGTERM in "
                                             "the server, or bake an init that forwards it into the image's "
                                             "ENTRYPOINT: `ENTRYPOINT [\"tini\", \"--\", \"<your "
                                             "entrypoint>\"]` (SageMaker appends `serve`; dumb-init works the "
                                             "same way).")
