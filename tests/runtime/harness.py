"""Run the in-image runtime on the host: the image's tree under a temp root, contract paths re-rooted there.

The runtime reads every path from runtime.json, so pointing those paths into a temporary directory runs the
exact programs the image carries, with this interpreter, in milliseconds and without an engine.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from imagekit import contract
from imagekit.runtime import CONTEXT_TREE, RuntimeConfig, build_context_files
from imagekit.spec.model import Train


class FakeImage:
    """An image filesystem under *root*: runtime tree, /opt/ml, code dir; helpers to start train/serve."""

    def __init__(self, root: Path, config: RuntimeConfig, code: dict[str, str] | None = None,
                 contract_overrides: dict[str, object] | None = None) -> None:
        self.root = root
        for relative, (data, mode) in build_context_files(config).items():
            target = root / relative.removeprefix(CONTEXT_TREE + "/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            target.chmod(mode)
        runtime_json = self.path(contract.RUNTIME_CONFIG_FILE)
        document = json.loads(runtime_json.read_text())
        ml_root = str(contract.ML_ROOT)
        document["contract"] = {key: str(root) + value if isinstance(value, str) and value.startswith(ml_root)
                                else value for key, value in document["contract"].items()}
        document["contract"].update(contract_overrides or {})
        runtime_json.write_text(json.dumps(document))
        for name, text in (code or {}).items():
            self.write(contract.CODE_DIR / name, text)
        self.path(contract.CODE_DIR).mkdir(parents=True, exist_ok=True)

    def path(self, image_path) -> Path:
        return self.root / str(image_path).lstrip("/")

    def write(self, image_path, text: str) -> Path:
        target = self.path(image_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        return target

    def command(self, program: str) -> list[str]:
        launcher = f"import sys; sys.path.insert(0, {str(self.path(contract.RUNTIME_DIR))!r}); " \
                   f"from imagekit_runtime.main import {program}; sys.exit({program}())"
        return [sys.executable, "-c", launcher]

    def start(self, program: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        """Started in a process group of its own, so ``kill_group`` also ends the workers it forks (in a container
        they die with PID 1; on the host a killed master would leave them running)."""
        return subprocess.Popen(self.command(program), env={"PATH": "/usr/bin:/bin", **(env or {})},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)

    def train(self, hyperparameters: dict[str, str] | None = None, channels: tuple[str, ...] = ("training",),
              hosts: tuple[str, ...] = ("algo-1",), env: dict[str, str] | None = None,
              timeout: float = 60) -> subprocess.CompletedProcess:
        self.write(contract.HYPERPARAMETERS_FILE, json.dumps(hyperparameters or {}))
        self.write(contract.RESOURCE_CONFIG_FILE, json.dumps({"current_host": hosts[0], "hosts": list(hosts)}))
        self.write(contract.INPUT_DATA_CONFIG_FILE, json.dumps({name: {"TrainingInputMode": "File"}
                                                                for name in channels}))
        for name in channels:
            self.path(contract.channel_dir(name)).mkdir(parents=True, exist_ok=True)
        process = self.start("train", env)
        out, err = process.communicate(timeout=timeout)
        return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def hidden_modules(root: Path, *names: str) -> dict[str, str]:
    """Env that makes `import NAME` fail in the runtime, as in an image without numpy or boto3."""
    for name in names:
        (root / name).mkdir(parents=True, exist_ok=True)
        (root / name / "__init__.py").write_text(f"raise ImportError('{name} is hidden by the test')\n")
    return {"PYTHONPATH": str(root)}


FAKE_PIP = """import json, os, sys
from pathlib import Path
log = Path(os.environ["FAKE_PIP_LOG"])
calls = json.loads(log.read_text()) if log.exists() else []
log.write_text(json.dumps(calls + [{"argv": sys.argv[1:], "cwd": os.getcwd()}]))
sys.exit(int(os.environ.get("FAKE_PIP_EXIT", "0")))
"""


def fake_pip(root: Path) -> tuple[dict[str, str], Path]:
    """(env, log): `python -m pip` in the runtime records its arguments and cwd in *log* instead of installing."""
    (root / "pip").mkdir(parents=True, exist_ok=True)
    (root / "pip" / "__init__.py").write_text("")
    (root / "pip" / "__main__.py").write_text(FAKE_PIP)
    log = root / "pip-calls.json"
    return {"PYTHONPATH": str(root), "FAKE_PIP_LOG": str(log)}, log


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def request(port: int, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
            timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of one HTTP request; HTTP errors are answers, not exceptions."""
    call = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, headers=headers or {},
                                  method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(call, timeout=timeout) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def kill_group(process: subprocess.Popen) -> None:
    """End a started program and everything it forked, whatever state the test left it in."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def wait_ready(port: int, process: subprocess.Popen, deadline_s: float = 20) -> float:
    """Seconds until /ping answers 200; fails the test if serve exits or never gets ready."""
    started = time.monotonic()
    while time.monotonic() - started < deadline_s:
        if process.poll() is not None:
            raise AssertionError(f"serve exited with {process.returncode}: {process.stderr.read()}")
        try:
            if request(port, contract.PING_ROUTE, timeout=2)[0] == 200:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError("serve never answered /ping with 200")


__all__ = ["FakeImage", "RuntimeConfig", "Train", "fake_pip", "free_port", "hidden_modules", "request",
           "wait_ready"]
