"""The typed, defaulted spec: what the renderer and the builder read (never the raw YAML)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imagekit.errors import ImagekitError
from imagekit.sizes import parse_size


@dataclass(frozen=True)
class Train:
    kind: str  # "script" | "module"
    target: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Spec:
    """A validated imagekit.yaml with every default filled in; paths are absolute."""

    path: Path
    name: str
    tag: str
    python: str
    accelerator: str
    framework: str
    framework_version: str | None
    cuda_version: str | None
    cuda_mode: str | None
    base: str | None
    requirements_file: Path | None
    packages: tuple[str, ...]
    lock_file: Path | None
    system_packages: tuple[str, ...]
    build_packages: tuple[str, ...]
    code_dir: Path
    code_exclude: tuple[str, ...]
    train: Train | None
    handler: str | None
    serve_workers: int | None
    distribution: str
    env: tuple[tuple[str, str], ...]
    labels: tuple[tuple[str, str], ...]
    user: str
    bind_to_port: bool
    multi_models: bool
    wheelhouse: bool
    extra_index_urls: tuple[str, ...]
    ca_bundle_secret: bool
    prune_tests: bool
    platform: str | None
    size_budget: int | None
    digest: str = field(default="", compare=False)

    @property
    def root(self) -> Path:
        return self.path.parent


def _env_text(value: object) -> str:
    """YAML scalars as the environment sees them: booleans lower-case, numbers as written."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _existing_file(root: Path, relative: str | None, what: str) -> Path | None:
    if relative is None:
        return None
    path = (root / relative).resolve()
    if not path.is_file():
        raise ImagekitError(f"{root / 'imagekit.yaml'}: {what} {relative!r} does not exist.",
                            f"Create it next to the spec or fix the path (relative to {root}).")
    return path


def build_spec(data: dict[str, Any], path: Path) -> Spec:
    """Schema-valid plain data → Spec, checking the files it names exist."""
    root = path.parent.resolve()
    requirements = data.get("requirements", {})
    code = data.get("code", {})
    train = data.get("train")
    serve = data.get("serve", {})
    cuda = data.get("cuda", {})
    build = data.get("build", {})
    capabilities = data.get("capabilities", {})
    accelerator = data.get("accelerator", "cpu")
    if cuda and accelerator != "cuda":
        raise ImagekitError(f"{path}: `cuda:` is set but accelerator is {accelerator!r}.",
                            "Set `accelerator: cuda` or remove the `cuda:` section.")
    code_dir = (root / code.get("dir", ".")).resolve()
    if not code_dir.is_dir():
        raise ImagekitError(f"{path}: code dir {code.get('dir')!r} does not exist.", "Fix `code.dir`.")
    train_entry = None
    if train:
        kind = "script" if "script" in train else "module"
        train_entry = Train(kind, train[kind], tuple(train.get("args", ())))
        if kind == "script":
            _existing_file(code_dir, train["script"], "train script")
    size = data.get("size_budget")
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    return Spec(
        path=path.resolve(), name=data["name"], tag=data.get("tag", "latest"), python=data.get("python", "3.11"),
        accelerator=accelerator, framework=data["framework"]["name"],
        framework_version=data["framework"].get("version"), cuda_version=cuda.get("version"),
        cuda_mode=cuda.get("mode"), base=data.get("base"),
        requirements_file=_existing_file(root, requirements.get("file"), "requirements file"),
        packages=tuple(requirements.get("packages", ())),
        lock_file=_existing_file(root, requirements.get("lock"), "lock file"),
        system_packages=tuple(data.get("system_packages", ())), build_packages=tuple(data.get("build_packages", ())),
        code_dir=code_dir, code_exclude=tuple(code.get("exclude", ())), train=train_entry,
        handler=serve.get("handler"), serve_workers=serve.get("workers"),
        distribution=data.get("distribution", "none"),
        env=tuple(sorted((k, _env_text(v)) for k, v in data.get("env", {}).items())),
        labels=tuple(sorted(data.get("labels", {}).items())), user=data.get("user", "root"),
        bind_to_port=capabilities.get("bind_to_port", True), multi_models=capabilities.get("multi_models", False),
        wheelhouse=build.get("wheelhouse", False), extra_index_urls=tuple(build.get("extra_index_urls", ())),
        ca_bundle_secret=build.get("ca_bundle_secret", False), prune_tests=build.get("prune_tests", True),
        platform=build.get("platform"),
        size_budget=parse_size(size) if size else None,
        digest=hashlib.sha256(canonical).hexdigest(),
    )
