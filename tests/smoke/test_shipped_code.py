"""`imagekit smoke train --source-dir DIR --entry-point FILE` ships code the way SDK local mode does."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from imagekit import smoke
from imagekit.errors import ImagekitError

ENTRY = """import json, os, sys
from pathlib import Path
seen = {"argv": sys.argv[1:], "cwd": os.getcwd(), "program": os.environ["SM_USER_ENTRY_POINT"],
        "module_dir": os.environ["SM_MODULE_DIR"], "hps": json.loads(os.environ["SM_HPS"])}
(Path(os.environ["SM_MODEL_DIR"]) / "seen.json").write_text(json.dumps(seen))
"""


def test_the_image_runs_the_shipped_entry_point_instead_of_its_own(sklearn_scaffold, tmp_path: Path) -> None:
    tag, _ = sklearn_scaffold
    source = tmp_path / "src"
    (source / "jobs").mkdir(parents=True)
    (source / "jobs" / "fit.py").write_text(ENTRY)
    report = smoke.train(tag, hyperparameters={"epochs": "2"}, output=tmp_path / "out", source_dir=source,
                         entry_point="jobs/fit.py")
    assert report.ok, report.to_json()
    with tarfile.open(tmp_path / "out" / "model.tar.gz") as archive:
        seen = json.load(archive.extractfile("seen.json"))
    assert seen == {"argv": ["--epochs", "2"], "cwd": "/opt/ml/code", "program": "jobs/fit.py",
                    "module_dir": "/opt/ml/code", "hps": {"epochs": 2}}


@pytest.mark.parametrize("source_dir, entry_point, message", [
    ("src", None, "go together"), ("missing", "train.py", "is not a directory"),
    ("src", "nope.py", "is not a file inside"), ("src", "../escape.py", "is not a file inside")])
def test_bad_source_dir_or_entry_point_is_refused_before_the_engine(tmp_path, monkeypatch, source_dir, entry_point,
                                                                      message) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "escape.py").write_text("")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ImagekitError, match=message):
        smoke.train("imagekit-test/never-asked:latest", source_dir=source_dir, entry_point=entry_point)
