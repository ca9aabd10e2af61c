"""The GitHub Actions workflow `imagekit new` writes: actionlint finds nothing, and it gates before it pushes."""

from __future__ import annotations

import pytest
import yaml

from imagekit.scaffold import new
from ship.actionlint import actionlint

WORKFLOW = ".github/workflows/imagekit.yml"


@pytest.fixture(scope="module")
def workflow(tmp_path_factory):
    project = new("iris", "sklearn", base="imagekit/base:bookworm", directory=tmp_path_factory.mktemp("new"))
    return project / WORKFLOW


def test_the_generated_workflow_passes_actionlint(workflow):
    assert actionlint(workflow) == []


def test_actionlint_does_catch_a_broken_workflow(workflow, tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(workflow.read_text().replace("runs-on: ubuntu-latest", "runs-on: ubuntu-latest\n    "
                                                   "if: ${{ github.nope.sha }}"))
    assert [finding["kind"] for finding in actionlint(broken)] == ["expression"]


def test_it_lints_builds_smokes_and_pushes_to_ecr_with_oidc_on_main_only(workflow):
    document = yaml.safe_load(workflow.read_text())
    job = document["jobs"]["image"]
    assert job["permissions"]["id-token"] == "write"
    runs = [step.get("run", "") for step in job["steps"]]
    order = [next(i for i, run in enumerate(runs) if command in run) for command in (
        "imagekit lint --format", "imagekit build", "imagekit lint --image", "imagekit smoke all", "imagekit push")]
    assert order == sorted(order)
    credentials = next(s for s in job["steps"] if s.get("uses", "").startswith("aws-actions/configure-aws-credentials"))
    assert "role-to-assume" in credentials["with"]
    for step in (credentials, job["steps"][order[-1]]):
        assert step["if"] == "github.ref == 'refs/heads/main' && github.event_name == 'push'"
