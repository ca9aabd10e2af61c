"""The smoke runner reports each way an image can break the contract as exactly that, and leaves nothing behind.

One small image (FROM the local base) whose train/serve misbehave as the env var MODE says keeps CI fast.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from imagekit import contract, engine, smoke

TRAIN = r'''#!/usr/bin/env python3
import json, os, signal, socket, sys, time
mode = os.environ.get("MODE", "ok")
config = json.load(open("/opt/ml/input/config/resourceconfig.json"))
if mode == "ok":
    for host in config["hosts"]:
        socket.gethostbyname(host)  # once, no retry: every peer resolves from the first instant
    hps = json.load(open("/opt/ml/input/config/hyperparameters.json"))
    rows = sum(1 for _ in open("/opt/ml/input/data/train/data.csv"))
    open("/opt/ml/model/model.json", "w").write(json.dumps({"rows": rows, "hps": hps, "env": dict(os.environ)}))
elif mode == "merge":  # only the last host saves the model; every host writes same.txt, each its own clash.txt
    me = config["current_host"]
    if me == config["hosts"][-1]:
        open("/opt/ml/model/model.json", "w").write(json.dumps({"saved_by": me}))
    os.makedirs("/opt/ml/model/assets")
    open("/opt/ml/model/assets/same.txt", "w").write("the same bytes on every host")
    open("/opt/ml/model/assets/clash.txt", "w").write(me)
elif mode == "fail":
    open("/opt/ml/output/failure", "w").write("ValueError: the label column is missing\n" + "x" * 2000)
    sys.exit(2)
elif mode == "ignore-sigterm":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    time.sleep(600)
elif mode == "sleep":  # as PID 1, Python must handle SIGTERM itself: the default action does not apply
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print("sleeping, SIGTERM handled", flush=True)
    time.sleep(600)
'''
SERVE = r'''#!/usr/bin/env python3
import os, signal, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
mode = os.environ.get("MODE", "ok")
unready_until = 0.0  # crash-then-recover: /ping is 503 while the "replacement worker" loads
def merged():  # the model training merged: the last host's model.json and clash.txt, everyone's same.txt
    try:
        return (open("/opt/ml/model/model.json").read() == '{"saved_by": "algo-2"}'
                and open("/opt/ml/model/assets/clash.txt").read() == "algo-2"
                and os.path.isfile("/opt/ml/model/assets/same.txt"))
    except OSError:
        return False
class Handler(BaseHTTPRequestHandler):
    def reply(self, status, body=b"{}"):
        self.send_response(status); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def do_GET(self):
        if self.path == "/ping":
            unready = mode == "never-ready" or time.monotonic() < unready_until or (mode == "merge" and not merged())
            self.reply(500 if mode == "slow-start" and unready else 503 if unready else 200)
        else:
            self.reply(404)
    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > 6 * 1024 * 1024:
            return self.reply(413)
        self.rfile.read(length)
        if mode == "crash-then-recover":  # as the imagekit runtime does when a worker dies mid-request
            global unready_until
            unready_until = time.monotonic() + float(os.environ.get("RECOVER_S", "1.5"))
            print("imagekit runtime: worker 7 exited with code 1 during 1 request(s)", file=sys.stderr, flush=True)
            self.close_connection = True
            return  # no response at all
        if mode == "slow":
            time.sleep(5)
        self.reply(500, b'{"error": "boom"}\n') if mode == "invocations-500" else self.reply(200, b'{"ok": true}')
if mode == "slow-start":  # a side port first (a rendezvous store), then /ping 500 and an error line while loading
    import socket
    side = socket.create_server(("0.0.0.0", 29500))
    print("rendezvous store on 0.0.0.0:29500", flush=True)
    time.sleep(float(os.environ.get("SIDE_PORT_S", "10")))
    print("huggingface_hub.errors.LocalEntryNotFoundError: offline, using the local copy", flush=True)
    unready_until = time.monotonic() + float(os.environ.get("PING_500_S", "6"))
time.sleep(float(os.environ.get("START_DELAY_S", "0")))  # /ping unanswered for a while, as any real server
port = 9090 if mode == "wrong-port" else int(os.environ.get("SAGEMAKER_BIND_TO_PORT", "8080"))
server = ThreadingHTTPServer(("0.0.0.0", port), Handler)
if mode == "ignore-sigterm":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
else:
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
server.serve_forever()
'''


@pytest.fixture(scope="module")
def image(module_image) -> str:
    return module_image("FROM {base}\nCOPY train serve /usr/local/bin/\n", {"train": TRAIN, "serve": SERVE})


@pytest.fixture()
def data(tmp_path: Path) -> dict[str, Path]:
    channel = tmp_path / "train"
    channel.mkdir()
    (channel / "data.csv").write_text("1,2\n3,4\n5,6\n")
    return {"train": channel}


def test_good_image_trains_and_serves(image: str, data: dict, tmp_path: Path) -> None:
    report = smoke.run_all(image, data=data, hyperparameters={"epochs": 3}, output=tmp_path / "out",
                           requests=20, concurrency=4)
    assert report.ok, report.to_json()
    assert [c.name for c in report.checks] == ["train.exit-code", "train.model", "serve.ready", "serve.invocations",
                                               "serve.load", "serve.payload-limit", "serve.sigterm"]
    assert (tmp_path / "out" / "model.tar.gz").is_file()
    assert report.data["load"]["errors"] == 0


def test_training_file_shapes_and_no_host_credentials(image: str, data: dict, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import tarfile

    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "host-secret")
    report = smoke.train(image, data=data, hyperparameters={"epochs": 3, "lr": "0.1"}, output=tmp_path)
    assert report.ok, report.to_json()
    with tarfile.open(tmp_path / "model.tar.gz") as archive:
        model = json.load(archive.extractfile("model.json"))
    assert model["rows"] == 3 and model["hps"] == {"epochs": "3", "lr": "0.1"}  # all strings, as on the platform
    assert model["env"]["TRAINING_JOB_NAME"].startswith("imagekit-smoke-")
    assert "AWS_SECRET_ACCESS_KEY" not in model["env"]


def test_two_hosts_resolve_each_other(image: str, data: dict) -> None:
    report = smoke.train(image, data=data, instances=2)
    assert report.ok, report.to_json()
    assert [c.name for c in report.checks] == ["train.algo-1.exit-code", "train.algo-2.exit-code", "train.model",
                                               "train.model-clash"]  # model.json holds each host's HOSTNAME


def test_every_hosts_model_is_merged_as_sagemaker_uploads_it_and_served(image: str, data: dict,
                                                                         tmp_path: Path) -> None:
    """Only algo-2 (the last rank's host) saves model.json: a healthy job on SageMaker, which merges every host's
    /opt/ml/model into one model.tar.gz, the later host's file over the earlier one's; a name two hosts wrote with
    different bytes is a warning, since one silently overwrites the other."""
    import tarfile

    report = smoke.run_all(image, data=data, instances=2, env={"MODE": "merge"}, output=tmp_path)
    assert report.ok, report.to_json()  # serve.ready too: its /ping is 200 only on the merged model
    assert report.warnings() == ["train.model-clash"]
    clash = next(c for c in report.checks if c.name == "train.model-clash").detail
    assert "/opt/ml/model/assets/clash.txt by algo-1, algo-2 (algo-2's was kept)" in clash
    assert "same.txt" not in clash
    with tarfile.open(tmp_path / contract.MODEL_ARCHIVE_NAME) as archive:
        assert sorted(archive.getnames()) == ["assets", "assets/clash.txt", "assets/same.txt", "model.json"]
        assert archive.extractfile("assets/clash.txt").read() == b"algo-2"


def test_train_exits_zero_without_a_model(image: str, data: dict) -> None:
    report = smoke.train(image, data=data, env={"MODE": "no-model"})
    assert report.failed() == ["train.model"]


def test_train_failure_file_and_exit_code(image: str, data: dict) -> None:
    report = smoke.train(image, data=data, env={"MODE": "fail"})
    assert report.failed() == ["train.exit-code"]
    assert "exited 2" in report.checks[0].detail and "label column is missing" in report.checks[0].detail
    assert len(report.data["failure_reasons"]["algo-1"]) == 1024


def test_train_timeout_sigterm_honoured_and_ignored(image: str, data: dict) -> None:
    honoured = smoke.train(image, data=data, env={"MODE": "sleep"}, timeout=2, stop_grace=5)
    assert honoured.failed() == ["train.timeout"]
    ignored = smoke.train(image, data=data, env={"MODE": "ignore-sigterm"}, timeout=2, stop_grace=2)
    assert ignored.failed() == ["train.timeout", "train.sigterm"]


@pytest.mark.parametrize("mode, failed, warned", [
    ("never-ready", ["serve.ready"], []),
    ("wrong-port", ["serve.ready"], []),
    ("invocations-500", ["serve.invocations"], []),
    ("ignore-sigterm", [], ["serve.sigterm"]),  # works on the platform, but in-flight requests are cut at scale-in
])
def test_serve_failures_are_reported_as_exactly_that(image: str, mode: str, failed: list[str],
                                                     warned: list[str]) -> None:
    report = smoke.serve(image, env={"MODE": mode}, startup_timeout=4, stop_grace=2)
    assert (report.failed(), report.warnings()) == (failed, warned), report.to_json()
    report.fail_on = "warning"
    assert report.failed() == failed + warned


def test_a_server_that_opens_a_side_port_and_answers_500_while_it_loads_is_waited_for(image: str) -> None:
    """SageMaker polls /ping for the whole window while the process lives: neither the side port (seen for 10 s)
    nor /ping 500 with an error line in the log (6 s) is a verdict; the server is ready after both."""
    report = smoke.serve(image, env={"MODE": "slow-start"}, startup_timeout=60, stop_grace=2)
    assert report.ok, report.to_json()
    assert report.data["time_to_ready_s"] >= 16


def test_an_invocation_500_is_reported_with_its_message_and_the_log_tail(image: str) -> None:
    report = smoke.serve(image, env={"MODE": "invocations-500"}, startup_timeout=4, stop_grace=2)
    detail = next(c.detail for c in report.checks if c.name == "serve.invocations")
    assert detail.startswith('POST /invocations answered 500: {"error": "boom"}. Log tail:\n'), detail  # no blank line


def test_a_crash_during_an_invocation_shows_the_log_and_the_server_gets_time_to_recover(image: str) -> None:
    report = smoke.serve(image, env={"MODE": "crash-then-recover"}, startup_timeout=4, stop_grace=2)
    assert report.failed() == ["serve.invocations", "serve.payload-limit"], report.to_json()
    invocations, limit = (next(c.detail for c in report.checks if c.name == name)
                          for name in ("serve.invocations", "serve.payload-limit"))
    assert "Log tail:" in invocations and "worker 7 exited with code 1" in invocations
    assert "6 MB) body (InvokeEndpoint's limit) got no answer" in limit and "afterwards" not in limit  # recovered


def test_a_server_that_does_not_recover_within_the_grace_says_so(image: str, monkeypatch) -> None:
    from imagekit.smoke import serving

    monkeypatch.setattr(serving, "RECOVERY_S", 1.0)
    report = smoke.serve(image, env={"MODE": "crash-then-recover", "RECOVER_S": "600"}, startup_timeout=4,
                         stop_grace=2)
    assert report.failed() == ["serve.invocations", "serve.payload-limit"], report.to_json()
    limit = next(c.detail for c in report.checks if c.name == "serve.payload-limit")
    assert "; afterwards /ping answered 503, still after 1 s." in limit and "Log tail:" in limit


def test_the_body_limit_follows_sagemaker_max_payload_in_mb(image: str) -> None:
    """The test server refuses bodies over 6 MB itself: fine by default, a failure when the platform allows 7."""
    report = smoke.serve(image, env={contract.ENV_MAX_PAYLOAD_IN_MB: "7"}, startup_timeout=4, stop_grace=2)
    assert report.failed() == ["serve.payload-limit"], report.to_json()
    detail = next(c.detail for c in report.checks if c.name == "serve.payload-limit")
    assert "A 7340032-byte (7 MB) body (the limit set by SAGEMAKER_MAX_PAYLOAD_IN_MB) was refused with 413" in detail


def test_an_invocation_over_the_time_limit_says_so(image: str, monkeypatch) -> None:
    monkeypatch.setattr(contract, "INVOCATION_TIMEOUT_S", 1.0)  # the real limit is 60 s; the handler takes 5
    report = smoke.serve(image, env={"MODE": "slow"}, startup_timeout=4, stop_grace=2)
    assert report.failed() == ["serve.invocations"], report.to_json()
    detail = next(c.detail for c in report.checks if c.name == "serve.invocations")
    assert "got no response within 1 s, SageMaker's invocation time limit" in detail
    assert "Asynchronous Inference or Batch Transform" in detail


@pytest.mark.parametrize("dockerfile, reason", [
    ("FROM {base}\n", 'exec: "train": executable file not found in $PATH'),
    ('FROM {base}\nCOPY train.txt /opt/program/entry\nENTRYPOINT ["/opt/program/entry"]\n', "permission denied"),
], ids=["no-train-on-path", "entrypoint-not-executable"])
def test_an_image_the_runtime_cannot_start_fails_the_start_check(module_image, data: dict, dockerfile: str,
                                                                 reason: str) -> None:
    broken = module_image(dockerfile, {"train.txt": TRAIN})
    trained = smoke.train(broken, data=data)
    assert trained.failed() == ["train.start"], trained.to_json()
    assert reason in trained.checks[0].detail
    served = smoke.serve(broken, startup_timeout=4)
    assert served.failed() == ["serve.start"], served.to_json()
    assert "`docker run IMAGE serve`" in served.checks[0].detail


def test_train_and_serve_scripts_with_crlf_line_endings_are_named_as_the_cause(module_image, data: dict) -> None:
    script = "#!/bin/sh\r\necho started\r\n"
    broken = module_image("FROM {base}\nCOPY train serve /usr/local/bin/\n", {"train": script, "serve": script})
    for report in (smoke.train(broken, data=data), smoke.serve(broken, startup_timeout=4)):
        assert len(report.failed()) == 1 and report.failed()[0] in ("train.start", "train.exit-code",
                                                                     "serve.start"), report.to_json()
        assert "Windows (CRLF) line endings" in report.checks[0].detail, report.checks[0].detail


def test_an_image_claiming_multi_models_without_the_models_api_fails_that_check(module_image) -> None:
    claims = module_image(f"FROM {{base}}\nCOPY train serve /usr/local/bin/\n"
                          f"LABEL {contract.LABEL_MULTI_MODELS}={contract.CAPABILITY_TRUE}\n",
                          {"train": TRAIN, "serve": SERVE})
    report = smoke.serve(claims, startup_timeout=4, stop_grace=2)
    assert report.failed() == ["serve.multi-model"], report.to_json()
    assert f"GET {contract.MODELS_ROUTE}" in next(c.detail for c in report.checks if c.name == "serve.multi-model")


def test_a_response_in_another_type_than_accept_asks_for_fails(image: str) -> None:
    wrong = smoke.serve(image, accept="text/csv", startup_timeout=4, stop_grace=2)
    assert wrong.failed() == ["serve.invocations"], wrong.to_json()
    assert "Accept: text/csv" in next(c.detail for c in wrong.checks if c.name == "serve.invocations")
    assert smoke.serve(image, accept="text/csv;q=0.9, application/*", startup_timeout=4, stop_grace=2).ok


def test_cli_json_junit_exit_codes_and_sigint_cleanup(image: str, data: dict, tmp_path: Path) -> None:
    run = [sys.executable, "-m", "imagekit", "smoke"]
    ok = subprocess.run([*run, "train", image, "--data", f"train={data['train']}", "--json",
                         "--junit", str(tmp_path / "junit.xml")], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["ok"] is True and "<testsuite" in (tmp_path / "junit.xml").read_text()
    failed = subprocess.run([*run, "train", image, "--data", f"train={data['train']}", "--env", "MODE=fail"],
                            capture_output=True, text=True)
    assert failed.returncode == 1 and "train.exit-code" in failed.stdout
    usage = subprocess.run([*run, "train", image, "--data", "no-equals-sign"], capture_output=True, text=True)
    assert usage.returncode == 2 and "KEY=VALUE" in usage.stderr
    # Ctrl-C as a terminal delivers it, even when this test runs in a background job that ignores SIGINT.
    process = subprocess.Popen([*run, "train", image, "--data", f"train={data['train']}", "--env", "MODE=sleep"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))

    def objects_of_child() -> list:  # the child's own, not another run's on a shared engine
        client, label = engine.connect(), {"label": f"{engine.PID_LABEL}={process.pid}"}
        return [*client.containers.list(all=True, filters=label, ignore_removed=True),
                *client.networks.list(filters=label), *client.volumes.list(filters=label)]

    def handler_installed() -> bool:  # before it, SIGTERM to PID 1 is ignored and the stop waits out the grace
        containers = [o for o in objects_of_child() if hasattr(o, "logs")]
        return bool(containers) and b"SIGTERM handled" in containers[0].logs()

    deadline = time.monotonic() + 60
    while not handler_installed() and time.monotonic() < deadline:
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)
    assert objects_of_child() == []
    assert process.returncode != 0


def test_cli_warnings_fail_only_with_fail_on_warning_and_progress_lines_go_to_stderr(
        image: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from functools import partial

    from typer.testing import CliRunner

    from imagekit.cli import app

    monkeypatch.setattr(smoke, "serve", partial(smoke.serve, stop_grace=1))  # not the platform's 30 s
    # START_DELAY_S: a server answering /ping at once leaves no time for a progress line
    run = ["smoke", "serve", image, "--env", "MODE=ignore-sigterm", "--env", "START_DELAY_S=1.5", "--startup-timeout",
           "4"]
    warned = CliRunner().invoke(app, [*run, "--json", "--junit", str(tmp_path / "junit.xml")])
    assert warned.exit_code == 0, warned.output
    report = json.loads(warned.stdout)  # stdout holds the report only; the progress line went to stderr
    assert (report["ok"], report["failed"], report["warnings"]) == (True, [], ["serve.sigterm"])
    sigterm = next(c for c in report["checks"] if c["name"] == "serve.sigterm")
    assert sigterm["severity"] == "warning"
    # the fixes SageMaker can use: no `docker run --init` there, an init must be in the image's ENTRYPOINT
    assert "handle SIGTERM" in sigterm["detail"] and 'ENTRYPOINT ["tini", "--", ' in sigterm["detail"], sigterm
    assert "waiting for /ping: 0 s of 4 s" in warned.stderr and "WARN serve.sigterm" in warned.stderr
    assert "<failure" not in (tmp_path / "junit.xml").read_text()
    strict = CliRunner().invoke(app, [*run, "--fail-on", "warning", "--quiet"])
    assert strict.exit_code == 1 and "1 check(s) failed: serve.sigterm" in strict.stdout, strict.output
    assert "waiting for /ping" not in strict.output
    wrong = CliRunner().invoke(app, [*run, "--fail-on", "info"])  # `imagekit` turns it into exit 2, no traceback
    assert wrong.exception.exit_code == 2 and "--fail-on 'info' is not a severity" in str(wrong.exception)


def test_variants_split_target_header_and_live_weights(image: str) -> None:
    from imagekit.smoke.variants import parse_variant, serve_variants

    variants = [parse_variant(f"blue={image}:3"), parse_variant(f"green={image}:1")]
    report = serve_variants(variants, requests=200, startup_timeout=30)
    assert report.ok, report.to_json()
    metrics = report.data["variants"]
    assert set(metrics) == {"blue", "green"}
    assert metrics["blue"]["Invocations"] > metrics["green"]["Invocations"] > 0
    assert {"Invocations", "Invocation4XXErrors", "Invocation5XXErrors", "ModelLatency",
            "OverheadLatency"} <= set(metrics["blue"])
    with pytest.raises(Exception, match="NAME=IMAGE:WEIGHT"):
        parse_variant("no-weight")


def test_cleanup_removes_leftovers_of_a_killed_run_and_spares_a_live_one(image: str) -> None:
    # A process that starts a container and a work dir, then dies by kill -9 (no chance to clean up).
    killed_run = engine.new_run_id()
    owner = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from imagekit import engine; from imagekit.smoke.common import run_workdir\n"
        f"engine.run_container({killed_run!r}, {image!r}, ['sleep', '60'])\n"
        "print(run_workdir('train'), flush=True); time.sleep(600)")], stdout=subprocess.PIPE, text=True)
    workdir = Path(owner.stdout.readline().strip())
    owner.kill()
    owner.wait()
    live_run = engine.new_run_id()  # this test process is alive: its run is in progress
    engine.run_container(live_run, image, ["sleep", "60"])
    try:
        done = subprocess.run([sys.executable, "-m", "imagekit", "smoke", "--cleanup"], capture_output=True,
                              text=True)
        assert done.returncode == 0 and re.search(r"removed [1-9]\d* leftover engine object\(s\) and [1-9]\d* work "
                                                  r"dir\(s\)", done.stdout), done.stdout
        assert "kept the objects of runs still in progress" in done.stdout
        assert not engine.owned_objects(killed_run)["containers"] and not workdir.exists()
        assert engine.owned_objects(live_run)["containers"]
    finally:
        engine.cleanup(live_run)
