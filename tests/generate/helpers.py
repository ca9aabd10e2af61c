"""Spec fixtures shared by the generator tests: write a project dir with a spec and its code files."""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml import YAML

from imagekit.render import Provenance, render_dockerfile, runtime_files
from imagekit.spec import load_spec
from imagekit.spec.frameworks import resolve

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
GENERATOR_EXAMPLES = ("sklearn-cpu", "xgboost-cpu", "pytorch-cuda", "custom", "mpi")
CODE = {"train.py": "print('train')\n", "inference.py": "def model_fn(model_dir):\n    return None\n",
        "requirements.txt": "joblib==1.4.2\n"}

# Every string field the schema has, with a value the renderer accepts.
FULL_SPEC = {
    "name": "team/full-model", "tag": "1.0.0", "python": "3.11", "accelerator": "cpu",
    "framework": {"name": "custom"}, "base": "imagekit/base:bookworm",
    "requirements": {"file": "requirements.txt", "packages": ["joblib==1.4.2", "numpy>=1.26,<3"]},
    "system_packages": ["libgomp1"], "build_packages": ["gcc"],
    "code": {"dir": ".", "exclude": ["notebooks/"]},
    "train": {"script": "train.py", "args": ["--log-level", "info"]},
    "serve": {"handler": "inference", "workers": 2},
    "env": {"LOG_LEVEL": "info", "GREETING": "hello world"},
    "labels": {"org.opencontainers.image.authors": "ml@example.com"},
    "user": "model", "capabilities": {"bind_to_port": True, "multi_models": False},
    "build": {"extra_index_urls": ["https://pypi.example.com/simple"], "platform": "linux/amd64"},
    "size_budget": "2GB",
}


def write_project(directory: Path, spec: dict, code: dict[str, str] | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in (CODE if code is None else code).items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(text)
    path = directory / "imagekit.yaml"
    with path.open("w") as handle:
        YAML().dump(spec, handle)
    return path


def dockerfile_for(spec_path: Path, buildkit: bool = False, wheelhouse: bool = False) -> str:
    """The rendered Dockerfile with no git provenance (deterministic)."""
    spec = load_spec(spec_path)
    tree = next(iter(runtime_files(spec))).split("/")[0]
    return render_dockerfile(spec, resolve(spec), runtime_tree=tree, buildkit=buildkit, wheelhouse=wheelhouse,
                             provenance=Provenance())
