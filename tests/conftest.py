"""Shared fixtures: the engine, the base image, throwaway images, and a leak check at session end.

Tests that need the engine use the ``engine`` fixture (directly or through another fixture) and are
marked ``engine`` automatically. Under CI=true a missing engine is a failure, never a skip.
"""

from __future__ import annotations

import io
import os
import tarfile
import uuid
from pathlib import Path
from typing import Callable, Iterator

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    engine_fixtures = {"engine", "base_image", "throwaway_image", "module_image", "sklearn_scaffold", "nvidia_gpus"}
    for item in items:
        if engine_fixtures & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.engine)
        if "nvidia_gpus" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.gpu)


@pytest.fixture(scope="session")
def engine():
    """The Docker client; fails under CI when no engine answers, skips elsewhere."""
    from imagekit import engine as engine_mod
    from imagekit.errors import EngineUnavailable

    try:
        client = engine_mod.connect()
    except EngineUnavailable as error:
        engine_mod.connect.cache_clear()
        if IN_CI:
            pytest.fail(f"CI=true but no Docker engine is available: {error}")
        pytest.skip(f"no Docker engine: {error}")
    return client


@pytest.fixture(scope="session")
def nvidia_gpus(engine) -> tuple[str, ...]:
    """How the engine hands out NVIDIA GPUs (engine.nvidia_gpu_devices); tests that use it are marked ``gpu`` and
    skip, with the reason, on an engine that has none: the one skip CI allows, since nothing stands in for a GPU."""
    from imagekit import engine as engine_mod

    devices = engine_mod.nvidia_gpu_devices(engine_mod.engine_info())
    if devices is None:
        pytest.skip("needs an NVIDIA GPU: this engine has no nvidia runtime and no nvidia.com/gpu CDI device")
    return devices


@pytest.fixture(scope="session")
def base_image(engine) -> str:
    """The default imagekit base image's tag, built once if it is missing."""
    from imagekit.base import DEFAULT_TAG, build_base

    return build_base(tag=DEFAULT_TAG).tag


def _context_tar(dockerfile: str, files: dict[str, bytes | str]) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, content in {"Dockerfile": dockerfile, **files}.items():
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755 if not name.endswith((".py", ".txt", ".json", "Dockerfile")) else 0o644
            tar.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    return buffer


class ImageBuilder:
    """Builds images from inline Dockerfiles (``{base}`` is the base image tag) and removes them all at close.

    ``build(dockerfile, files={"serve": "#!/bin/sh ..."})`` returns the tag. Files not ending in
    .py/.txt/.json are added executable.
    """

    def __init__(self, client, base: str) -> None:
        self.client, self.base, self.tags = client, base, []

    def __call__(self, dockerfile: str, files: dict[str, bytes | str] | None = None) -> str:
        tag = f"imagekit-test/{uuid.uuid4().hex[:12]}:latest"
        context = _context_tar(dockerfile.replace("{base}", self.base), files or {})
        self.tags.append(tag)
        stream = self.client.api.build(fileobj=context, custom_context=True, tag=tag, rm=True, forcerm=True,
                                       decode=True)
        errors = [chunk["error"] for chunk in stream if "error" in chunk]
        if errors:
            raise AssertionError(f"test image failed to build: {errors}")
        return tag

    def close(self) -> None:
        from imagekit import engine as engine_mod

        for tag in self.tags:
            engine_mod.remove_image(tag)


@pytest.fixture
def throwaway_image(engine, base_image) -> Iterator[Callable[..., str]]:
    """An ImageBuilder whose images are removed after the test."""
    builder = ImageBuilder(engine, base_image)
    yield builder
    builder.close()


@pytest.fixture(scope="module")
def module_image(engine, base_image) -> Iterator[Callable[..., str]]:
    """An ImageBuilder whose images are shared by a test module and removed after it."""
    builder = ImageBuilder(engine, base_image)
    yield builder
    builder.close()


@pytest.fixture(scope="session")
def sklearn_scaffold(engine, base_image, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """(tag, project dir) of `imagekit new --framework sklearn` built with --wheelhouse on the base image.

    Built once per session (the generator, the compatibility and the benchmark-style tests share it) and
    removed at the end.
    """
    from imagekit import engine as engine_mod
    from imagekit.build import build
    from imagekit.scaffold import new

    project = new("iris", "sklearn", base=base_image, directory=tmp_path_factory.mktemp("scaffold"))
    tag = f"imagekit-test/iris-{uuid.uuid4().hex[:8]}:latest"
    build(project, tag=tag, wheelhouse=True, log=lambda line: None)
    yield tag, project
    engine_mod.remove_image(tag)


def _engine_objects() -> dict[str, dict[str, object]]:
    """Every container, network and volume, and the test images, by id (empty without an engine).

    Not only imagekit's own: a test that drives another client (the SageMaker SDK's local mode) must clean up too.
    """
    from imagekit import engine as engine_mod

    if not engine_mod.available():
        return {}
    client = engine_mod.connect()
    found = {"containers": {o.id: o for o in client.containers.list(all=True)},
             "networks": {o.id: o for o in client.networks.list()},
             "volumes": {o.id: o for o in client.volumes.list()}}
    images = client.images.list()
    found["test images"] = {i.id: i for i in images if any(t.startswith("imagekit-test/") for t in i.tags)}
    found[BUILDER_STAGE_IMAGES] = {i.id: i for i in client.images.list(filters={"dangling": True})}
    return found


# The classic builder keeps each multi-stage build's earlier stages as untagged images. They are no test's fault,
# but a suite run makes gigabytes of them, so new ones are removed at session end without failing the run.
BUILDER_STAGE_IMAGES = "untagged images"


@pytest.fixture(scope="session", autouse=True)
def no_engine_leftovers() -> Iterator[None]:
    """At session end, nothing created during the session by imagekit or the tests may remain.

    Objects that existed before the session (another developer's run on the same engine) are left alone.
    IMAGEKIT_TEST_SHARED_ENGINE=1 turns the check off for test runs that share one engine at the same time, since
    each would see, and remove, the others' objects; CI never sets it.
    """
    if os.environ.get("IMAGEKIT_TEST_SHARED_ENGINE") == "1" and not IN_CI:
        yield
        return
    before = _engine_objects()
    yield
    after = _engine_objects()
    new = {kind: [o for oid, o in objs.items() if oid not in before.get(kind, {})] for kind, objs in after.items()}
    leftovers = {kind: [getattr(o, "name", None) or o.id for o in objs] for kind, objs in new.items()
                 if objs and kind != BUILDER_STAGE_IMAGES}
    from imagekit import engine as engine_mod

    for kind, objs in new.items():
        for obj in objs:
            if kind in ("test images", BUILDER_STAGE_IMAGES):
                engine_mod.remove_image(obj.id)
            else:
                try:
                    obj.remove(force=True) if kind == "containers" else obj.remove()
                except Exception:  # already gone
                    pass
    if leftovers:
        pytest.fail(f"tests left objects on the engine: {leftovers}", pytrace=False)
