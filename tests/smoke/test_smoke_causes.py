"""Smoke verdicts on working images that look odd, and on broken ones whose cause is easy to misname.

One image whose train/serve behave as the env var MODE says: serve is AWS's scikit bring-your-own predictor in
shape (CSV only, 415 for anything else), train may leave a "best" link by its container path.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from imagekit import contract, smoke

APP = r'''#!/usr/bin/env python3
import os, signal, subprocess, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
mode = os.environ.get("MODE", "ok")
command = sys.argv[1] if len(sys.argv) > 1 else os.path.basename(sys.argv[0])
if command == "train":
    if mode != "nomodel":
        open("/opt/ml/model/model.json", "w").write('{"w": 1}')
        os.symlink("/opt/ml/model/model.json", "/opt/ml/model/best.json")  # a "best checkpoint" link
    sys.exit(0)
if command != "serve":
    print("unknown command", sys.argv, file=sys.stderr)
    sys.exit(2)
if mode == "daemon":  # the server goes to the background and serve itself returns
    subprocess.Popen(["sleep", "60"], start_new_session=True)
    print("started the server in the background", flush=True)
    sys.exit(0)
class Predictor(BaseHTTPRequestHandler):
    def reply(self, status, body, kind):
        self.send_response(status); self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def do_GET(self):
        loaded = mode != "abslink" or os.path.isfile("/opt/ml/model/best.json")
        self.reply(200 if loaded else 404, b"\n", "application/json")
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if mode == "crashinv":  # the server dies on its first request
            print("crashing on invocation", flush=True)
            os._exit(3)
        if self.headers.get("Content-Type") != "text/csv":
            return self.reply(415, b"This predictor only supports CSV data", "text/plain")
        self.reply(200, b"".join(b"1\n" for _ in body.splitlines()), "text/csv")
    def log_message(self, *args):
        pass
server = ThreadingHTTPServer(("0.0.0.0", 8080), Predictor)
signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
server.serve_forever()
'''


@pytest.fixture(scope="module")
def image(module_image) -> str:
    return module_image("FROM {base}\nCOPY app /usr/local/bin/train\nCOPY app /usr/local/bin/serve\n", {"app": APP})


@pytest.fixture()
def row(tmp_path: Path) -> Path:
    (tmp_path / "row.csv").write_text("5.1,3.5,1.4,0.2\n")
    return tmp_path / "row.csv"


def test_a_csv_only_model_is_not_failed_for_refusing_imagekits_own_probe(image: str, row: Path) -> None:
    """No --payload: the `{}` probe's 415 is a warning saying what to pass; with a real request everything passes."""
    probed = smoke.serve(image, startup_timeout=10, stop_grace=2)
    assert probed.ok and probed.warnings() == ["serve.probe"], probed.to_json()
    detail = next(c.detail for c in probed.checks if c.name == "serve.probe")
    assert "answered 415 to imagekit's own probe body `{}` (application/json): This predictor only supports CSV" \
        in detail and "pass --payload with a request your model accepts" in detail
    real = smoke.serve(image, payloads=[row], content_type="text/csv", startup_timeout=10, stop_grace=2)
    assert real.ok and not real.warnings(), real.to_json()
    assert next(c.detail for c in real.checks if c.name == "serve.invocations").startswith("200, text/csv")


def test_smoke_all_serves_the_model_its_training_left_with_a_link_and_output_holds_no_stale_archive(
        image: str, row: Path, tmp_path: Path) -> None:
    output = tmp_path / "out"
    output.mkdir()
    (output / contract.MODEL_ARCHIVE_NAME).write_text("an earlier run's model")
    report = smoke.run_all(image, env={"MODE": "abslink"}, output=output, payloads=[row], content_type="text/csv",
                           startup_timeout=10)
    assert report.ok and not report.warnings(), report.to_json()
    with tarfile.open(output / contract.MODEL_ARCHIVE_NAME) as archive:  # the link followed, as local mode packs
        assert archive.getmember("best.json").isfile() and archive.extractfile("best.json").read() == b'{"w": 1}'
    empty = smoke.train(image, env={"MODE": "nomodel"}, output=output)
    assert empty.failed() == ["train.model"] and not (output / contract.MODEL_ARCHIVE_NAME).exists()


def test_a_serve_that_returns_instead_of_serving_is_told_to_stay_in_the_foreground(image: str) -> None:
    report = smoke.serve(image, env={"MODE": "daemon"}, startup_timeout=10, stop_grace=2)
    assert report.failed() == ["serve.start"], report.to_json()
    detail = report.checks[-1].detail
    assert "exited with code 0" in detail and "in the foreground" in detail and "daemon off;" in detail
    assert "its program failed" not in detail


def test_a_server_that_dies_answering_is_named_and_its_later_checks_are_not_run(image: str, row: Path) -> None:
    """Neither the 6 MB body nor SIGTERM is judged against a dead server (review-smoke2 F1/F2)."""
    report = smoke.serve(image, env={"MODE": "crashinv"}, payloads=[row], content_type="text/csv",
                         startup_timeout=10, stop_grace=2)
    assert report.failed() == ["serve.invocations"], report.to_json()
    assert report.skipped() == ["serve.payload-limit", "serve.sigterm"]
    detail = next(c.detail for c in report.checks if c.name == "serve.invocations")
    assert detail.startswith("`serve` exited with code 3 while answering POST /invocations"), detail


def test_a_shell_form_entrypoint_that_drops_the_command_is_named_as_the_cause(module_image) -> None:
    shell_form = module_image("FROM {base}\nCOPY app /opt/program/app\nENTRYPOINT python3 /opt/program/app\n",
                              {"app": APP})
    trained, served = smoke.train(shell_form), smoke.serve(shell_form, startup_timeout=10, stop_grace=2)
    assert (trained.failed(), served.failed()) == (["train.exit-code"], ["serve.start"])
    for report in (trained, served):
        detail = next(c.detail for c in report.checks if not c.ok)
        assert 'its ENTRYPOINT is in shell form (["/bin/sh", "-c", "python3 /opt/program/app"])' in detail, detail
        assert "exec form" in detail and "its program failed" not in detail
