"""A real client: the SageMaker Python SDK 2.x local mode trains, deploys and predicts with our images, offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compat import sdk_local

pytestmark = pytest.mark.slow
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "byoc"


@pytest.fixture(scope="module")
def byoc_image(module_image) -> str:
    files = {name: (EXAMPLE / name).read_text() for name in ("train", "serve")}
    return module_image((EXAMPLE / "Dockerfile").read_text().replace("ARG BASE=imagekit/base:bookworm",
                                                                     "ARG BASE={base}"), files)


def test_byoc_example_fits_deploys_and_predicts_under_sdk_local_mode(byoc_image: str, tmp_path: Path) -> None:
    data = tmp_path / "train"
    data.mkdir()
    (data / "rows.csv").write_text("1,2\n3,4\n5,6\n")
    payload = tmp_path / "payload.csv"
    payload.write_text("1,2\n")
    result = sdk_local.run(byoc_image, data, payload, "text/csv", {"epochs": "2"})
    assert '"train": 3' in result["prediction"] and '"epochs": "2"' in result["prediction"]


def test_sklearn_scaffold_fits_deploys_and_predicts_under_sdk_local_mode(sklearn_scaffold, tmp_path: Path) -> None:
    """What `imagekit new --framework sklearn` generates works with the SDK unchanged: CSV in, labels out."""
    tag, project = sklearn_scaffold
    result = sdk_local.run(tag, project / "data" / "training", project / "data" / "payload.csv", "text/csv",
                           {"max-leaf-nodes": "8"}, channel="training")
    predictions = json.loads(result["prediction"])["predictions"]
    labels = [int(row.split(",")[0]) for row in (project / "data" / "training" / "train.csv").read_text().split()[:3]]
    assert predictions == labels


def test_smoke_transform_writes_what_sdk_local_mode_transformer_writes(sklearn_scaffold, tmp_path: Path) -> None:
    """The same model, input and job settings: `smoke transform` and 2.x's LocalTransformer write identical
    .out files (Line split, MultiRecord, AssembleWith Line, CSV in and out)."""
    from imagekit import smoke
    from imagekit.smoke.transform import TransformSettings, transform

    tag, project = sklearn_scaffold
    trained = smoke.train(tag, data={"training": project / "data" / "training"}, output=tmp_path / "model")
    assert trained.ok, trained.to_json()
    model = tmp_path / "model" / "model.tar.gz"
    source = tmp_path / "in"  # top-level files only: 2.x local mode reads no subdirectories (S3 prefixes do)
    source.mkdir()
    rows = [line.split(",", 1)[1] for line in (project / "data" / "training" / "train.csv").read_text().split()]
    (source / "features.csv").write_text("".join(f"{row}\n" for row in rows))
    (source / "payload.csv").write_bytes((project / "data" / "payload.csv").read_bytes())
    job = {"content_type": "text/csv", "accept": "text/csv", "split_type": "Line", "assemble_with": "Line"}
    sdk_local.run_transform(tag, model, source, tmp_path / "sdk", strategy="MultiRecord", **job)
    report = transform(tag, model=model, input=source, output=tmp_path / "imagekit",
                       settings=TransformSettings(batch_strategy="MultiRecord", **job))
    assert report.ok, report.to_json()
    ours = {p.relative_to(tmp_path / "imagekit"): p.read_bytes() for p in (tmp_path / "imagekit").rglob("*.out")}
    theirs = {p.relative_to(tmp_path / "sdk"): p.read_bytes() for p in (tmp_path / "sdk").rglob("*.out")}
    assert sorted(map(str, ours)) == ["features.csv.out", "payload.csv.out"]
    assert ours == theirs
