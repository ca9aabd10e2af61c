"""SIGINT, SIGTERM and SIGHUP stop every engine-using command the way Ctrl-C does: nothing of the run is left.

The in-process tests pin the mechanism (imagekit.interrupts); the stress test sends random stop signals at random
points of real `imagekit smoke`/`imagekit endpoint` runs, several at once, and checks the engine and the temp dir
for anything the stopped process made. IMAGEKIT_STRESS_RUNS (default 54) and IMAGEKIT_STRESS_SEED turn it into a
longer soak or replay one sequence.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from imagekit import contract, engine, interrupts
from imagekit.interrupts import Interrupted, deferred, handled
from imagekit.smoke.variants import WEIGHTS_ROUTE


def _default_signals() -> None:
    """A terminal's defaults, whatever the test runner inherited (a background CI job ignores SIGINT, nohup SIGHUP)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


@pytest.fixture()
def default_ctrl_c():
    """Python's own Ctrl-C handling and default SIGTERM/SIGHUP, put back afterwards."""
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    _default_signals()
    yield
    for signum, handler in previous.items():
        signal.signal(signum, handler)


def test_ctrl_c_during_an_engine_call_is_raised_when_the_call_returns(default_ctrl_c) -> None:
    finished = []
    with pytest.raises(KeyboardInterrupt):
        with deferred():
            os.kill(os.getpid(), signal.SIGINT)
            finished.append("the call completed")  # not cut short by the signal
    assert finished == ["the call completed"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_no_ctrl_c_no_interrupt(default_ctrl_c) -> None:
    with deferred():
        pass
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_ignored_ctrl_c_stays_ignored() -> None:
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with deferred():
            os.kill(os.getpid(), signal.SIGINT)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_each_stop_signal_raises_a_keyboard_interrupt_that_remembers_it(default_ctrl_c, signum: int) -> None:
    with pytest.raises(KeyboardInterrupt) as raised, handled():
        os.kill(os.getpid(), signum)
        time.sleep(5)  # interrupted long before
    assert isinstance(raised.value, Interrupted) and raised.value.signum == signum
    assert interrupts.exit_status(signum) == {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGHUP: 129}[signum]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # put back afterwards
    assert interrupts.received() is None  # and what runs next in this process is not interrupted


def test_a_second_signal_hurries_the_cleanup_but_never_interrupts_it(default_ctrl_c) -> None:
    cleaned = []
    with pytest.raises(Interrupted) as raised, handled():
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
        finally:
            assert not interrupts.hurried()
            os.kill(os.getpid(), signal.SIGINT)  # impatient: Ctrl-C during the cleanup
            os.kill(os.getpid(), signal.SIGHUP)
            cleaned.append("the cleanup ran to its end")
            assert interrupts.hurried()
    assert raised.value.signum == signal.SIGTERM and cleaned


def test_a_signal_during_an_engine_call_or_a_cleanup_waits_for_it(default_ctrl_c) -> None:
    done = []
    with pytest.raises(Interrupted), handled():
        with deferred():
            os.kill(os.getpid(), signal.SIGHUP)
            with deferred():  # nested: the outermost block raises
                done.append("inner")
            done.append("outer")
    assert done == ["inner", "outer"]


def test_inherited_ignored_sigint_stays_ignored_while_sigterm_still_stops(default_ctrl_c) -> None:
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with pytest.raises(Interrupted), handled():
            os.kill(os.getpid(), signal.SIGINT)  # a background job's Ctrl-C: ignored
            time.sleep(0.2)
            assert interrupts.received() is None
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_concurrent_requests_stop_promptly_when_interrupted(default_ctrl_c) -> None:
    from imagekit.smoke.common import repeat_concurrently

    assert sorted(repeat_concurrently(lambda: 7, 50, 4)) == [7] * 50
    with pytest.raises(ZeroDivisionError):
        repeat_concurrently(lambda: 1 / 0, 5, 2)
    calls: list[int] = []

    def slow_request() -> None:
        calls.append(1)
        time.sleep(0.05)

    threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM)).start()  # caught by whichever thread the kernel picks
    started = time.monotonic()
    with pytest.raises(Interrupted), handled():
        repeat_concurrently(slow_request, 10**6, 4)
    assert time.monotonic() - started < 3 and len(calls) < 200  # the queued million never ran


# --- the stress test: real commands, real engine ------------------------------------------------------------------

TRAIN = r'''#!/usr/bin/env python3
import os, signal, sys, time
mode = os.environ.get("MODE", "sleep")
signal.signal(signal.SIGTERM, signal.SIG_IGN if mode == "ignore-sigterm" else lambda *_: sys.exit(143))
if mode == "quick":
    open("/opt/ml/model/model.json", "w").write("{}")
    sys.exit(0)
time.sleep(600)
'''
SERVE = r'''#!/usr/bin/env python3
import os, signal, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass
    def do_GET(self):
        self.reply()
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.reply()
    def reply(self):
        self.send_response(200 if self.path in ("/ping", "/invocations") else 404)
        self.send_header("Content-Type", "application/json"); self.send_header("Content-Length", "2")
        self.end_headers(); self.wfile.write(b"{}")
signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
time.sleep(float(os.environ.get("START_S", "0")))  # a model that takes a while to load: /ping is refused
server = ThreadingHTTPServer(("0.0.0.0", 8080), Handler)
signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
server.serve_forever()
'''
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
PATIENCE_S = 8  # then a second signal: the containers' stop grace (120 s for training) is not waited out
MANY = "1000000"  # requests: the load phase outlasts any interruption point


@pytest.fixture(scope="module")
def image(module_image) -> str:
    return module_image("FROM {base}\nCOPY train serve /usr/local/bin/\n", {"train": TRAIN, "serve": SERVE})


@dataclass
class Run:
    """One `imagekit` child process, its output read as it comes (a full pipe would stall it)."""

    args: list[str]
    ignore_sigint: bool = False  # started as a shell's background job is
    lines: list[str] = field(default_factory=list)
    process: subprocess.Popen = field(init=False)

    def __post_init__(self) -> None:
        ignore = self.ignore_sigint

        def as_a_shell_starts_it() -> None:
            _default_signals()
            signal.signal(signal.SIGINT, signal.SIG_IGN if ignore else signal.SIG_DFL)

        self.process = subprocess.Popen([sys.executable, "-m", "imagekit", *self.args], stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, preexec_fn=as_a_shell_starts_it)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    def wait_for(self, pattern: str, timeout: float = 60) -> re.Match | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            found = re.search(pattern, "".join(self.lines))
            if found:
                return found
            time.sleep(0.05)
        return None

    def wait_for_objects(self, kind: str, count: int, timeout: float = 60) -> bool:
        """Until the child has *count* containers/networks on the engine (a point of its run, seen from outside)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            if len(_objects_of(self.process.pid)[kind]) >= count:
                return True
            time.sleep(0.05)
        return False


def _objects_of(pid: int) -> dict[str, list]:
    client = engine.connect()
    label = {"label": [f"{engine.PID_LABEL}={pid}"]}
    return {"containers": client.containers.list(all=True, sparse=True, filters=label),  # no racy inspects
            "networks": client.networks.list(filters=label), "volumes": client.volumes.list(filters=label)}


def _workdirs_of(pid: int) -> list[Path]:
    return list(Path(tempfile.gettempdir()).glob(f"imagekit-*-pid{pid}-*"))


def _update_weights(url: str, stop: threading.Event) -> None:
    """An operator shifting traffic back and forth while the endpoint is being stopped."""
    weights = [{"a": 1, "b": 0}, {"a": 0, "b": 1}, {"a": 3, "b": 1}]
    host, port = url.split("//")[1].split(":")
    for turn in range(10**6):
        if stop.is_set():
            return
        try:
            connection = http.client.HTTPConnection(host, int(port), timeout=5)
            connection.request("POST", WEIGHTS_ROUTE, body=json.dumps(weights[turn % 3]))
            connection.getresponse().read()
            connection.close()
        except OSError:  # the router is gone: the endpoint is stopping
            return


def _scenario(image: str, rng: random.Random, data: Path) -> tuple[str, list[str], object]:
    """(name, arguments, when to signal): a command and a point of its run, chosen at random."""
    train = ["smoke", "train", image, "--data", f"train={data}"]
    serve = ["smoke", "serve", image, "--env", "START_S=1.5", "--requests", MANY, "--concurrency", "2"]
    variants = ["--variant", f"a={image}:3", "--variant", f"b={image}:1"]
    choices = [
        ("train, 1 host", train, rng.uniform(0, 3)),
        ("train, 3 hosts: creating the network", [*train, "--instances", "3"], ("networks", 1)),
        ("train, 3 hosts: starting host 2 of 3", [*train, "--instances", "3"], ("containers", 2)),
        ("train, 2 hosts", [*train, "--instances", "2"], rng.uniform(0, 4)),
        ("serve: waiting for /ping", serve, ("containers", 1, rng.uniform(0, 1.5))),
        ("serve: mid-load", serve, (r"ok +serve\.invocations", rng.uniform(0, 1.5))),
        ("serve: anywhere", serve, rng.uniform(0, 5)),
        ("all: anywhere", ["smoke", "all", image, "--data", f"train={data}", "--env", "MODE=quick",
                           "--requests", MANY], rng.uniform(0, 7)),
        ("variants router", ["smoke", "serve", *variants, "--requests", MANY], rng.uniform(0, 6)),
        ("endpoint: starting", ["endpoint", *variants, "--port", "0"], rng.uniform(0, 4)),
        ("endpoint: weight updates", ["endpoint", *variants, "--port", "0"],
         (r"ready at (http://[\d.:]+)", rng.uniform(0, 1.5))),
    ]
    return rng.choice(choices)


def _interrupt(image: str, seed: int, data: Path) -> dict:
    """One run stopped at a random point by a random signal; what happened, and what it left behind."""
    rng = random.Random(seed)
    name, args, when = _scenario(image, rng, data)
    signum = rng.choice(STOP_SIGNALS)
    background = signum != signal.SIGINT and rng.random() < 0.25  # a script's `imagekit ... &`: SIGINT ignored
    run = Run(args, ignore_sigint=background)
    hurried, sent = False, []
    started = time.monotonic()

    def send(signum: int) -> None:
        sent.append(f"{signal.Signals(signum).name}@{time.monotonic() - started:.1f}s")
        run.process.send_signal(signum)

    stop_updates = threading.Event()
    try:
        if isinstance(when, float):
            time.sleep(when)
        elif when[0] in ("containers", "networks"):
            run.wait_for_objects(when[0], when[1])
            time.sleep(when[2] if len(when) > 2 else 0)
        else:
            found = run.wait_for(when[0])
            if found and found.groups():
                threading.Thread(target=_update_weights, args=(found.group(1), stop_updates), daemon=True).start()
            time.sleep(when[1])
        if background:
            send(signal.SIGINT)
            time.sleep(0.3)
            assert run.process.poll() is None, f"{name}: an inherited ignored SIGINT stopped it:\n{''.join(run.lines)}"
        still_running = run.process.poll() is None
        send(signum)
        try:
            code = run.process.wait(timeout=PATIENCE_S)
        except subprocess.TimeoutExpired:  # a container that ignored SIGTERM (e.g. before its handler was set)
            hurried = True  # still has its grace: hurry, as GitHub Actions follows SIGINT with SIGTERM
            send(signal.SIGTERM if background else rng.choice(STOP_SIGNALS))
            try:
                code = run.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                code = None  # hung: reported below
    finally:
        stop_updates.set()
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait()
        left = {kind: [o.name for o in objs] for kind, objs in _objects_of(run.process.pid).items() if objs}
        dirs = _workdirs_of(run.process.pid)
        engine._remove(_objects_of(run.process.pid))  # never leak from a test, even a failing one
    return {"name": name, "signal": signal.Signals(signum).name, "seed": seed, "interrupted": still_running,
            "hurried": hurried, "sent": sent, "background": background,
            "code": code, "expected": 128 + signum,
            # -signum: ended by the signal itself while Python was still starting, before imagekit had made anything
            # (a shell reports that as 128 + signum too)
            "accepted": (128 + signum, -signum), "left": left, "dirs": dirs, "output": "".join(run.lines)}


def test_random_stop_signals_at_random_points_leave_nothing_behind(image: str, tmp_path: Path) -> None:
    runs = int(os.environ.get("IMAGEKIT_STRESS_RUNS", "54"))
    seed = int(os.environ.get("IMAGEKIT_STRESS_SEED", str(random.randrange(10**6))))
    (tmp_path / "data.csv").write_text("1,2\n")
    with ThreadPoolExecutor(max_workers=3) as pool:  # three at once: the engine and both cores are busy
        results = list(pool.map(lambda i: _interrupt(image, seed + i, tmp_path), range(runs)))
    problems = [f"{r['name']} / {r['sent']} (IMAGEKIT_STRESS_SEED={r['seed']}): exit {r['code']} (expected "
                f"{r['expected']}), left {r['left']} {r['dirs']}\n{r['output'][-2000:]}"
                for r in results if r["left"] or r["dirs"] or (r["interrupted"] and r["code"] not in r["accepted"])]
    assert not problems, "\n\n".join(problems)
    interrupted = [r for r in results if r["interrupted"]]
    assert len(interrupted) >= runs * 0.9, [(r["name"], r["code"], r["output"][-500:]) for r in results
                                            if not r["interrupted"]]
    assert all(f"stopped by {r['signal']}" in r["output"] for r in interrupted if r["code"] == r["expected"])
    print(f"\n{len(results)} runs (IMAGEKIT_STRESS_SEED={seed}), {len(interrupted)} interrupted, "
          f"{sum(r['hurried'] for r in results)} needed a second signal (*), "
          f"{sum(r['background'] for r in results)} with SIGINT ignored:")
    for name in sorted({r["name"] for r in results}):
        mine = [r for r in results if r["name"] == name]
        print(f"  {name}: {', '.join(sorted(r['signal'] + '=' + str(r['code']) + '*' * r['hurried'] for r in mine))}")


def test_a_second_signal_kills_containers_that_ignore_sigterm_instead_of_waiting(image: str, tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text("1,2\n")
    run = Run(["smoke", "train", image, "--data", f"train={tmp_path}", "--env", "MODE=ignore-sigterm"])
    try:
        assert run.wait_for_objects("containers", 1)
        time.sleep(1)  # started
        run.process.send_signal(signal.SIGTERM)
        assert run.wait_for(rf"stopping 1 container\(s\) with SIGTERM, {contract.INTERRUPTED_STOP_GRACE_S:g} s"), \
            "".join(run.lines)
        time.sleep(1)
        assert run.process.poll() is None, "it did not give the container its grace"
        started = time.monotonic()
        run.process.send_signal(signal.SIGINT)
        assert run.process.wait(timeout=30) == 143  # the first signal names the exit status
        assert time.monotonic() - started < 20
    finally:
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait()
    assert not any(_objects_of(run.process.pid).values()) and not _workdirs_of(run.process.pid)
    assert re.search(r"`imagekit smoke train \S+` stopped by SIGTERM; removed 1 container, 1 network, 1 work dir\.\n",
                     "".join(run.lines)), "".join(run.lines)


def test_one_sigterm_cleans_up_before_a_supervisor_would_kill_imagekit(image: str, tmp_path: Path) -> None:
    """docker stop, Kubernetes and systemd send one SIGTERM and SIGKILL soon after (10 s for docker stop): a
    container that ignores SIGTERM must not hold the cleanup for the platform's 120 s grace."""
    (tmp_path / "data.csv").write_text("1,2\n")
    run = Run(["smoke", "train", image, "--data", f"train={tmp_path}", "--env", "MODE=ignore-sigterm"])
    try:
        assert run.wait_for_objects("containers", 1)
        time.sleep(1)  # started
        started = time.monotonic()
        run.process.send_signal(signal.SIGTERM)
        assert run.process.wait(timeout=60) == 143
        assert time.monotonic() - started < 10, "".join(run.lines)
    finally:
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait()
    assert not any(_objects_of(run.process.pid).values()) and not _workdirs_of(run.process.pid)
