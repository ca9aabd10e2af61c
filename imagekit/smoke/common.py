"""What train and serve runs share: the container environment, log tails and host-side work dirs."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, TypeVar

from imagekit import engine, interrupts

T = TypeVar("T")
LOG_TAIL_LINES = 30
AWS_CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE")
_WORKDIR = re.compile(r"^imagekit-[a-z]+-pid(\d+)-")


def environment(platform: dict[str, str], user: dict[str, str] | None, pass_aws_credentials: bool) -> dict[str, str]:
    """The platform's variables, host AWS credentials only when asked for, then the user's --env on top."""
    merged = dict(platform)
    if pass_aws_credentials:
        merged.update({key: os.environ[key] for key in AWS_CREDENTIAL_VARIABLES if key in os.environ})
    merged.update(user or {})
    return merged


def log_tail(container) -> str:
    return container.logs(tail=LOG_TAIL_LINES).decode("utf-8", "replace").rstrip()


def repeat_concurrently(call: Callable[[], T], times: int, concurrency: int) -> list[T]:
    """*call* *times* times on *concurrency* threads. Interrupted, only the calls in flight finish: the work is
    handed out one call at a time (Executor.map queues all of them up front, and its pool would run them all
    before the run's cleanup could start)."""
    handed_out = iter(range(times))
    lock, stop, results = threading.Lock(), threading.Event(), []

    def worker() -> None:
        while not stop.is_set():
            with lock:
                if next(handed_out, None) is None:
                    return
            results.append(call())

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        try:
            for started in [pool.submit(worker) for _ in range(concurrency)]:
                started.result()
        finally:
            stop.set()
    return results


def run_workdir(kind: str) -> Path:
    """A temp dir for one run's host-side files, named after this process so a sweep can tell it is ours."""
    return Path(tempfile.mkdtemp(prefix=f"imagekit-{kind}-pid{os.getpid()}-"))


def finish_run(run_id: str, work: Path, grace: float) -> None:
    """Remove one run's engine objects and work dir, however the run ended. Stopped by a signal, its containers
    get *grace* seconds to exit first (the platform's stop), and a further signal never skips the cleanup."""
    with interrupts.deferred():
        engine.cleanup(run_id, grace)
        if work.is_dir():
            shutil.rmtree(work, ignore_errors=True)
            interrupts.count_removed("work dirs")


def remove_leftover_workdirs(this_process: bool = False) -> int:
    """Delete run work dirs whose process is gone (a `kill -9` skips the run's own cleanup) or, with
    *this_process*, this process's own (an interrupted command's last sweep)."""
    removed = 0
    for path in Path(tempfile.gettempdir()).glob("imagekit-*"):
        owner = _WORKDIR.match(path.name)
        if not owner or not path.is_dir():
            continue
        pid = int(owner.group(1))
        if pid == os.getpid() if this_process else not engine.process_alive(pid):
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed
