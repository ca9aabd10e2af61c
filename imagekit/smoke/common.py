"""What train and serve runs share: the container environment, log tails and host-side work dirs."""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, TypeVar

from imagekit import engine, interrupts
from imagekit.errors import ImagekitError

T = TypeVar("T")
LOG_TAIL_LINES = 30
WAKE_S = 0.2  # the longest the main thread waits in one go while other threads work, so a stop signal is seen
AWS_CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE")
_WORKDIR = re.compile(r"^imagekit-[a-z]+-pid(\d+)-")


def environment(platform: dict[str, str], user: dict[str, str] | None, pass_aws_credentials: bool) -> dict[str, str]:
    """The platform's variables, host AWS credentials only when asked for, then the user's --env on top."""
    merged = dict(platform)
    if pass_aws_credentials:
        merged.update({key: os.environ[key] for key in AWS_CREDENTIAL_VARIABLES if key in os.environ})
    merged.update(user or {})
    return merged


def check_seconds(option: str, value: float | None, hint: str, maximum: float | None = None,
                  bound_by: str = "") -> None:
    """A duration option (None: not given), refused before the engine is asked unless it is a finite number of
    seconds above 0 and at most *maximum* (the bound of the platform setting *bound_by*). typer takes `nan` and
    `inf` for a float option, and NaN slips through every `<= 0` test."""
    if value is None:
        return
    if not math.isfinite(value) or value <= 0:
        raise ImagekitError(f"{option} must be a positive number of seconds, not {value:g}.", hint)
    if maximum is not None and value > maximum:
        raise ImagekitError(f"{option} {value:g} is over {maximum:g} s, the most {bound_by} allows.", hint)


def check_whole_seconds(option: str, value: float | None, hint: str, minimum: int, maximum: float,
                        bound_by: str) -> None:
    """A duration option that the platform setting *bound_by* takes as an Integer from *minimum* to *maximum*:
    refused when fractional or out of range, so a smoke run cannot pass with a value the job cannot have."""
    check_seconds(option, value, hint, maximum, bound_by)
    if value is not None and (value != int(value) or value < minimum):
        raise ImagekitError(f"{option} {value:g} is not a whole number of seconds from {minimum} to {maximum:g}, "
                            f"which is what {bound_by} takes.", hint)


def log_tail(container) -> str:
    return container.logs(tail=LOG_TAIL_LINES).decode("utf-8", "replace").rstrip()


def repeat_concurrently(call: Callable[[], T], times: int, concurrency: int) -> list[T]:
    """*call* *times* times on *concurrency* threads; the first error any call raises is raised here.

    Interrupted, only the calls in flight finish: work is handed out one call at a time (Executor.map queues
    every call up front and runs them all before letting go). The main thread waits by sleeping and reading
    plain lists, never inside a lock: a stop signal raised while it held one (concurrent.futures.wait takes
    each future's in a loop) would leave the lock taken and the workers stuck on it.
    """
    handed_out = iter(range(times))
    lock, stop = threading.Lock(), threading.Event()
    results: list[T] = []
    errors: list[BaseException] = []
    finished: list[bool] = []

    def worker() -> None:
        try:
            while not stop.is_set():
                with lock:
                    if next(handed_out, None) is None:
                        return
                results.append(call())
        except BaseException as error:  # handed to the main thread
            errors.append(error)
            stop.set()
        finally:
            finished.append(True)

    with interrupts.deferred():  # starting threads takes locks of their own
        workers = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
        for thread in workers:
            thread.start()
    try:
        while len(finished) < len(workers):
            time.sleep(WAKE_S)  # a signal caught by a worker thread is acted on when the main thread wakes
    finally:
        stop.set()  # interrupted: calls in flight (each up to the invocation timeout) are not waited for; the
        # threads are daemons, and removing the container ends their connections
    if errors:
        raise errors[0]
    return results


def run_workdir(kind: str) -> Path:
    """A temp dir for one run's host-side files, named after this process so a sweep can tell it is ours."""
    return Path(tempfile.mkdtemp(prefix=f"imagekit-{kind}-pid{os.getpid()}-"))


def finish_run(run_id: str, work: Path, grace: float) -> None:
    """Remove one run's engine objects and work dir, however the run ended. Stopped by a signal, its containers
    get *grace* seconds to exit first (the platform's stop), and a further signal never skips the cleanup."""
    with interrupts.deferred():
        try:
            if engine.connected():  # else the run never reached the engine (and docker may be half-imported)
                engine.cleanup(run_id, grace)
        finally:
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
