"""The endpoint's per-variant metrics for people: a table redrawn in place on a terminal, plain lines otherwise.

The numbers are the router's metrics (`Router.metrics()`, the same dict the JSON report keeps), so the table,
the report and CloudWatch's API never disagree.
"""

from __future__ import annotations

import sys
import threading
from contextlib import contextmanager
from typing import Callable, Iterator, TextIO

from imagekit import contract

Metrics = Callable[[], dict]


def _rate(count: int, total: int) -> str:
    return f"{count / total:.1%}" if total else "-"


def _ms(microseconds: float | None) -> str:
    return "-" if microseconds is None else f"{microseconds / 1e3:.1f}"


def rows(metrics: dict) -> list[list[str]]:
    """One row per variant: name, traffic share, invocations, 4XX and 5XX rates, model latency p50/p99 (ms)."""
    total_weight = sum(m["CurrentWeight"] for m in metrics.values()) or 1
    table = []
    for name, m in metrics.items():
        calls, latency = m[contract.METRIC_INVOCATIONS], m[contract.METRIC_MODEL_LATENCY]
        table.append([name, f"{m['CurrentWeight']:g} ({m['CurrentWeight'] / total_weight:.0%})", str(calls),
                      _rate(m[contract.METRIC_4XX], calls), _rate(m[contract.METRIC_5XX], calls),
                      _ms(latency["p50"]), _ms(latency["p99"])])
    return table


HEADER = ["variant", "weight", "invocations", "4XX", "5XX", "p50 ms", "p99 ms"]


def table(metrics: dict):
    """The rows as a rich table."""
    from rich.table import Table

    view = Table(title="production variants (ModelLatency in ms)")
    for number, name in enumerate(HEADER):
        view.add_column(name, justify="left" if number == 0 else "right")
    for row in rows(metrics):
        view.add_row(*row)
    return view


def line(metrics: dict) -> str:
    """The rows as one plain line, for logs and CI."""
    return "variants: " + "; ".join(
        f"{row[0]} weight {row[1]}, {row[2]} invocations, 4XX {row[3]}, 5XX {row[4]}, p50 {row[5]} ms, "
        f"p99 {row[6]} ms" for row in rows(metrics))


def print_table(metrics: dict, stream: TextIO) -> None:
    """The table once (the end of `smoke serve --variant`)."""
    from rich.console import Console

    Console(file=stream, width=None if stream.isatty() else 120).print(table(metrics))


@contextmanager
def live_view(metrics: Metrics, quiet: bool = False, stream: TextIO | None = None,
              interval: float = contract.PROGRESS_INTERVAL_S) -> Iterator[None]:
    """While the block runs: on a terminal a table redrawn every LIVE_VIEW_REFRESH_S (lines written to stdout and
    stderr meanwhile appear above it), else a plain line every *interval* seconds; nothing when *quiet*."""
    stream = stream or sys.stderr
    if quiet:
        yield
        return
    if stream.isatty():
        from rich.console import Console
        from rich.live import Live

        with Live(get_renderable=lambda: table(metrics()), console=Console(file=stream),
                  refresh_per_second=1 / contract.LIVE_VIEW_REFRESH_S, redirect_stderr=stream is sys.stderr,
                  redirect_stdout=stream is sys.stderr):
            yield
        return
    stop = threading.Event()

    def lines() -> None:
        while not stop.wait(interval):
            stream.write(line(metrics()) + "\n")
            stream.flush()

    printer = threading.Thread(target=lines, name="imagekit-live-view", daemon=True)
    printer.start()
    try:
        yield
    finally:
        stop.set()
        printer.join()
