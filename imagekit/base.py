"""`imagekit base`: a minimal Debian + CPython base image built from Debian packages, no registry needed.

mmdebstrap writes a root filesystem tarball from the distribution's mirror; ``docker import`` turns it
into an image. Provenance (suite, a hash of the exact package list, build date) goes into labels so a
platform team can tell two bases apart. The image is tagged only after both steps succeed, so a broken
run never leaves a half-made tag behind.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from imagekit.errors import ImagekitError

DEFAULT_SUITE = "bookworm"
DEFAULT_REPOSITORY = "imagekit/base"
DEFAULT_TAG = f"{DEFAULT_REPOSITORY}:{DEFAULT_SUITE}"
BASE_PACKAGES: tuple[str, ...] = ("python3", "python3-venv", "python3-pip", "ca-certificates")
LABEL_PREFIX = "io.imagekit.base."
MMDEBSTRAP_TIMEOUT_S = 1800
# apt and dpkg configured as the official Debian images configure them (debuerreotype's minimizing config), so
# `apt-get install` in an image built on this base leaves no .deb files or package caches in its layer.
_CACHE_CLEAN = "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"
DOCKER_APT_CONFIG: dict[str, str] = {
    "etc/apt/apt.conf.d/docker-clean": (
        f'DPkg::Post-Invoke {{ "{_CACHE_CLEAN}"; }};\n'
        f'APT::Update::Post-Invoke {{ "{_CACHE_CLEAN}"; }};\n'
        'Dir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\n'
        'APT::Keep-Downloaded-Packages "false";\n'),
    "etc/apt/apt.conf.d/docker-autoremove-suggests": 'Apt::AutoRemove::SuggestsImportant "false";\n',
    "etc/apt/apt.conf.d/docker-gzip-indexes": 'Acquire::GzipIndexes "true";\n',
    "etc/apt/apt.conf.d/docker-no-languages": 'Acquire::Languages "none";\n',
    "etc/dpkg/dpkg.cfg.d/docker-apt-speedup": "force-unsafe-io\n",
}


RECIPE_LABEL = LABEL_PREFIX + "recipe-sha256"


def _recipe_digest(suite: str, packages: tuple[str, ...]) -> str:
    """What the image is built from, so an existing tag built by another recipe (an older imagekit's apt config,
    other packages) is rebuilt instead of silently reused."""
    recipe = json.dumps({"suite": suite, "packages": packages, "config": DOCKER_APT_CONFIG}, sort_keys=True)
    return hashlib.sha256(recipe.encode()).hexdigest()


@dataclass(frozen=True)
class BaseResult:
    tag: str
    image_id: str
    built: bool  # False when the tag already existed and nothing was done
    labels: dict[str, str]


def default_tag(suite: str) -> str:
    return f"{DEFAULT_REPOSITORY}:{suite}"


def build_base(
    suite: str = DEFAULT_SUITE,
    extra_packages: tuple[str, ...] = (),
    tag: str | None = None,
    force: bool = False,
    mirror: str | None = None,
    log: Callable[[str], None] = lambda _line: None,
) -> BaseResult:
    """Build (or reuse) the base image and return what was tagged."""
    from imagekit import engine

    tag = tag or default_tag(suite)
    packages = tuple(dict.fromkeys(BASE_PACKAGES + tuple(extra_packages)))
    recipe = _recipe_digest(suite, packages)
    engine.connect()
    existing = engine.inspect_image(tag)
    if existing is not None and not force:
        labels = (existing.get("Config") or {}).get("Labels") or {}
        if labels.get(RECIPE_LABEL) == recipe:
            return BaseResult(tag=tag, image_id=existing["Id"], built=False, labels=labels)
        log(f"{tag} was built from another recipe (packages or apt config); rebuilding it")

    mmdebstrap = shutil.which("mmdebstrap")
    if mmdebstrap is None:
        raise ImagekitError(
            "mmdebstrap is not installed, so the base image cannot be built from Debian packages.",
            "Install it with `apt-get install -y mmdebstrap` (or run `imagekit engine up`, which installs it).",
        )
    with tempfile.TemporaryDirectory(prefix="imagekit-base-") as work:
        rootfs = Path(work) / "rootfs.tar"
        manifest = Path(work) / "packages.txt"
        config = Path(work) / "config"
        for relative, content in DOCKER_APT_CONFIG.items():
            (config / relative).parent.mkdir(parents=True, exist_ok=True)
            (config / relative).write_text(content)
        command = [
            mmdebstrap, "--variant=minbase", f"--include={','.join(packages)}",
            # the exact package list, for the provenance hash
            f"--customize-hook=chroot \"$1\" dpkg-query -W -f='${{Package}}=${{Version}}\\n' > {manifest}",
            # no apt lists or caches in the base: images built on it stay small
            "--customize-hook=rm -rf \"$1\"/var/lib/apt/lists/* \"$1\"/var/cache/apt/*.bin",
            f"--customize-hook=sync-in {config} /",
            suite, str(rootfs),
        ]
        if mirror:
            command.append(mirror)
        log(f"mmdebstrap {suite} with {', '.join(packages)}")
        env = {**os.environ, "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", "1700000000")}
        try:
            run = subprocess.run(command, capture_output=True, text=True, timeout=MMDEBSTRAP_TIMEOUT_S, env=env)
        except subprocess.TimeoutExpired:
            raise ImagekitError(
                f"mmdebstrap did not finish within {MMDEBSTRAP_TIMEOUT_S} s; no image was tagged.",
                "Check that the Debian mirror is reachable (apt-get update) and try again.",
            ) from None
        if run.returncode != 0 or not rootfs.is_file():
            tail = "\n".join((run.stderr or run.stdout).strip().splitlines()[-8:])
            raise ImagekitError(
                f"mmdebstrap failed (exit {run.returncode}) building suite {suite!r}; no image was tagged.",
                f"Check the suite and package names ({', '.join(packages)}) and that the mirror is reachable. "
                f"mmdebstrap said:\n{tail}",
            )
        package_list = manifest.read_text() if manifest.is_file() else "\n".join(sorted(packages))
        labels = {
            LABEL_PREFIX + "suite": suite,
            LABEL_PREFIX + "packages": ",".join(packages),
            LABEL_PREFIX + "package-list-sha256": hashlib.sha256(package_list.encode()).hexdigest(),
            RECIPE_LABEL: recipe,
            LABEL_PREFIX + "build-date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "org.opencontainers.image.base.name": f"debian:{suite} (mmdebstrap minbase)",
        }
        log(f"docker import as {tag}")
        image_id = _import(rootfs, tag, labels)
    if existing is not None and existing["Id"] != image_id:
        _remove_if_unused(existing["Id"])
    return BaseResult(tag=tag, image_id=image_id, built=True, labels=labels)


def _import(rootfs: Path, tag: str, labels: dict[str, str]) -> str:
    """Import the tarball untagged, then tag it: a failure in between leaves no tag pointing anywhere new."""
    from imagekit import engine

    changes = [
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "ENV LANG=C.UTF-8",
        'CMD ["/bin/bash"]',
        *(f'LABEL {key}="{value}"' for key, value in labels.items()),
    ]
    api = engine.connect().api
    response = api.import_image_from_file(str(rootfs), changes=changes)
    image_id = _imported_id(response)
    repository, _, version = tag.rpartition(":")
    if not repository or "/" in version:
        repository, version = tag, "latest"
    engine.tag_image(image_id, repository, version)
    return image_id


def _remove_if_unused(image_id: str) -> None:
    """Drop the base a --force rebuild replaced, unless other images or containers still use it."""
    from docker.errors import APIError

    from imagekit import engine

    try:
        engine.connect().api.remove_image(image_id, force=False)
    except APIError:
        pass


def _imported_id(response: str) -> str:
    import json

    for line in response.splitlines():
        try:
            status = json.loads(line).get("status", "")
        except ValueError:
            continue
        if status.startswith("sha256:"):
            return status
    raise ImagekitError(f"docker import did not report an image id: {response[:300]}",
                        "Check the engine log; no image was tagged.")
