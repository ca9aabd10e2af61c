"""Run the real toolkits and imagekit's runtime side by side, each as PID 1 with /opt/ml really at /opt/ml.

The toolkits (sagemaker-training, sagemaker-inference, multi-model-server) are installed from PyPI once into a
throwaway venv cached under ~/.cache/imagekit-toolkits, which both sides run with, so the user's code sees the
same interpreter and packages. Each run is `unshare -rmpfn --mount-proc`: new user, mount, PID and network
namespaces, where a tmpfs over /opt gets the run's temp dir bind-mounted on /opt/ml and /etc/hosts maps algo-1..N
to 127.0.0.1 (the toolkit resolves every host before it starts). No engine, no root needed beyond user namespaces.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from imagekit import contract
from imagekit.runtime import PACKAGE, RuntimeConfig, build_context_files

TOOLKITS = ("sagemaker-training==5.1.4", "sagemaker-inference==1.10.1", "multi-model-server==1.1.11",
            "sagemaker-pytorch-training==3.0.0",  # the PyTorch containers' launcher (SAGEMAKER_TRAINING_MODULE)
            "numpy==2.4.6", "scipy", "boto3")
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "imagekit-toolkits"
VENV = CACHE / "venv"
ISOLATE = ('mount -t tmpfs tmpfs /opt && mkdir /opt/ml && mount --bind "$1" /opt/ml && mkdir -p "$3/upper" "$3/work" '
           '&& mount -t overlay overlay -o lowerdir=/etc,upperdir="$3/upper",workdir="$3/work" /etc '
           '&& mount --bind "$2" /etc/hosts && ip link set lo up && shift 3 && exec "$@"')


def toolkit_python() -> Path:
    """The cached venv's python, created (pip install from PyPI, about a minute) when missing."""
    python = VENV / "bin" / "python"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        wanted = "\n".join(TOOLKITS) + "\n"
        ready = VENV / "ready"
        if not ready.exists() or ready.read_text() != wanted:
            shutil.rmtree(VENV, ignore_errors=True)
            interpreter = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable
            subprocess.run([interpreter, "-m", "venv", str(VENV)], check=True)
            subprocess.run([str(python), "-m", "pip", "install", "-q", *TOOLKITS], check=True)
            ready.write_text(wanted)
    return python


def runtime_tree(directory: Path, config: RuntimeConfig) -> Path:
    """imagekit's in-image runtime files under *directory*, with the real contract paths; the dir to import from."""
    for relative, (data, mode) in build_context_files(config).items():
        target = directory / relative.split("/", 1)[1].lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        target.chmod(mode)
    return directory / str(contract.RUNTIME_DIR).lstrip("/")


def imagekit_command(python: Path, runtime_dir: Path, program: str) -> list[str]:
    return [str(python), "-c", f"import sys; sys.path.insert(0, {str(runtime_dir)!r}); "
            f"from {PACKAGE}.main import {program}; sys.exit({program}())"]


def hosts_file(path: Path, count: int = 3) -> Path:
    names = " ".join(contract.host_name(i) for i in range(1, count + 1))
    path.write_text(f"127.0.0.1 localhost {names}\n")
    return path


def isolated(ml_root: Path, hosts: Path, argv: list[str], env: dict[str, str], **popen) -> subprocess.Popen:
    """Start *argv* as PID 1 of fresh namespaces with *ml_root* at /opt/ml; /etc is an overlay whose writes
    (the toolkit writes /etc/sagemaker-mms.properties) land in a scratch dir beside *ml_root*."""
    scratch = ml_root.parent / f"{ml_root.name}-etc"
    command = ["unshare", "-rmpfn", "--mount-proc", "sh", "-c", ISOLATE, "sh", str(ml_root), str(hosts),
               str(scratch), *argv]
    return subprocess.Popen(command, env=env, **popen)


def namespace_init(process: subprocess.Popen, timeout: float = 10) -> int:
    """Host PID of the PID-1 process `unshare --fork` started (to signal it, or nsenter its network)."""
    deadline = time.monotonic() + timeout
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    while time.monotonic() < deadline:
        pids = children.read_text().split() if children.exists() else []
        if pids:
            return int(pids[0])
        time.sleep(0.02)
    raise AssertionError("unshare started no child")


def write_inputs(ml_root: Path, files: dict[str, str | dict]) -> None:
    """Files under /opt/ml (given relative to it); dicts are written as JSON."""
    for relative, content in files.items():
        target = ml_root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(content) if isinstance(content, dict) else content)
