"""Live output: every container's log reaches stderr as it is written, prefixed by its host; --quiet silences it,
--json keeps stdout the report's, and each host's last lines are in the JSON and JUnit reports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

TRAIN = r'''#!/usr/bin/env python3
import os, socket, sys, time
print(f"epoch 1 on {socket.gethostname()}", flush=True)
print("a warning on stderr", file=sys.stderr, flush=True)
time.sleep(float(os.environ.get("SLEEP", "0")))
print("epoch 2", flush=True)
open("/opt/ml/model/model.txt", "w").write("weights")
'''
SERVE = r'''#!/usr/bin/env python3
import signal, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"{}")
    def log_message(self, *args):
        pass
server = ThreadingHTTPServer(("0.0.0.0", 8080), Handler)
signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
print("model loaded, listening on 8080", flush=True)
server.serve_forever()
'''


@pytest.fixture(scope="module")
def image(module_image) -> str:
    return module_image("FROM {base}\nCOPY train serve /usr/local/bin/\n", {"train": TRAIN, "serve": SERVE})


def imagekit(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "imagekit", *args], capture_output=True, text=True, timeout=300,
                          **kwargs)


def test_every_container_streams_to_stderr_by_host_and_the_reports_keep_the_tails(image: str,
                                                                                   tmp_path: Path) -> None:
    done = imagekit("smoke", "all", image, "--instances", "2", "--json", "--junit", str(tmp_path / "junit.xml"))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)  # stdout holds the report and nothing else
    for line in ("algo-1 | epoch 1 on algo-1", "algo-1 | a warning on stderr", "algo-2 | epoch 2",
                 "serve | model loaded, listening on 8080"):
        assert line in done.stderr.splitlines()
    # stdout and stderr are separate pipes: their relative order is not kept, each one's order is
    assert [line for line in report["logs"]["algo-2"].splitlines() if "epoch" in line] == ["epoch 1 on algo-2",
                                                                                            "epoch 2"]
    assert "a warning on stderr" in report["logs"]["algo-2"]
    assert report["logs"]["serve"] == "model loaded, listening on 8080"
    assert "algo-1 | epoch 2" in (tmp_path / "junit.xml").read_text()


def test_quiet_keeps_the_logs_out_of_the_terminal_but_in_the_report(image: str) -> None:
    done = imagekit("smoke", "train", image, "--quiet", "--json")
    assert done.returncode == 0, done.stderr
    assert " | " not in done.stderr
    tail = json.loads(done.stdout)["logs"]["algo-1"]  # stdout's and stderr's lines may interleave either way
    assert [line for line in tail.splitlines() if "epoch" in line] == ["epoch 1 on algo-1", "epoch 2"]


def test_lines_arrive_while_the_container_runs(image: str) -> None:
    process = subprocess.Popen([sys.executable, "-m", "imagekit", "smoke", "train", image, "--env", "SLEEP=5"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        first = {process.stderr.readline(), process.stderr.readline()}  # stdout's and stderr's first lines
        assert "algo-1 | epoch 1 on algo-1\n" in first
        assert process.poll() is None  # training still sleeps: the line came as it was written, not at the end
    finally:
        assert process.wait(timeout=120) == 0


def test_variants_stream_under_their_names(image: str) -> None:
    done = imagekit("smoke", "serve", "--variant", f"blue={image}:1", "--requests", "10", "--json")
    assert done.returncode == 0, done.stderr
    assert "blue | model loaded, listening on 8080" in done.stderr.splitlines()
    assert json.loads(done.stdout)["logs"]["blue"] == "model loaded, listening on 8080"
