"""Smoke reports: named checks that passed or failed, each an error or a warning, rendered as text, JSON or JUnit.

As in lint, an *error* is something the platform would fail or get wrong (no answer on /ping, a refused legal
body, a failed training job) and a *warning* works on the platform but is risky (a serve that ignores SIGTERM
as PID 1). ``fail_on`` decides which failed checks make the run fail (and the exit code 1).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from imagekit.errors import ImagekitError, write_report_file

ERROR = "error"
WARNING = "warning"
SEVERITIES = (ERROR, WARNING)  # most severe first
# Checks whose failure works on the platform but is risky; every other check is an error.
WARNING_CHECKS = frozenset({"serve.sigterm"})
# Hosts of one training job that saved the same model file with different bytes: SageMaker keeps one of them.
WARNING_CHECKS |= {"train.model-clash"}
# Links in the model that resolve nowhere in it, left out of model.tar.gz (smoke.layout.unpackable_links).
WARNING_CHECKS |= {"train.model-links"}
# train exited 0 but wrote /opt/ml/output/failure: the job is Completed and the text ignored (smoke.training).
WARNING_CHECKS |= {"train.failure-file"}
# A run on fewer CPUs or without the GPUs of its --instance-type (imagekit.smoke.hardware): degraded, said plainly.
WARNING_CHECKS |= {f"{command}.{resource}" for command in ("train", "serve") for resource in ("cpus", "gpus")}
# A batch transform request that failed at first but got an answer on a retry: the job passes, the handler is flaky.
WARNING_CHECKS |= {"transform.retries"}
# /invocations refused imagekit's own guessed body (no --payload): proves nothing either way (smoke.invoke_input).
WARNING_CHECKS |= {"serve.probe"}
# A 200 without Content-Type: SDK local mode falls back to the Accept type and InvokeEndpoint's ContentType is
# optional, so callers that decode by their own configured type work; those that dispatch on it get nothing.
WARNING_CHECKS |= {"serve.content-type"}


def severity_of(name: str) -> str:
    """A check's severity by its name; a variant's copy (variants.NAME.sigterm) has its serve check's."""
    if name.startswith("variants."):  # the check is the last part: a variant's name may hold dots (v1.2)
        name = "serve." + name.rsplit(".", 1)[-1]
    return WARNING if name in WARNING_CHECKS else ERROR


def check_fail_on(fail_on: str) -> str:
    if fail_on not in SEVERITIES:
        raise ImagekitError(f"--fail-on {fail_on!r} is not a severity.",
                            f"Use one of: {', '.join(SEVERITIES)} (error is the default).")
    return fail_on


LOG_DRAIN_S = 5.0  # how long a rendered report waits for a removed container's last log lines


@dataclass
class Check:
    name: str  # stable id, e.g. "train.exit-code"
    ok: bool
    detail: str
    severity: str = ERROR
    skipped: bool = False  # not run (what it checks could not be tried): neither a pass nor a failure


@dataclass
class Report:
    """What one smoke run found. `ok` is True when no failed check is at or above `fail_on`."""

    image: str
    checks: list[Check] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)  # measurements: times, latencies, paths
    on_check: Callable[[Check], None] | None = field(default=None, repr=False)
    fail_on: str = ERROR
    logs: dict[str, str] = field(default_factory=dict)  # host -> its last log lines (imagekit.smoke.logs)
    streams: list[Any] = field(default_factory=list, repr=False)  # log followers, joined before rendering

    @property
    def ok(self) -> bool:
        return not self.failed()

    def check(self, name: str, ok: bool, detail: str) -> bool:
        item = Check(name, bool(ok), detail, severity_of(name))
        self.checks.append(item)
        if self.on_check:
            self.on_check(item)
        return item.ok

    def skip(self, name: str, reason: str) -> None:
        """Record *name* as not run because of *reason* (e.g. the server had exited): never a pass."""
        item = Check(name, False, f"not run: {reason}", severity_of(name), skipped=True)
        self.checks.append(item)
        if self.on_check:
            self.on_check(item)

    def counts(self, check: Check) -> bool:
        """Whether *check*, failed, fails the run under `fail_on`."""
        return SEVERITIES.index(check.severity) <= SEVERITIES.index(self.fail_on)

    def failed(self) -> list[str]:
        """The failed checks that fail the run."""
        return [check.name for check in self.checks if not check.ok and not check.skipped and self.counts(check)]

    def warnings(self) -> list[str]:
        """The failed checks that do not fail the run (warnings under --fail-on error)."""
        return [check.name for check in self.checks if not check.ok and not check.skipped and not self.counts(check)]

    def skipped(self) -> list[str]:
        return [check.name for check in self.checks if check.skipped]

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
        return {"ok": self.ok, "image": self.image, "fail_on": self.fail_on, "failed": self.failed(),
                "warnings": self.warnings(), "skipped": self.skipped(),
                "checks": [{"name": c.name, "ok": c.ok, "skipped": c.skipped, "severity": c.severity,
                            "detail": c.detail}
                           for c in self.checks], **self.data, "logs": self.drain_logs()}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str) + "\n"

    def write_junit(self, path: Path) -> None:
        """One test case per check (a failed warning under --fail-on error is reported in system-out, not as a
        failure); the directory is created when missing, OSError becomes ImagekitError."""
        from imagekit import junit

        lines = ['<?xml version="1.0" encoding="UTF-8"?>',
                 f'<testsuite name={junit.attr("imagekit smoke " + self.image)} tests="{len(self.checks)}" '
                 f'failures="{len(self.failed())}" skipped="{len(self.skipped())}">']
        for check in self.checks:
            if check.skipped:
                lines += junit.testcase("imagekit.smoke", check.name, skipped=check.detail)
            elif not check.ok and self.counts(check):
                lines += junit.testcase("imagekit.smoke", check.name,
                                        failure=(check.severity, check.detail[:500], check.detail))
            else:
                prefix = "" if check.ok else f"{check.severity.upper()}: "
                lines += junit.testcase("imagekit.smoke", check.name, output=prefix + check.detail)
        logs = "\n".join(f"{host} | {line}" for host, tail in self.drain_logs().items() for line in tail.splitlines())
        if logs:
            lines.append(f"  <system-out>{junit.text(logs)}</system-out>")
        lines.append("</testsuite>")
        write_report_file(path, "\n".join(lines) + "\n", "the JUnit report", "--junit")

