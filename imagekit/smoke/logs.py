"""Live container output: every container's log, line by line as it comes, prefixed by its host.

A smoke run calls ``follow(report, container, host)`` once per container it starts. Lines go to the sink that
``live(sink)`` installs (the CLI's stderr writer; none, so silent, for ``--quiet`` and for API callers that did
not ask), and the last lines of each host end up in ``report.logs`` for the JSON and JUnit reports.
"""

from __future__ import annotations

import sys
import threading
from collections import deque
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Callable, Iterator

from imagekit.smoke.common import LOG_TAIL_LINES

if TYPE_CHECKING:
    from imagekit.smoke.report import Report

Sink = Callable[[str], None]
_sink: ContextVar[Sink | None] = ContextVar("imagekit_log_sink", default=None)


@contextmanager
def live(sink: Sink | None) -> Iterator[None]:
    """Send the log lines of the containers started inside the block to *sink* (None: keep them quiet)."""
    token = _sink.set(sink)
    try:
        yield
    finally:
        _sink.reset(token)


def stderr_sink() -> Sink:
    """Whole lines on stderr, one writer at a time (each container is followed by its own thread)."""
    lock = threading.Lock()

    def write(line: str) -> None:
        with lock:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()

    return write


def follow(report: "Report", container, host: str) -> None:
    """Stream *container*'s stdout and stderr to the live sink as ``host | line`` until it is gone, keeping its
    last lines as ``report.logs[host]``. The report waits for the stream to drain before it is rendered."""
    sink = _sink.get()
    tail: deque[str] = deque(maxlen=LOG_TAIL_LINES)

    def emit(raw: bytes) -> None:
        line = raw.decode("utf-8", "replace").rstrip("\r")
        tail.append(line)
        if sink is not None:
            sink(f"{host} | {line}")

    def run() -> None:
        pending = b""
        try:
            for chunk in container.logs(stream=True, follow=True):
                *lines, pending = (pending + chunk).split(b"\n")
                for line in lines:
                    emit(line)
        except Exception:  # noqa: BLE001 - the container was removed mid-stream: what arrived is what there is
            pass
        if pending:
            emit(pending)
        report.logs[host] = "\n".join(tail)

    stream = threading.Thread(target=run, name=f"imagekit-logs-{host}", daemon=True)
    report.streams.append(stream)
    stream.start()
