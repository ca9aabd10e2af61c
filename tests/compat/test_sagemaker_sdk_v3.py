"""A real client, 3.x: the SageMaker Python SDK 3.x local mode trains on 2 hosts, serves and batch-transforms, offline.

3.x lives in its own cached venv (sdk_v3_local.python(); created on first use), run out of process.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest

from compat import sdk_v3_local

pytestmark = pytest.mark.slow
# The 3.x transform's .out files stay here after the run (each run replaces them), to set beside
# `imagekit smoke transform`'s on the same input: features.csv (train.csv without its label column) and payload.csv.
TRANSFORM_RESULTS = Path(tempfile.gettempdir()) / "imagekit-compat" / "sdk-v3-transform"


@pytest.fixture(scope="module")
def sdk_v3_python() -> str:
    return sdk_v3_local.python()


def test_sklearn_scaffold_trains_on_two_hosts_serves_and_transforms_under_sdk_v3_local_mode(
        sklearn_scaffold, sdk_v3_python: str, tmp_path: Path) -> None:
    tag, project = sklearn_scaffold
    rows = (project / "data" / "training" / "train.csv").read_text().split()
    labels = [row.split(",", 1)[0] for row in rows]
    transform_input = tmp_path / "transform-input"
    transform_input.mkdir()
    (transform_input / "features.csv").write_text("".join(row.split(",", 1)[1] + "\n" for row in rows))
    shutil.copy(project / "data" / "payload.csv", transform_input)
    shutil.rmtree(TRANSFORM_RESULTS, ignore_errors=True)
    TRANSFORM_RESULTS.mkdir(parents=True)

    result = sdk_v3_local.run(tag, project / "data" / "training", project / "data" / "payload.csv", transform_input,
                              TRANSFORM_RESULTS, {"max-leaf-nodes": "8"}, instance_count=2,
                              split_type="Line", batch_strategy="MultiRecord", accept="text/csv")

    assert "on algo-1 of 2 host(s)" in result["log"] and "on algo-2 of 2 host(s)" in result["log"]
    assert json.loads(result["prediction"])["predictions"] == [int(label) for label in labels[:3]]
    assert sorted(result["transform_outputs"]) == ["features.csv.out", "payload.csv.out"]
    assert result["transform_outputs"]["features.csv.out"].split() == labels
    assert result["transform_outputs"]["payload.csv.out"].split() == labels[:3]


def test_smoke_transform_writes_what_sdk_v3_local_mode_transformer_writes(sklearn_scaffold, tmp_path: Path) -> None:
    """Beside the 3.x run above: `imagekit smoke transform` with the same settings (Line split, MultiRecord,
    AssembleWith Line, CSV in and out) on the same input writes the same .out files, byte for byte. The scaffold's
    model fits its sample, so a model trained by `smoke train` predicts what the 3.x-trained one did."""
    from imagekit import smoke
    from imagekit.smoke.transform import TransformSettings, transform

    if not TRANSFORM_RESULTS.is_dir():
        pytest.fail(f"{TRANSFORM_RESULTS} is missing: the 3.x test above writes it; run the module whole")
    tag, project = sklearn_scaffold
    trained = smoke.train(tag, data={"training": project / "data" / "training"}, output=tmp_path / "model")
    assert trained.ok, trained.to_json()
    source = tmp_path / "in"
    source.mkdir()
    rows = (project / "data" / "training" / "train.csv").read_text().split()
    (source / "features.csv").write_text("".join(row.split(",", 1)[1] + "\n" for row in rows))
    shutil.copy(project / "data" / "payload.csv", source)
    report = transform(tag, model=tmp_path / "model" / "model.tar.gz", input=source, output=tmp_path / "out",
                       settings=TransformSettings(split_type="Line", batch_strategy="MultiRecord",
                                                  assemble_with="Line", content_type="text/csv", accept="text/csv"))
    assert report.ok, report.to_json()
    ours = {path.name: path.read_bytes() for path in sorted((tmp_path / "out").glob("*.out"))}
    theirs = {path.name: path.read_bytes() for path in sorted(TRANSFORM_RESULTS.glob("*.out"))}
    assert sorted(ours) == ["features.csv.out", "payload.csv.out"] and ours == theirs
