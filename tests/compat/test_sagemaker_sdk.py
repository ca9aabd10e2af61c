"""A real client: the SageMaker Python SDK 2.x local mode trains, deploys and predicts with our images, offline."""

from __future__ import annotations

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
