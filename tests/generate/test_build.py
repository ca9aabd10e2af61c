"""The generator end to end on a real engine: scaffold → build → lint → smoke; cache reuse; torchrun on 2 hosts."""

from __future__ import annotations

import json
import shutil
import tarfile
import uuid
from pathlib import Path

import pytest

from imagekit.build import build
from imagekit.errors import ImagekitError
from imagekit.lint.core import Severity
from imagekit.render import render

pytestmark = pytest.mark.slow


def test_sklearn_scaffold_builds_lints_clean_and_passes_smoke(sklearn_scaffold, tmp_path: Path) -> None:
    from imagekit.lint.dockerfile_lint import lint_text
    from imagekit.lint.image_lint import lint_image
    from imagekit.smoke.training import run_all

    tag, project = sklearn_scaffold
    context = render(project, tmp_path / "context").out_dir
    static = [f for f in lint_text((context / "Dockerfile").read_text()) if f.severity >= Severity.INFO]
    assert not static, static
    image_findings = [f for f in lint_image(tag, dockerfile=str(context / "Dockerfile"))
                      if f.severity >= Severity.WARNING]
    assert not image_findings, image_findings
    report = run_all(tag, data={"training": project / "data" / "training"},
                     payloads=[project / "data" / "payload.csv"], content_type="text/csv", requests=20,
                     concurrency=2)
    assert report.ok, report.failed()


def test_code_only_edit_rebuilds_only_the_code_layer(sklearn_scaffold) -> None:
    tag, project = sklearn_scaffold
    train = project / "train.py"
    original = train.read_text()
    lines: list[str] = []
    try:
        train.write_text(original + "\n# edited\n")
        build(project, tag=tag, wheelhouse=True, log=lines.append)
    finally:
        train.write_text(original)
    steps = [i for i, line in enumerate(lines) if line.startswith("Step ")]
    rebuilt = [lines[i] for n, i in enumerate(steps)
               if not any("Using cache" in line for line in lines[i:(steps + [len(lines)])[n + 1]])
               and not lines[i].split(" : ")[1].startswith(("FROM", "WORKDIR", "LABEL", "ENTRYPOINT", "ENV"))]
    assert rebuilt and all("COPY code/" in line for line in rebuilt), rebuilt


def test_size_budget_and_failed_build_exit_1(base_image, tmp_path: Path) -> None:
    project = tmp_path / "tiny"
    project.mkdir()
    (project / "imagekit.yaml").write_text("name: imagekit-test/tiny\nframework: {name: custom}\n"
                                           f"base: {base_image}\nsize_budget: 1MB\n")
    tag = f"imagekit-test/tiny-{uuid.uuid4().hex[:8]}:latest"
    from imagekit import engine

    try:
        with pytest.raises(ImagekitError, match="over the spec's size_budget") as over:
            build(project, tag=tag, log=lambda line: None)
        assert over.value.exit_code == 1
        (project / "imagekit.yaml").write_text(f"name: imagekit-test/tiny\nframework: {{name: custom}}\n"
                                               f"base: {base_image}\nsystem_packages: [no-such-package-xyz]\n")
        with pytest.raises(ImagekitError) as failed:
            build(project, tag=tag, log=lambda line: None)
        assert failed.value.exit_code == 1 and "no-such-package-xyz" in str(failed.value) + failed.value.hint
    finally:
        engine.remove_image(tag)


DDP_TRAIN = '''"""Two-host DDP on CPU: every rank joins one gloo process group; algo-1 saves what it saw."""
import json, os
from pathlib import Path
import torch
import torch.distributed as dist

dist.init_process_group(backend=os.environ["IMAGEKIT_DIST_BACKEND"])
rank, world = dist.get_rank(), dist.get_world_size()
torch.manual_seed(0)
model = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(4, 1))
optimiser = torch.optim.SGD(model.parameters(), lr=0.1)
features = torch.randn(64, 4) + rank
for _ in range(10):
    optimiser.zero_grad()
    torch.nn.functional.mse_loss(model(features), features.sum(dim=1, keepdim=True)).backward()
    optimiser.step()
joined = torch.zeros(world)
joined[rank] = 1.0
dist.all_reduce(joined)
weights = [torch.zeros(1, 4) for _ in range(world)]
dist.all_gather(weights, model.module.weight.detach().clone())
report = {"rank": rank, "world": world, "joined": int(joined.sum().item()), "backend": dist.get_backend(),
          "same_weights": all(torch.equal(weights[0], w) for w in weights)}
if rank == 0:
    Path(os.environ["SM_MODEL_DIR"], "ddp.json").write_text(json.dumps(report))
dist.destroy_process_group()
'''


def test_torchrun_two_hosts_join_one_process_group(base_image, tmp_path: Path) -> None:
    """Debian's python3-torch is the CPU PyTorch reachable without a wheel index (its download is small)."""
    from imagekit import engine
    from imagekit.smoke.training import train

    project = tmp_path / "ddp"
    project.mkdir()
    (project / "train.py").write_text(DDP_TRAIN)
    (project / "imagekit.yaml").write_text(
        f"name: imagekit-test/ddp\nframework: {{name: custom}}\nbase: {base_image}\n"
        "system_packages: [python3-torch]\nenv: {PYTHONPATH: /usr/lib/python3/dist-packages}\n"
        "train: {script: train.py}\ndistribution: torchrun\n")
    tag = f"imagekit-test/ddp-{uuid.uuid4().hex[:8]}:latest"
    try:
        build(project, tag=tag, log=lambda line: None)
        report = train(tag, instances=2, output=tmp_path / "out")
        assert report.ok, report.failed()
        with tarfile.open(tmp_path / "out" / "model.tar.gz") as archive:
            saved = json.load(archive.extractfile("ddp.json"))
        assert saved == {"rank": 0, "world": 2, "joined": 2, "backend": "gloo", "same_weights": True}
    finally:
        engine.remove_image(tag)


def test_buildkit_build_with_cache_mounts_and_ca_secret(sklearn_scaffold, tmp_path: Path) -> None:
    """The BuildKit flavour (cache mounts, CA bundle secret) builds the same project through `docker build`."""
    from imagekit import contract, engine
    from imagekit.lint.image_lint import lint_image

    _, project = sklearn_scaffold
    spec = project / "imagekit.yaml"
    original = spec.read_text()
    tag = f"imagekit-test/iris-bk-{uuid.uuid4().hex[:8]}:latest"
    lines: list[str] = []
    try:
        spec.write_text(original + "build:\n  ca_bundle_secret: true\n")
        result = build(project, tag=tag, wheelhouse=True, buildkit=True, log=lines.append)
        assert any("--mount=type=cache" in line for line in lines)
        labels = engine.require_image(tag)["Config"]["Labels"]
        assert labels[contract.LABEL_BIND_TO_PORT] == contract.CAPABILITY_TRUE and result.size_bytes > 0
        assert not [f for f in lint_image(tag) if f.severity >= Severity.WARNING]
    finally:
        spec.write_text(original)
        engine.remove_image(tag)


def test_a_framework_version_pip_cannot_find_names_framework_version_exit_1(tmp_path: Path) -> None:
    """The wheelhouse download fails (a failed build: exit 1) with a hint naming the requirement and the spec
    field, not "no binary wheel". build.platform is set, so no engine is needed."""
    project = tmp_path / "v99"
    project.mkdir()
    (project / "imagekit.yaml").write_text('name: work-e/v99\nframework: {name: sklearn, version: "9.9"}\n'
                                           "build: {platform: linux/amd64}\n")
    with pytest.raises(ImagekitError) as failed:
        build(project, wheelhouse=True, log=lambda line: None)
    assert failed.value.exit_code == 1
    assert "scikit-learn==9.9" in failed.value.hint and 'framework.version: "9.9"' in failed.value.hint
    assert "binary wheel" not in failed.value.hint


def test_a_base_that_cannot_be_pulled_suggests_the_local_base(base_image, tmp_path: Path) -> None:
    project = tmp_path / "nobase"
    project.mkdir()
    missing = f"work-e/no-such-base-{uuid.uuid4().hex[:8]}:1"
    (project / "imagekit.yaml").write_text(f"name: work-e/nobase\nframework: {{name: custom}}\nbase: {missing}\n")
    with pytest.raises(ImagekitError) as failed:
        build(project, tag=f"work-e/nobase-{uuid.uuid4().hex[:8]}:latest", log=lambda line: None)
    assert failed.value.exit_code == 1
    assert f"The base image {missing} could not be pulled" in failed.value.hint
    assert f"--base {base_image}" in failed.value.hint and f"base: {base_image}" in failed.value.hint


def test_a_pip_failure_in_the_builder_names_the_requirement(tmp_path: Path, monkeypatch) -> None:
    from imagekit import build as build_module
    from imagekit import engine
    from imagekit.spec import load_spec
    from imagekit.spec.frameworks import resolve

    (tmp_path / "imagekit.yaml").write_text('name: m\nframework: {name: sklearn, version: "9.9"}\n')
    spec = load_spec(tmp_path)
    monkeypatch.setattr(engine, "inspect_image", lambda ref: {"Id": "sha256:x"})  # the bases are there
    failed = ImagekitError("Build of 'm:latest' failed at Step 6/14 : RUN /opt/venv/bin/pip install ...: The "
                           "command returned a non-zero code: 1",
                           "Last build output:\nStep 1/14 : FROM python:3.11-slim-bookworm AS builder\nERROR: No "
                           "matching distribution found for scikit-learn==9.9", exit_code=1)
    explained = build_module._explained(failed, spec, resolve(spec))
    assert explained.exit_code == 1 and explained.message == failed.message
    assert explained.hint.startswith("pip found no release matching scikit-learn==9.9: that version may not exist")
    assert 'framework.version: "9.9"' in explained.hint and explained.hint.endswith("scikit-learn==9.9")


def test_an_unreachable_extra_index_is_said_in_the_build_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pip only warns when download.pytorch.org cannot be reached and takes PyPI's CUDA torch (5 GB for a CPU
    project); the build log must say so, or the size-budget error that follows has no visible cause."""
    import subprocess

    from imagekit import build as build_module

    deps = tmp_path / "deps"
    deps.mkdir()
    (deps / "requirements.txt").write_text("torch==2.5.1\n")
    pip_log = ("WARNING: Retrying (Retry(total=0, connect=None, read=None, redirect=None, status=None)) after "
               "connection broken by 'NameResolutionError(\"HTTPSConnection(host='download.pytorch.org', port=443): "
               "Failed to resolve\")': /whl/cpu/torch/\n")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def pip(command: list[str], **_) -> subprocess.CompletedProcess:
        Path(command[command.index("--dest") + 1]).mkdir(parents=True)  # what pip download makes
        return subprocess.CompletedProcess(command, 0, "", pip_log)

    monkeypatch.setattr(subprocess, "run", pip)
    lines: list[str] = []
    build_module.fill_wheelhouse(deps, "3.11", "amd64", ("https://download.pytorch.org/whl/cpu",), lines.append)
    assert any("https://download.pytorch.org/whl/cpu could not be reached" in line for line in lines)
    lines.clear()
    (deps / "requirements.txt").write_text("six==1.17.0\n")  # another cache key
    shutil.rmtree(deps / "wheelhouse")
    build_module.fill_wheelhouse(deps, "3.11", "amd64", ("https://example.org/simple",), lines.append)
    assert not any("could not be reached" in line for line in lines)
