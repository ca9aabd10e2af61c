"""`imagekit run IMAGE train|serve|shell`: smoke's container by hand: same /opt/ml tree, env and port, the terminal
attached, the container's exit code, and nothing left behind on exit or Ctrl-C."""

from __future__ import annotations

import http.client
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from imagekit import engine

from .test_logs import SERVE, TRAIN


@pytest.fixture(scope="module")
def image(module_image) -> str:
    return module_image("FROM {base}\nCOPY train serve /usr/local/bin/\n", {"train": TRAIN, "serve": SERVE})


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """`imagekit run ARGS`, checked to have left neither a container nor a work dir behind."""
    process = subprocess.Popen([sys.executable, "-m", "imagekit", "run", *args], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = process.communicate(stdin, timeout=120)
    assert not left_by(process.pid)
    return subprocess.CompletedProcess(args, process.returncode, stdout, stderr)


def left_by(pid: int) -> list:
    """The containers and work dirs of imagekit process *pid* still there."""
    containers = engine.connect().containers.list(all=True, filters={"label": f"{engine.PID_LABEL}={pid}"})
    return containers + list(Path(tempfile.gettempdir()).glob(f"imagekit-run-pid{pid}-*"))


def test_shell_sees_the_training_tree_and_exits_with_its_code(image: str, tmp_path: Path) -> None:
    (tmp_path / "rows.csv").write_text("1,2\n")
    done = run(image, "shell", "--data", f"train={tmp_path}", "--hp", "epochs=3",
               stdin="cat /opt/ml/input/config/hyperparameters.json; ls /opt/ml/input/data/train; hostname\n"
                     "echo job=$TRAINING_JOB_NAME; exit 5\n")
    assert done.returncode == 5, done.stderr
    assert '"epochs": "3"' in done.stdout and "rows.csv" in done.stdout and "algo-1" in done.stdout
    assert "job=imagekit-smoke-" in done.stdout


def test_train_runs_the_image_train(image: str) -> None:
    done = run(image, "train")
    assert done.returncode == 0, done.stderr
    assert "epoch 2" in done.stdout and "a warning on stderr" in done.stderr


def test_serve_answers_on_the_port_and_ctrl_c_removes_everything(image: str, tmp_path: Path) -> None:
    import socket

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    (tmp_path / "model.bin").write_text("weights")
    process = subprocess.Popen([sys.executable, "-m", "imagekit", "run", image, "serve", "--model", str(tmp_path),
                                "--port", str(port)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline, status = time.monotonic() + 60, None
        while status != 200 and time.monotonic() < deadline:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/ping")
                status = connection.getresponse().status
            except OSError:
                time.sleep(0.2)
        assert status == 200
        assert left_by(process.pid)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    assert process.returncode == 130, process.stderr.read()
    assert not left_by(process.pid)


def test_taken_port_and_unknown_mode_are_usage_errors(image: str) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        done = run(image, "serve", "--port", str(taken.getsockname()[1]))
    assert done.returncode == 2 and "is taken" in done.stderr and "--port" in done.stderr
    done = run(image, "debug")
    assert done.returncode == 2 and "train, serve, shell" in done.stderr


def test_on_a_terminal_the_container_gets_a_tty_and_ctrl_c_stops_it(image: str) -> None:
    """`script` gives `imagekit run` a pseudo-terminal, as a user's shell would; Ctrl-C is then a byte typed."""
    command = f"{sys.executable} -m imagekit run {image} train --env SLEEP=60"
    process = subprocess.Popen(["script", "-qec", command, "/dev/null"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE)
    try:
        seen = b""
        while b"epoch 1" not in seen:
            line = process.stdout.readline()
            assert line, seen.decode()
            seen += line
        assert b"Ctrl-P Ctrl-Q" in seen  # the banner's TTY hint
        process.stdin.write(b"\x03")
        process.stdin.flush()
        assert process.wait(timeout=60) == 130  # the train process died of the SIGINT its terminal sent
    finally:
        process.kill()
    assert not engine.connect().containers.list(all=True, filters={"ancestor": image})  # this module's image
