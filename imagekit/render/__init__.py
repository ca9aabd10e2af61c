"""Render a spec into a build context: Dockerfile, .dockerignore, deps, imagekit runtime and user code.

``render()`` is the API behind ``imagekit render``; it gathers the inputs (spec, resolution, git
provenance, runtime files, the code file list) and writes them. The Dockerfile text itself comes from
``render_dockerfile()``, which is pure so rendering is deterministic and golden-testable.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from imagekit.errors import ImagekitError
from imagekit.render.codeplan import plan_code
from imagekit.render.context import (
    CODE_TREE,
    CONTEXT_DOCKERIGNORE,
    CONTEXT_MARKER,
    DEPS_DIR,
    Provenance,
    requirements_text,
    template_context,
)
from imagekit.render.deps import USER_DEPS, requirement_files
from imagekit.render.environment import environment
from imagekit.safe_io import check_inside, read_inside
from imagekit.spec import Spec, load_spec
from imagekit.spec.frameworks import Resolution, resolve

TEMPLATE = "Dockerfile.j2"
DEFAULT_OUT = PurePosixPath(".imagekit") / "context"


@dataclass(frozen=True)
class RenderResult:
    spec: Spec
    resolution: Resolution
    out_dir: Path
    dockerfile: str
    files: tuple[str, ...]
    warnings: tuple[str, ...] = field(default=())


def runtime_files(spec: Spec) -> dict[str, tuple[bytes, int]]:
    """The in-image train/serve tree for this spec (owned by imagekit.runtime)."""
    from imagekit.runtime import RuntimeConfig, build_context_files

    config = RuntimeConfig(train=spec.train, handler=spec.handler, distribution=spec.distribution,
                           serve_workers=spec.serve_workers, processes_per_host=spec.mpi_processes_per_host,
                           custom_mpi_options=spec.mpi_custom_options, transform=dict(spec.serve_transform))
    return build_context_files(config)


def render_dockerfile(spec: Spec, resolution: Resolution, *, runtime_tree: str, buildkit: bool = False,
                      wheelhouse: bool = False, provenance: Provenance = Provenance()) -> str:
    from imagekit.runtime import ENTRYPOINT

    context = template_context(spec, resolution, entrypoint=list(ENTRYPOINT), runtime_tree=runtime_tree,
                               buildkit=buildkit, wheelhouse=wheelhouse, provenance=provenance)
    return environment().get_template(TEMPLATE).render(**context)


def warnings_for(spec: Spec, resolution: Resolution) -> tuple[str, ...]:
    """What the spec asked for but will not get, or gets with a risk, said at render and build time."""
    from imagekit import contract

    found = []
    if resolution.python != spec.python:
        found.append(f"python: {spec.python} is not used — CUDA {resolution.cuda_mode} mode builds on the "
                     f"nvidia/cuda images, whose python3 is {resolution.python}. Set python: \"{resolution.python}\" "
                     "to accept it, or cuda.mode: wheels to keep your Python on a python base image.")
    if not contract.is_root_user(spec.user):
        found.append(f"user: {spec.user} — SageMaker runs training and serving containers as root; the image "
                     f"chowns {contract.ML_ROOT} to {spec.user}, but volumes SageMaker mounts there may not be "
                     "writable by it. Test with `imagekit smoke` before shipping.")
        if spec.distribution == "mpi":
            found.append(f"user: {spec.user} with distribution: mpi — the MPI launcher starts sshd on port "
                         f"{contract.SSH_PORT} and mpirun logs in as root, which needs the container to run as "
                         "root; multi-host jobs will fail. Remove `user:`.")
    return tuple(found)


def git_provenance(directory: Path) -> Provenance:
    """origin URL and HEAD commit of the repository holding the spec, when there is one."""
    def git(*args: str) -> str | None:
        try:
            run = subprocess.run(["git", "-C", str(directory), *args], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return run.stdout.strip() or None if run.returncode == 0 else None

    return Provenance(source=git("config", "--get", "remote.origin.url"), revision=git("rev-parse", "HEAD"))


def _prepare(out_dir: Path) -> None:
    """Create *out_dir*, replacing a context imagekit rendered before but never anything else."""
    if out_dir.exists():
        if not out_dir.is_dir() or (any(out_dir.iterdir()) and not (out_dir / CONTEXT_MARKER).exists()):
            raise ImagekitError(f"{out_dir} exists and was not rendered by imagekit.",
                                "Choose an empty or new directory with -o.")
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)


def _write(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(mode)


def render(spec_path: str | Path | None = None, out_dir: str | Path | None = None, buildkit: bool = False,
           wheelhouse: bool | None = None, provenance: Provenance | None = None,
           base: str | None = None) -> RenderResult:
    """Validate the spec and write a complete build context to *out_dir* (default .imagekit/context).

    *base* replaces the spec's base image for both stages (a mirror, or a local image in tests).
    """
    spec = load_spec(spec_path, base=base)
    resolution = resolve(spec)
    target = Path(out_dir) if out_dir else spec.root / DEFAULT_OUT
    target = target.resolve()
    runtime = runtime_files(spec)
    runtime_tree = PurePosixPath(next(iter(runtime))).parts[0]
    dockerfile = render_dockerfile(spec, resolution, runtime_tree=runtime_tree, buildkit=buildkit,
                                   wheelhouse=spec.wheelhouse if wheelhouse is None else wheelhouse,
                                   provenance=provenance or git_provenance(spec.root))
    check_inside(spec.root, spec.code_dir, "code directory")
    code = plan_code(spec, skip=(target,))
    requirements = requirement_files(spec)
    files: dict[str, tuple[bytes, int]] = {
        "Dockerfile": (dockerfile.encode(), 0o644),
        ".dockerignore": (CONTEXT_DOCKERIGNORE.encode(), 0o644),
        CONTEXT_MARKER: (b"rendered by imagekit; `imagekit render` may replace this directory\n", 0o644),
        f"{DEPS_DIR}/requirements.txt": (requirements_text(spec, resolution).encode(), 0o644),
        **runtime,
    }
    for relative, source in requirements.items():
        files[f"{DEPS_DIR}/{USER_DEPS}/{relative}"] = (read_inside(spec.root, source, "requirements file")[0], 0o644)
    if spec.lock_file:
        files[f"{DEPS_DIR}/constraints.txt"] = (read_inside(spec.root, spec.lock_file, "lock file")[0], 0o644)
    for relative, source in code.items():
        data, mode = read_inside(spec.root, source, "code file")
        files[f"{CODE_TREE}/{relative}"] = (data, 0o755 if mode & 0o111 else 0o644)
    if not code:
        files[f"{CODE_TREE}/.keep"] = (b"", 0o644)
    _prepare(target)  # only once every input was read: a refused input leaves no half-written context
    for relative in sorted(files):
        data, mode = files[relative]
        _write(target / relative, data, mode)
    return RenderResult(spec=spec, resolution=resolution, out_dir=target, dockerfile=dockerfile,
                        files=tuple(sorted(files)), warnings=warnings_for(spec, resolution))
