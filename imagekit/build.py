"""`imagekit build`: render into a temporary context, optionally fill a host wheelhouse, build, check size.

The wheelhouse route exists for builders that cannot reach a package index (air-gapped CI, TLS-
intercepting proxies): the host's pip downloads wheels for the *target* platform and Python, and the
builder installs them with ``--no-index``. Downloads are cached per requirement set under
``$XDG_CACHE_HOME/imagekit/wheelhouse`` so a code-only rebuild does not re-resolve anything.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable
from urllib.parse import urlsplit

from imagekit.engine import IMAGE_REFERENCE  # shared with the smoke runner's image checks
from imagekit.errors import ImagekitError
from imagekit.sizes import human_size

if TYPE_CHECKING:
    from imagekit.spec import Spec
    from imagekit.spec.frameworks import Resolution

Log = Callable[[str], None]
GLIBC_MINOR_MAX = 35  # Debian bookworm / Ubuntu 22.04 ship glibc 2.36 / 2.35: manylinux_2_17 … 2_35 wheels fit
ARCHES = {"amd64": "x86_64", "x86_64": "x86_64", "arm64": "aarch64", "aarch64": "aarch64"}


@dataclass(frozen=True)
class BuildResult:
    tag: str
    image_id: str
    size_bytes: int
    seconds: float
    warnings: tuple[str, ...] = ()


def _stderr(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def manylinux_platforms(arch: str) -> list[str]:
    """pip --platform tags a glibc-2.35+ Linux accepts, newest first."""
    machine = ARCHES.get(arch)
    if machine is None:
        raise ImagekitError(f"No wheel platform is known for architecture {arch!r}.",
                            "Set build.platform to linux/amd64 or linux/arm64.")
    tags = [f"manylinux_2_{minor}_{machine}" for minor in range(GLIBC_MINOR_MAX, 16, -1)]
    return tags + [f"manylinux2014_{machine}"] + ([f"manylinux2010_{machine}", f"manylinux1_{machine}"]
                                                   if machine == "x86_64" else [])


def engine_arch() -> str:
    from imagekit import engine

    return str(engine.engine_version().get("Arch", "amd64"))


def _cache_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "imagekit" / "wheelhouse"


def fill_wheelhouse(deps_dir: Path, python: str, arch: str, index_urls: tuple[str, ...], log: Log) -> Path:
    """Download wheels for the target into deps_dir/wheelhouse (reusing the cache for identical inputs)."""
    requirement_files = sorted(p for p in deps_dir.rglob("*") if p.is_file()
                               and p.relative_to(deps_dir).parts[0] != "wheelhouse")  # deps/user/ included
    key_source = b"".join(p.relative_to(deps_dir).as_posix().encode() + p.read_bytes() for p in requirement_files)
    key = hashlib.sha256(key_source + f"{python}|{arch}|{index_urls}".encode()).hexdigest()[:24]
    cached = _cache_root() / key
    target = deps_dir / "wheelhouse"
    if not (cached / ".complete").exists():
        log(f"wheelhouse: downloading wheels for CPython {python} on {arch} (cache {cached})")
        partial = cached.with_suffix(".partial")
        shutil.rmtree(partial, ignore_errors=True)
        command = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--dest", str(partial),
                   "--only-binary=:all:", "--implementation", "cp", "--python-version", python,
                   "--abi", f"cp{python.replace('.', '')}"]
        for platform in manylinux_platforms(arch):
            command += ["--platform", platform]
        for url in index_urls:
            command += ["--extra-index-url", url]
        if (deps_dir / "constraints.txt").exists():
            command += ["--constraint", str(deps_dir / "constraints.txt")]
        command += ["--requirement", str(deps_dir / "requirements.txt"), "pip"]
        run = subprocess.run(command, capture_output=True, text=True)
        for url in _unreachable_indexes(run.stderr, index_urls):
            log(f"warning: the package index {url} could not be reached, so pip took every package from PyPI "
                "alone (for torch that is the CUDA build, several GB, whatever that index serves); make "
                f"{urlsplit(url).hostname} reachable (proxy settings) or point build.extra_index_urls at a mirror")
        if run.returncode != 0:
            shutil.rmtree(partial, ignore_errors=True)
            tail = "\n".join(run.stderr.strip().splitlines()[-6:])
            raise ImagekitError(f"pip could not download wheels for CPython {python} on {arch}: {tail}",
                                "Some requirement has no binary wheel for that platform: pin a version that does, "
                                "or build without --wheelhouse and add compilers to build_packages.", exit_code=1)
        (partial / ".complete").write_text("ok\n")
        shutil.rmtree(cached, ignore_errors=True)
        partial.rename(cached)
    else:
        log(f"wheelhouse: reusing {cached}")
    shutil.copytree(cached, target, ignore=shutil.ignore_patterns(".complete"))
    return target


def _unreachable_indexes(pip_log: str, index_urls: tuple[str, ...]) -> list[str]:
    """The extra indexes pip could not reach: it only warns ("Retrying ... after connection broken",
    "Could not fetch URL") and carries on with PyPI, which silently swaps a CPU torch for the CUDA one."""
    failed = [line for line in pip_log.splitlines() if "connection broken" in line or "Could not fetch URL" in line]
    return [url for url in index_urls
            if any(f"host='{urlsplit(url).hostname}'" in line or url.rstrip("/") in line for line in failed)]


_NO_VERSION = re.compile(r"(?:No matching distribution found for|Could not find a version that satisfies the "
                         r"requirement) ([^\s()]+)")


def _explained(error: ImagekitError, spec: Spec, resolution: Resolution) -> ImagekitError:
    """A failed build (wheel download or engine build) with a hint for the two causes users hit most:
    a base image that cannot be pulled, and a pinned version pip cannot find."""
    from imagekit import engine
    from imagekit.base import DEFAULT_TAG

    text = f"{error.message}\n{error.hint}"
    missing = [b for b in dict.fromkeys((resolution.builder_base, resolution.runtime_base))
               if b in text and engine.inspect_image(b) is None]
    if missing and "failed" in error.message:
        hint = (f"The base image {missing[0]} could not be pulled (is a registry reachable?) and is not in the "
                "engine.")
        if missing[0] != DEFAULT_TAG and engine.inspect_image(DEFAULT_TAG) is not None:
            hint += (f" The local base image {DEFAULT_TAG} is there: build on it with `imagekit build --base "
                     f"{DEFAULT_TAG}`, set `base: {DEFAULT_TAG}` in {spec.path}, or create projects with "
                     f"`imagekit new NAME --framework {spec.framework} --base {DEFAULT_TAG}`.")
        else:
            hint += (" Pull or `docker load` it where a registry is reachable, or build a local base with "
                     f"`imagekit base` and use it with `--base {DEFAULT_TAG}` (or `base:` in the spec).")
        return ImagekitError(error.message, hint, exit_code=1)
    found = _NO_VERSION.search(text)
    if not found:
        return error
    requirement = found.group(1)
    name = _project_name(requirement)
    if "(from versions: none)" in text:
        hint = (f"pip found no release of {name} at all: the package index may be unreachable (build with "
                "--wheelhouse so the host's pip and its configuration download), or the name is wrong.")
    else:
        hint = (f"pip found no release matching {requirement}: that version may not exist (or has no wheel "
                f"for CPython {resolution.python} on this platform).")
    if spec.framework_version and name in {_project_name(p) for p in resolution.packages}:
        hint += (f" {requirement} comes from framework.version: \"{spec.framework_version}\" in {spec.path}: "
                 f"set a {spec.framework} version that exists, or remove framework.version for the preset's pin.")
    elif "(from versions: none)" not in text:
        hint += f" Check its pin in the requirements (`pip index versions {name}` lists the releases)."
    output = f" {error.hint}" if error.hint.startswith("Last build output") else ""  # not the wheelhouse's hint
    return ImagekitError(error.message, hint + output, exit_code=1)


def _project_name(requirement: str) -> str:
    """The project a requirement names, as pip compares them: `Scikit_Learn[extra]==1.6` → scikit-learn."""
    return re.split(r"[\[<>=!~;@ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _buildkit_build(cli: str, context: Path, tag: str, ca_bundle: bool, log: Log) -> None:
    command = [cli, "build", "--progress=plain", "-t", tag]
    if ca_bundle:
        bundle = os.environ.get("IMAGEKIT_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
        command += ["--secret", f"id=ca_bundle,src={bundle}"]
    process = subprocess.Popen([*command, str(context)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "DOCKER_BUILDKIT": "1"})
    tail: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        tail = (tail + [line.rstrip()])[-20:]
        log(line.rstrip())
    if process.wait() != 0:
        raise ImagekitError(f"BuildKit build of {tag!r} failed.", "Last output:\n" + "\n".join(tail), exit_code=1)


def build(spec_path: str | Path | None = None, tag: str | None = None, wheelhouse: bool = False,
          buildkit: bool = False, log: Log = _stderr, base: str | None = None) -> BuildResult:
    """Render the spec into a temporary context and build it; raises ImagekitError (exit 1) over budget."""
    from imagekit import engine
    from imagekit.render import render
    from imagekit.spec import load_spec

    if tag is not None and not IMAGE_REFERENCE.fullmatch(tag):
        raise ImagekitError(f"-t {tag!r} is not an image reference `docker tag` accepts.",
                            "Use lower-case name components, an optional registry and an optional :tag, e.g. "
                            "-t registry.example.com/team/iris:1.0.")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="imagekit-context-") as temporary:
        context = Path(temporary) / "context"

        spec = load_spec(spec_path, base=base)
        use_wheelhouse = wheelhouse or spec.wheelhouse
        result = render(spec.path, context, buildkit=buildkit, wheelhouse=use_wheelhouse, base=base)
        for warning in result.warnings:
            log(f"warning: {warning}")
        final_tag = tag or f"{spec.name}:{spec.tag}"
        try:
            if use_wheelhouse:
                arch = (spec.platform or f"linux/{engine_arch()}").split("/")[1]
                fill_wheelhouse(context / "deps", result.resolution.python, arch,
                                tuple(filter(None, (result.resolution.index_url, *spec.extra_index_urls))), log)
            engine.connect()
            if buildkit:
                cli = engine.buildkit_cli()
                if cli is None:
                    raise ImagekitError("--buildkit needs a docker CLI with BuildKit (docker build --secret).",
                                        "Install docker-buildx or Debian's docker.io, or build without --buildkit.")
                _buildkit_build(cli, context, final_tag, spec.ca_bundle_secret, log)
            else:
                engine.build_image(str(context), final_tag, on_progress=log)
        except ImagekitError as error:
            if error.exit_code != 1:  # bad input or no engine: nothing to explain
                raise
            raise _explained(error, spec, result.resolution) from None
    image = engine.require_image(final_tag)
    size = int(image.get("Size", 0))
    log(f"built {final_tag} ({image['Id'][7:19]}): {human_size(size)} in {time.monotonic() - started:.1f} s")
    if spec.size_budget is not None and size > spec.size_budget:
        raise ImagekitError(
            f"{final_tag} is {human_size(size)}, over the spec's size_budget of {human_size(spec.size_budget)}.",
            "Drop unneeded packages (see `docker history`), move build tools to build_packages, or raise "
            "size_budget.", exit_code=1)
    return BuildResult(tag=final_tag, image_id=image["Id"], size_bytes=size,
                       seconds=time.monotonic() - started, warnings=result.warnings)
