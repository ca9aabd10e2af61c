"""Resolve a spec's framework preset into concrete choices: wheels, base images, CUDA, cuDNN, index.

The knowledge lives in imagekit/data/frameworks.json; this module only applies it and records, for every
choice, the rule that made it (what `imagekit explain` prints). Impossible combinations fail with the
nearest valid ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from imagekit.errors import ImagekitError
from imagekit.spec.model import Spec

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "frameworks.json"
SYSTEM_CUDA_PYTHON = "3.10"  # python3 of Ubuntu 22.04, which the nvidia/cuda images are built on


@lru_cache(maxsize=1)
def data() -> dict[str, Any]:
    return json.loads(DATA_FILE.read_text())


@dataclass(frozen=True)
class Choice:
    what: str
    value: str
    rule: str


@dataclass(frozen=True)
class Resolution:
    """Everything the template needs that the spec does not say literally."""

    framework: str
    version: str | None
    packages: tuple[str, ...]
    system_packages: tuple[str, ...]
    builder_base: str
    runtime_base: str
    python: str
    cuda: str | None = None
    cudnn: str | None = None
    cuda_mode: str | None = None
    min_driver: str | None = None
    index_url: str | None = None
    apt_python: bool = False  # the base has no python: install the distribution's python3 in both stages
    choices: tuple[Choice, ...] = field(default=())


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _nearest(wanted: str, options: list[str]) -> list[str]:
    def key(option: str) -> tuple[float, ...]:
        a, b = ([int(p) for p in v.split(".")[:2]] for v in (wanted, option))
        return (abs((a[0] - b[0]) * 100 + a[1] - b[1]),)
    return sorted(options, key=key)[:3]


def _matrix_entry(framework: str, version: str, spec_path: Path) -> dict[str, Any]:
    matrix = data()["matrix"][framework]
    entry = matrix.get(_minor(version))
    if entry is None:
        raise ImagekitError(
            f"{spec_path}: {framework} {version} has no known CUDA build in imagekit's matrix.",
            f"Nearest valid versions: {', '.join(_nearest(version, list(matrix)))} (see `imagekit explain`), or use "
            "accelerator: cpu.")
    return entry


def _cuda_for(spec: Spec, version: str | None, preset: dict[str, Any], choices: list[Choice]) -> tuple[str, str | None]:
    """(cuda, cudnn) for a CUDA spec, from the framework matrix or the preset default."""
    if spec.framework in data()["matrix"] and version:
        entry = _matrix_entry(spec.framework, version, spec.path)
        if spec.cuda_version and spec.cuda_version not in entry["cuda"]:
            others = [v for v, e in data()["matrix"][spec.framework].items() if spec.cuda_version in e["cuda"]]
            raise ImagekitError(
                f"{spec.path}: {spec.framework} {version} is not built for CUDA {spec.cuda_version}.",
                f"Valid CUDA versions for {spec.framework} {_minor(version)}: {', '.join(entry['cuda'])}"
                + (f"; {spec.framework} versions built for CUDA {spec.cuda_version}: {', '.join(others)}." if others
                   else "."))
        cuda = spec.cuda_version or entry["default"]
        rule = "spec cuda.version" if spec.cuda_version else f"{spec.framework} {_minor(version)} default build"
        choices.append(Choice("CUDA", cuda, rule))
        cudnn = entry["cuda"][cuda]
        choices.append(Choice("cuDNN", cudnn, f"{spec.framework} {_minor(version)} + CUDA {cuda} wheels"))
        return cuda, cudnn
    cuda = spec.cuda_version or preset["cuda_default"]
    if cuda not in data()["cuda"]:
        raise ImagekitError(f"{spec.path}: CUDA {cuda} is not in imagekit's CUDA table.",
                            f"Nearest valid versions: {', '.join(_nearest(cuda, list(data()['cuda'])))}.")
    choices.append(Choice("CUDA", cuda,
                          "spec cuda.version" if spec.cuda_version else f"{spec.framework} preset default"))
    choices.append(Choice("cuDNN", "from the nvidia/cuda cudnn image", "no framework matrix for " + spec.framework))
    return cuda, None


def resolve(spec: Spec) -> Resolution:
    presets = data()["presets"]
    preset = presets[spec.framework]
    choices: list[Choice] = []
    if spec.accelerator not in preset["accelerators"]:
        raise ImagekitError(f"{spec.path}: the {spec.framework} preset has no {spec.accelerator} build.",
                            f"Use accelerator: {' or '.join(preset['accelerators'])}, or framework: custom.")
    version = spec.framework_version or preset["default_version"]
    if version:
        choices.append(Choice("framework", f"{spec.framework} {version}",
                              "spec framework.version" if spec.framework_version else "preset default pin"))
    packages = tuple(p.format(version=version) for p in preset["packages"][spec.accelerator])
    python = spec.python
    index_url = None
    if spec.accelerator == "cpu":
        builder = runtime = spec.base or data()["cpu_base"].format(python=python)
        cuda = cudnn = mode = driver = None
        if spec.framework == "pytorch":
            index_url = preset["cpu_index"]
            choices.append(Choice("wheel index", index_url, "pytorch CPU wheels (no CUDA libraries)"))
    else:
        cuda, cudnn = _cuda_for(spec, version, preset, choices)
        mode = spec.cuda_mode or preset.get("default_cuda_mode", "system")
        choices.append(Choice("CUDA mode", mode,
                              "spec cuda.mode" if spec.cuda_mode else f"{spec.framework} preset default"))
        driver = data()["cuda"].get(cuda, {}).get("min_driver")
        if driver:
            choices.append(Choice("min host driver", driver, f"CUDA {cuda} toolkit release notes"))
        if spec.framework == "pytorch":
            index_url = preset["cuda_index"].format(cuda_nodot=cuda.replace(".", ""))
            choices.append(Choice("wheel index", index_url, f"pytorch wheels built for CUDA {cuda}"))
        if mode == "wheels":
            builder = runtime = spec.base or data()["cuda_wheels_base"].format(python=python)
        else:
            full = data()["cuda"][cuda]["full"]
            builder = spec.base or data()["cuda_system_builder"].format(cuda_full=full)
            runtime = spec.base or data()["cuda_system_runtime"].format(cuda_full=full)
            if not spec.base:
                python = SYSTEM_CUDA_PYTHON
                choices.append(Choice("python", python, "python3 of Ubuntu 22.04 in the nvidia/cuda images"))
    rule = "spec base" if spec.base else (f"CUDA {mode} mode" if spec.accelerator == "cuda" else "CPU python base")
    choices.append(Choice("builder base", builder, rule))
    choices.append(Choice("runtime base", runtime, rule))
    if index_url is None:
        choices.append(Choice("wheel index", "PyPI", "no framework-specific index needed"))
    system = tuple(dict.fromkeys([*preset["system_packages"], *spec.system_packages]))
    return Resolution(
        framework=spec.framework, version=version, packages=packages, system_packages=system,
        builder_base=builder, runtime_base=runtime, python=python, cuda=cuda, cudnn=cudnn, cuda_mode=mode,
        min_driver=driver, index_url=index_url,
        apt_python=spec.accelerator == "cuda" and mode == "system" and not spec.base, choices=tuple(choices))
