"""`imagekit new`: a project that builds, trains and serves as it is (spec, code, sample data, hooks).

The files come from templates/scaffold/ through the same sandboxed Jinja2 environment as the
Dockerfile; the sample data set is generated here, deterministically, so no download is needed.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

from imagekit import __version__
from imagekit.errors import ImagekitError
from imagekit.render.environment import environment
from imagekit.resources import schemas_dir
from imagekit.spec import load_spec
from imagekit.spec.frameworks import SYSTEM_CUDA_PYTHON
from imagekit.spec.frameworks import data as framework_data
from imagekit.spec.loader import SCHEMA_FILE, schema

FRAMEWORKS = ("sklearn", "xgboost", "pytorch", "tensorflow", "custom")
ACCELERATORS = ("cpu", "cuda")
NAME = re.compile(r"\A[a-z0-9]+([._-][a-z0-9]+)*\Z")  # \Z: `$` would accept a trailing newline
# scaffold template → file in the project
FILES = {
    "imagekit.yaml.j2": "imagekit.yaml",
    "train.py.j2": "train.py",
    "inference.py.j2": "inference.py",
    "requirements.txt.j2": "requirements.txt",
    "dockerignore.j2": ".dockerignore",
    "pre-commit-config.yaml.j2": ".pre-commit-config.yaml",
    "README.md.j2": "README.md",
    "github-workflow.yml.j2": ".github/workflows/imagekit.yml",  # gate, then push to ECR on main (docs/ship.md)
}
SAMPLE_DATA = "data/training/train.csv"
SAMPLE_PAYLOAD = "data/payload.csv"  # a request body for `imagekit smoke serve --payload`: features, no label
SIZE_BUDGETS = {"cpu": "2GB", "cuda": "12GB"}
# The schema beside the spec, named by the modeline by relative path: editors complete and check the spec
# offline, against the schema of the imagekit that wrote it (.dockerignore keeps .imagekit/ out of the image).
SCHEMA_COPY = f".imagekit/{SCHEMA_FILE}"


def sample_csv(rows_per_class: int = 50, seed: int = 7) -> str:
    """An iris-like data set: label (0-2) first, then four measurements; identical on every run."""
    centres = [(5.0, 3.4, 1.5, 0.2), (5.9, 2.8, 4.3, 1.3), (6.6, 3.0, 5.6, 2.0)]
    rng = random.Random(seed)
    lines = []
    for label, centre in enumerate(centres):
        for _ in range(rows_per_class):
            lines.append(",".join([str(label), *(f"{rng.gauss(mean, 0.25):.2f}" for mean in centre)]))
    rng.shuffle(lines)
    return "\n".join(lines) + "\n"


def _check_base(base: str) -> None:
    """--base against the spec schema's own rule for `base`, before anything is written: the error names the flag
    the user typed, not a line of a spec file they never wrote (and that is removed again)."""
    from jsonschema import Draft202012Validator

    rule = schema()["properties"]["base"]
    if not Draft202012Validator(rule).is_valid(base):
        raise ImagekitError(f"--base {base!r} is not an image reference a spec accepts.",
                            "Give REPOSITORY[:TAG][@sha256:DIGEST] in lower case, e.g. "
                            f"{' or '.join(rule['examples'])}.")


def new(name: str, framework: str, accelerator: str = "cpu", base: str | None = None,
        directory: str | Path | None = None) -> Path:
    """Create project *name* (in *directory*/name, default ./name) and return its path; the spec is validated."""
    if not NAME.match(name):
        raise ImagekitError(f"Project name {name!r} is not a valid image name.",
                            "Use lower-case letters, digits and single . _ - separators, e.g. iris-classifier.")
    if framework not in FRAMEWORKS:
        raise ImagekitError(f"Unknown framework {framework!r}.", f"Choose one of: {', '.join(FRAMEWORKS)}.")
    if accelerator not in ACCELERATORS:
        raise ImagekitError(f"Unknown --accelerator {accelerator!r}.", f"Choose {' or '.join(ACCELERATORS)}.")
    if base is not None:
        _check_base(base)
    preset = framework_data()["presets"][framework]
    if accelerator not in preset["accelerators"]:
        raise ImagekitError(f"The {framework} preset has no {accelerator} build.",
                            f"Use --accelerator {' or '.join(preset['accelerators'])}.")
    parent = Path(directory or Path.cwd())
    target = parent / name
    if parent.exists() and not parent.is_dir():
        raise ImagekitError(f"--dir {parent} is not a directory.",
                            "Pass the directory to create the project in (it is made if missing), e.g. --dir .")
    if target.exists() and not target.is_dir():
        raise ImagekitError(f"{target} already exists and is not a directory.", "Choose another name or directory.")
    if target.exists() and any(target.iterdir()):
        raise ImagekitError(f"{target} already exists and is not empty.", "Choose another name or directory.")
    python = framework_data()["python_default"]
    if accelerator == "cuda" and not base and preset.get("default_cuda_mode", "system") == "system":
        python = SYSTEM_CUDA_PYTHON  # CUDA system mode runs the nvidia/cuda images' python3, whatever the spec says
    context = {
        "name": name, "framework": framework, "accelerator": accelerator, "base": base,
        "version": preset["default_version"], "python": python,
        "schema_path": SCHEMA_COPY, "size_budget": SIZE_BUDGETS[accelerator], "imagekit_version": __version__,
    }
    env = environment()
    rendered = {dest: env.get_template(f"scaffold/{source}").render(**context) for source, dest in FILES.items()}
    rendered[SAMPLE_DATA] = sample_csv()
    rendered[SCHEMA_COPY] = (schemas_dir() / SCHEMA_FILE).read_text()
    rendered[SAMPLE_PAYLOAD] = "".join(row.split(",", 1)[1] + "\n" for row in rendered[SAMPLE_DATA].splitlines()[:3])
    try:
        for relative, text in rendered.items():
            path = target / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        load_spec(target / "imagekit.yaml")
    except Exception as error:
        import shutil

        shutil.rmtree(target, ignore_errors=True)
        if isinstance(error, OSError):
            raise ImagekitError(f"Cannot create the project in {target}: {error.strerror or error}.",
                                "Choose a directory you can write to with --dir.") from None
        raise
    return target
