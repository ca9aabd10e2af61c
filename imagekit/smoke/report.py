"""Smoke reports: named checks that passed or failed, rendered as text, JSON or JUnit XML."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from imagekit.errors import write_report_file

LOG_DRAIN_S = 5.0  # how long a rendered report waits for a removed container's last log lines


@dataclass
class Check:
    name: str  # stable id, e.g. "train.exit-code"
    ok: bool
    detail: str


@dataclass
class Report:
    """What one smoke run found. `ok` is True when every contract check passed."""

    image: str
    checks: list[Check] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)  # measurements: times, latencies, paths
    on_check: Callable[[Check], None] | None = field(default=None, repr=False)
    logs: dict[str, str] = field(default_factory=dict)  # host -> its last log lines (imagekit.smoke.logs)
    streams: list[Any] = field(default_factory=list, repr=False)  # log followers, joined before rendering

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def check(self, name: str, ok: bool, detail: str) -> bool:
        item = Check(name, bool(ok), detail)
        self.checks.append(item)
        if self.on_check:
            self.on_check(item)
        return item.ok

    def failed(self) -> list[str]:
        return [check.name for check in self.checks if not check.ok]

    def extend(self, other: "Report") -> None:
        self.checks.extend(other.checks)
        self.data.update(other.data)
        self.logs.update(other.logs)
        self.streams.extend(other.streams)

    def drain_logs(self) -> dict[str, str]:
        """Every host's log tail, once the followers have read what their containers wrote."""
        for stream in self.streams:
            stream.join(LOG_DRAIN_S)
        return self.logs

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "image": self.image,
                "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks], **self.data,
                "logs": self.drain_logs()}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str) + "\n"

    def write_junit(self, path: Path) -> None:
        """One test case per check; the directory is created when missing, OSError becomes ImagekitError."""
        from xml.sax.saxutils import quoteattr

        failures = len(self.failed())
        lines = ['<?xml version="1.0" encoding="UTF-8"?>',
                 f'<testsuite name={quoteattr("imagekit smoke " + self.image)} tests="{len(self.checks)}" '
                 f'failures="{failures}">']
        for check in self.checks:
            lines.append(f"  <testcase classname=\"imagekit.smoke\" name={quoteattr(check.name)}>")
            if not check.ok:
                lines.append(f"    <failure message={quoteattr(check.detail[:500])}/>")
            else:
                lines.append(f"    <system-out>{_escape(check.detail)}</system-out>")
            lines.append("  </testcase>")
        logs = "\n".join(f"{host} | {line}" for host, tail in self.drain_logs().items() for line in tail.splitlines())
        if logs:
            lines.append(f"  <system-out>{_escape(logs)}</system-out>")
        lines.append("</testsuite>")
        write_report_file(path, "\n".join(lines) + "\n", "the JUnit report", "--junit")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
