"""The typed, defaulted spec: what the renderer and the builder read (never the raw YAML)."""

from __future__ import annotations

import difflib
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from imagekit.errors import ImagekitError
from imagekit.sizes import parse_size
from imagekit.spec.loader import position


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
    mpi_processes_per_host: int | None
    mpi_custom_options: str
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
    # serve.transform: /execution-parameters settings, keys as in the schema (the runtime fills the defaults)
    serve_transform: tuple[tuple[str, Any], ...] = ()

    @property
    def root(self) -> Path:
        return self.path.parent


def _env_text(value: object) -> str:
    """YAML scalars as the environment sees them: booleans lower-case, numbers as written."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _existing_file(root: Path, relative: str | None, what: str, where: str) -> Path | None:
    if relative is None:
        return None
    path = root / os.path.normpath(relative)  # not resolved: pip reads -r/-c paths relative to this path
    if not path.is_file():
        state = "is a directory, not a file" if path.is_dir() else "does not exist"
        raise ImagekitError(f"{where}: {what} {relative!r} {state}.",
                            f"Create it or fix the path (relative to {root}).")
    return path


def _located(path: Path, document: Any) -> Callable[..., str]:
    """file:line:col of a JSON path in the spec (just the file when there is no document to point into)."""
    def where(*json_path: str) -> str:
        if document is None:
            return str(path)
        line, col = position(document, list(json_path))
        return f"{path}:{line}:{col}"
    return where


def _modules(plan: dict[str, Path], package_file: str) -> list[str]:
    """Module names the plan offers: NAME.py, or a package through *package_file* (__init__.py, __main__.py)."""
    names = (rel[:-3].replace("/", ".") for rel in plan if rel.endswith(".py"))
    package = "." + package_file.removesuffix(".py")
    return sorted({name.removesuffix(package) for name in names if not name.endswith((".__init__", ".__main__"))
                   or name.endswith(package)})


def _serve_transform(transform: dict[str, Any], where: Callable[..., str]) -> tuple[tuple[str, Any], ...]:
    """serve.transform, refused when it asks more than a transform job allows in all (the schema checks each)."""
    from imagekit import contract

    concurrent, payload = transform.get("max_concurrent_transforms"), transform.get("max_payload_mb")
    if concurrent and payload and concurrent * payload > contract.TRANSFORM_MAX_CONCURRENT_PAYLOAD_MB:
        raise ImagekitError(f"{where('serve', 'transform')}: max_concurrent_transforms {concurrent} x max_payload_mb "
                            f"{payload} = {concurrent * payload} MB, over the "
                            f"{contract.TRANSFORM_MAX_CONCURRENT_PAYLOAD_MB} MB a batch transform job allows.",
                            "Lower one of them.")
    return tuple(sorted(transform.items()))


def _check_entries(spec: Spec, where: Callable[..., str]) -> None:
    """The train script/module and the serve handler must be files the code plan puts into /opt/ml/code,
    in the form the in-image runtime loads them (a path for the script, importable module names otherwise)."""
    if spec.train is None and spec.handler is None:
        return
    from imagekit.render.codeplan import left_out, plan_code  # imagekit.render imports this module

    plan = plan_code(spec)
    fix = f"Fix it, or make sure it is in {spec.code_dir} and not excluded (code.exclude, .dockerignore)."

    def must_be_in_plan(relative: str, what: str, at: str) -> None:
        if relative not in plan:
            raise ImagekitError(f"{at}: {what} {relative!r} exists but is not copied into the image: "
                                f"{left_out(spec, relative)}.", fix)

    if spec.train is not None and spec.train.kind == "script":
        at, script = where("train", "script"), spec.train.target
        path = spec.code_dir / script
        if path.is_dir():
            raise ImagekitError(f"{at}: train script {script!r} is a directory, not a script.",
                                f"Name the file to run (e.g. train.script: {script.rstrip('/')}/train.py), or use "
                                "train.module for a package with a __main__.py.")
        if not path.is_file():
            raise ImagekitError(f"{at}: train script {script!r} does not exist.",
                                f"Create it in the code dir or fix the path (relative to {spec.code_dir}).")
        must_be_in_plan(Path(os.path.normpath(script)).as_posix(), "train script", at)
    entries = []
    if spec.train is not None and spec.train.kind == "module":  # python -m NAME: NAME.py or NAME/__main__.py
        entries.append(("train", "module", "train module", spec.train.target, "__main__.py"))
    if spec.handler is not None:  # importlib.import_module(NAME): NAME.py or NAME/__init__.py
        entries.append(("serve", "handler", "serve handler", spec.handler, "__init__.py"))
    for section, key, what, name, package_file in entries:
        at, stem = where(section, key), name.replace(".", "/")
        candidates = [f"{stem}.py", f"{stem}/{package_file}"]
        found = [c for c in candidates if c in plan]
        if found:
            continue
        existing = [c for c in candidates if (spec.code_dir / c).is_file()]
        if existing:
            must_be_in_plan(existing[0], what, at)
        if name.endswith(".py"):
            raise ImagekitError(f"{at}: {what} {name!r} is a file name; {section}.{key} takes a module name.",
                                f"Write {key}: {name[:-3]}" + (" (or train.script: " + name + ")"
                                                                if section == "train" else "") + ".")
        close = difflib.get_close_matches(name, _modules(plan, package_file), n=1, cutoff=0.6)
        raise ImagekitError(f"{at}: {what} {name!r} is not a module of the code in {spec.code_dir}: no "
                            f"{' or '.join(candidates)}" + (f"; did you mean {close[0]!r}?" if close else "."),
                            "Fix the module name (dotted, relative to the code dir, without .py) or add the file.")


def build_spec(data: dict[str, Any], path: Path, document: Any = None) -> Spec:
    """Schema-valid plain data → Spec, checking the files it names exist and that the train entry and serve
    handler will be in the image's code; *document* (the YAML with positions) locates the problems."""
    root = path.parent.resolve()
    where = _located(path, document)
    requirements = data.get("requirements", {})
    code = data.get("code", {})
    train = data.get("train")
    serve = data.get("serve", {})
    cuda = data.get("cuda", {})
    build = data.get("build", {})
    capabilities = data.get("capabilities", {})
    accelerator = data.get("accelerator", "cpu")
    if cuda and accelerator != "cuda":
        raise ImagekitError(f"{where('cuda')}: `cuda:` is set but accelerator is {accelerator!r}.",
                            "Set `accelerator: cuda` or remove the `cuda:` section.")
    code_dir = (root / code.get("dir", ".")).resolve()
    if not code_dir.is_dir():
        state = "is not a directory" if code_dir.exists() else "does not exist"
        raise ImagekitError(f"{where('code', 'dir')}: code dir {code.get('dir')!r} {state}.", "Fix `code.dir`.")
    train_entry = None
    if train:
        kind = "script" if "script" in train else "module"
        train_entry = Train(kind, train[kind], tuple(train.get("args", ())))
    size = data.get("size_budget")
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    spec = Spec(
        path=root / path.name, name=data["name"], tag=data.get("tag", "latest"), python=data.get("python", "3.11"),
        accelerator=accelerator, framework=data["framework"]["name"],
        framework_version=data["framework"].get("version"), cuda_version=cuda.get("version"),
        cuda_mode=cuda.get("mode"), base=data.get("base"),
        requirements_file=_existing_file(root, requirements.get("file"), "requirements file",
                                         where("requirements", "file")),
        packages=tuple(requirements.get("packages", ())),
        lock_file=_existing_file(root, requirements.get("lock"), "lock file", where("requirements", "lock")),
        system_packages=tuple(data.get("system_packages", ())), build_packages=tuple(data.get("build_packages", ())),
        code_dir=code_dir, code_exclude=tuple(code.get("exclude", ())), train=train_entry,
        handler=serve.get("handler"), serve_workers=serve.get("workers"),
        distribution=data.get("distribution", "none"),
        mpi_processes_per_host=data.get("mpi", {}).get("processes_per_host"),
        mpi_custom_options=data.get("mpi", {}).get("custom_mpi_options", ""),
        env=tuple(sorted((k, _env_text(v)) for k, v in data.get("env", {}).items())),
        labels=tuple(sorted(data.get("labels", {}).items())), user=data.get("user", "root"),
        bind_to_port=capabilities.get("bind_to_port", True), multi_models=capabilities.get("multi_models", False),
        wheelhouse=build.get("wheelhouse", False), extra_index_urls=tuple(build.get("extra_index_urls", ())),
        ca_bundle_secret=build.get("ca_bundle_secret", False), prune_tests=build.get("prune_tests", True),
        platform=build.get("platform"),
        size_budget=parse_size(size) if size else None,
        digest=hashlib.sha256(canonical).hexdigest(),
        serve_transform=_serve_transform(serve.get("transform") or {}, where),
    )
    if "mpi" in data and spec.distribution != "mpi":
        raise ImagekitError(f"{where('mpi')}: `mpi:` settings are given but distribution is {spec.distribution!r}.",
                            "Set `distribution: mpi`, or remove the `mpi:` block.")
    _check_entries(spec, where)
    return spec
