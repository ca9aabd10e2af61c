"""Run imagekit on hostile input in a child process and judge the outcome.

A run passes when it ends (no hang), exits 0, 1 or 2 without a traceback, stays under the memory budget
(the child's own peak RSS, VmHWM) and writes nothing outside its temporary directory
(HOME, TMPDIR and the working directory all point into it; the repository must be left as it was).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

PEAK_RSS_MB = 150
SECONDS = 10.0  # the budget for any input within the limits
HANG_SECONDS = 60.0  # past this the run is killed and counted as a hang (CI has two busy cores)
SOAK = os.environ.get("IMAGEKIT_SOAK", "") not in ("", "0")  # longer fuzzing for local runs
REPO = Path(__file__).resolve().parents[2]

_CHILD = """
import os, sys
sys.argv = ["imagekit", *sys.argv[1:]]
from imagekit.cli import main
try:
    main()
finally:
    # VmHWM (peak RSS, kB) of this process image: unlike getrusage's ru_maxrss it starts afresh at exec, so the
    # memory of the test process this child was forked from is not counted.
    peak = next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    with open(os.environ["HOSTILE_RSS_FILE"], "w") as out:
        out.write(peak)
"""


@dataclass
class Outcome:
    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float

    @property
    def message(self) -> str:
        """stderr with the paragraph's line wrapping undone."""
        return " ".join(self.stderr.split())

    def check(self, *codes: int) -> "Outcome":
        """Assert the run was clean (and, if given, ended with one of *codes*)."""
        what = f"imagekit {' '.join(a[:60] for a in self.args)}"
        assert "Traceback" not in self.stderr, f"{what}: traceback\n{self.stderr[-3000:]}"
        assert self.code in (0, 1, 2), f"{what}: exit {self.code}\n{self.stderr[-2000:]}"
        assert not codes or self.code in codes, f"{what}: exit {self.code}, wanted {codes}\n{self.stderr[-2000:]}"
        assert self.peak_mb <= PEAK_RSS_MB, f"{what}: peak RSS {self.peak_mb:.0f} MB > {PEAK_RSS_MB} MB"
        assert self.seconds <= SECONDS * (3 if os.environ.get("CI") else 1), f"{what}: took {self.seconds:.1f} s"
        if self.code == 2 and self.stderr.strip():  # (a syntax error is exit 2 through a finding, stderr empty)
            message = self.stderr.strip()
            assert message.startswith("imagekit: error:") and message.count("imagekit: error:") == 1, message
        return self


def _limit_child(closed: tuple[int, ...], as_nobody: bool) -> None:
    """Keep a runaway child from taking the machine down with it (2 GiB of address space at most), close the
    standard streams a case asks to be closed, and drop root when a case needs permissions to apply."""
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
    for descriptor in closed:
        os.close(descriptor)
    if as_nobody:
        os.setgid(NOBODY)
        os.setuid(NOBODY)


NOBODY = 65534


def command(*args: str) -> list[str]:
    """The child's command line (for cases that drive the process themselves, e.g. closing its output pipe)."""
    return [sys.executable, "-c", _CHILD, *args]


def run(tmp: Path, *args: str, stdin: bytes = b"", closed: tuple[int, ...] = (), as_nobody: bool = False) -> Outcome:
    """`imagekit ARGS` in a child whose HOME, TMPDIR and working directory are *tmp*; *closed*: file descriptors
    (0 stdin, 1 stdout) the child starts without; *as_nobody*: run as user nobody (the caller being root)."""
    rss_file = tmp / ".hostile-rss"
    before = _repo_state()
    started = time.monotonic()
    try:
        done = subprocess.run(command(*args), cwd=tmp, env=env(tmp), input=stdin, capture_output=True,
                              timeout=HANG_SECONDS, preexec_fn=lambda: _limit_child(closed, as_nobody))
    except subprocess.TimeoutExpired:
        raise AssertionError(f"imagekit {' '.join(a[:60] for a in args)}: no answer in {HANG_SECONDS:.0f} s") from None
    seconds = time.monotonic() - started
    peak = int(rss_file.read_text()) / 1024 if rss_file.exists() else 0.0
    rss_file.unlink(missing_ok=True)
    assert _repo_state() == before, f"imagekit {' '.join(args)} wrote into the repository"
    return Outcome(args, done.returncode, done.stdout.decode("utf-8", "replace"),
                   done.stderr.decode("utf-8", "replace"), seconds, peak)


def env(tmp: Path) -> dict[str, str]:
    """The child's environment: everything it may write points into *tmp*, and it never talks to an engine."""
    found = {**os.environ, "HOME": str(tmp), "TMPDIR": str(tmp), "HOSTILE_RSS_FILE": str(tmp / ".hostile-rss"),
             "PYTHONPATH": str(REPO), "NO_COLOR": "1"}
    found.pop("DOCKER_HOST", None)
    return found


def _repo_state() -> list[str]:
    return sorted(os.listdir(REPO))
