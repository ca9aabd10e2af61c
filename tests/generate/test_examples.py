"""The CPU examples build on the local base (no registry) and pass `imagekit smoke all` with their sample data."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from imagekit.build import build

pytestmark = pytest.mark.slow
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("example", ["sklearn-cpu", "xgboost-cpu", "custom"])
def test_cpu_example_builds_and_passes_smoke(example: str, base_image: str) -> None:
    from imagekit import engine
    from imagekit.smoke.training import run_all

    project = EXAMPLES / example
    tag = f"imagekit-test/{example}-{uuid.uuid4().hex[:8]}:latest"
    try:
        result = build(project, tag=tag, wheelhouse=True, base=base_image, log=lambda line: None)
        assert result.size_bytes > 0
        report = run_all(tag, data={"training": project / "data" / "training"},
                         payloads=[project / "data" / "payload.csv"], content_type="text/csv")
        assert report.ok, report.failed()
        # custom declares multi_models: its serve answers the /models API of a multi-model endpoint too
        assert ("serve.multi-model" in [c.name for c in report.checks]) == (example == "custom")
    finally:
        engine.remove_image(tag)
