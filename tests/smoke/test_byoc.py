"""AWS's two public bring-your-own-container examples, rebuilt from Debian packages, and the ways users break them.

The scikit-learn "decision_trees" container (nginx + gunicorn + flask) and the R/plumber one live under byoc/
(see their Dockerfiles). The working ones get the platform's verdict: R passes with one warning (plumber as PID 1
ignores SIGTERM), scikit fails only its body limit (its nginx caps bodies at 5 MB). Each broken variant is a small
layer on the scikit image and must fail the right check with its cause named, within BROKEN_VERDICT_S.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import pickle
import time
from pathlib import Path

import pytest

import image_cache
from imagekit import smoke

pytestmark = pytest.mark.slow
HERE = Path(__file__).parent / "byoc"
BROKEN_VERDICT_S = 15.0  # the bound for naming a broken case (slow load aside)
# A server that stays up is waited for until the window ends, as SageMaker does: broken cases that do not exit get
# a short window, so their cause is still named within BROKEN_VERDICT_S.
BROKEN_WINDOW_S = 8.0
STOP_GRACE_S = 3.0  # plumber ignores SIGTERM: do not wait the platform's 30 s for it
CSV = "text/csv"


# Built images are kept as `docker save` archives (tests/image_cache.py): apt-installing scikit-learn on a fresh
# engine (as CI's is) takes about two minutes, loading the archive a fraction of that. The key covers everything the
# build reads.
IMAGE_CACHE = image_cache.CACHE_ROOT / "imagekit-test-byoc"


def _build(module_image, name: str) -> str:
    """The example's image: loaded from IMAGE_CACHE when its inputs are unchanged, else built and cached."""
    from imagekit import engine

    folder = HERE / name
    files = {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.name != "Dockerfile"}
    dockerfile = (folder / "Dockerfile").read_text()
    recipe = image_cache.base_recipe(module_image.base)
    digest = hashlib.sha256(repr((dockerfile, files, recipe)).encode()).hexdigest()[:16]
    archive = IMAGE_CACHE / f"{name}-{digest}.tar"
    tag = f"imagekit-test/byoc-{name}:{digest}"
    module_image.tags.append(tag)  # removed with the module's other images
    image_cache.load(archive)
    if engine.inspect_image(tag):
        return tag
    built = module_image(dockerfile, files)
    engine.connect().api.tag(built, *tag.split(":"))
    image_cache.save(tag, archive, f"{name}-*.tar")
    return tag


@pytest.fixture(scope="module")
def sklearn_image(module_image) -> str:
    return _build(module_image, "sklearn")


@pytest.fixture(scope="module")
def broken(module_image, sklearn_image):
    """A variant of the scikit image: one RUN line on top of it."""
    def variant(run: str) -> str:
        return module_image(f"FROM {sklearn_image}\nRUN {run}\n")
    return variant


@pytest.fixture()
def iris(tmp_path: Path) -> dict:
    """The example's data layout: a `training` channel of CSV rows, the label first; a two-row CSV payload."""
    channel = tmp_path / "training"
    channel.mkdir()
    rows = [f"{['setosa', 'versicolor', 'virginica'][i % 3]},{i % 3}.1,{i % 3}.2,{i % 3}.3,{i % 3}.4"
            for i in range(30)]
    (channel / "iris.csv").write_text("\n".join(rows) + "\n")
    payload = tmp_path / "payload.csv"
    payload.write_text("1.1,1.2,1.3,1.4\n2.1,2.2,2.3,2.4\n")
    return {"data": {"training": channel}, "payloads": [payload], "content_type": CSV}


def _detail(report, name: str) -> str:
    return next(c.detail for c in report.checks if c.name == name)


def test_the_scikit_example_fails_only_its_body_limit_and_names_the_5mb_cap(sklearn_image: str, iris: dict) -> None:
    report = smoke.run_all(sklearn_image, **iris)
    assert report.failed() == ["serve.payload-limit"], report.to_json()
    assert report.warnings() == []
    detail = _detail(report, "serve.payload-limit")
    assert "6291456-byte (6 MB) body" in detail and "413" in detail
    assert "client_max_body_size 5m` in /opt/program/nginx.conf" in detail, detail


def test_the_r_example_passes_with_its_missing_sigterm_handler_as_a_warning(module_image, tmp_path: Path) -> None:
    image = _build(module_image, "r")
    channel = tmp_path / "train"
    channel.mkdir()
    (channel / "data.csv").write_text("x1,x2,y\n" + "".join(f"{i},{i % 7},{2 * i + i % 7}\n" for i in range(40)))
    payload = tmp_path / "payload.csv"
    payload.write_text("x1,x2\n3,3\n9,2\n")
    report = smoke.run_all(image, data={"train": channel}, hyperparameters={"target": "y"}, payloads=[payload],
                           content_type=CSV, stop_grace=STOP_GRACE_S)
    assert report.ok, report.to_json()
    assert report.warnings() == ["serve.sigterm"], report.to_json()
    assert "PID 1" in _detail(report, "serve.sigterm")
    report.fail_on = "warning"
    assert report.failed() == ["serve.sigterm"]


def _serve_broken(image: str, **options):
    started = time.monotonic()
    report = smoke.serve(image, stop_grace=STOP_GRACE_S, content_type=CSV, **options)
    return report, time.monotonic() - started


def _model(tmp_path: Path, content: bytes) -> Path:
    model = tmp_path / "model"
    model.mkdir()
    (model / "decision-tree-model.pkl").write_bytes(content)
    return model


@pytest.mark.parametrize("run, check, cause", [
    ("sed -i 's/listen 8080 deferred/listen 127.0.0.1:8080 deferred/' /opt/program/nginx.conf", "serve.ready",
     "it listens on 127.0.0.1:8080 only, the loopback interface"),
    ("sed -i 's/listen 8080 deferred/listen 5000 deferred/' /opt/program/nginx.conf", "serve.ready",
     "nothing listens on port 8080, but it listens on 5000"),
    ("sed -i 's/$/\\r/' /opt/program/serve", "serve.start", "/opt/program/serve has Windows (CRLF) line endings"),
    ("chmod 644 /opt/program/serve", "serve.start", "/opt/program/serve is not executable (mode 644)"),
], ids=["loopback", "wrong-port", "crlf", "not-executable"])
def test_a_broken_scikit_image_gets_its_cause_named_quickly(broken, tmp_path: Path, run: str, check: str,
                                                            cause: str) -> None:
    image = broken(run)
    report, seconds = _serve_broken(image, model=_model(tmp_path, pickle.dumps("any model")),
                                    startup_timeout=BROKEN_WINDOW_S)
    assert report.failed() == [check], report.to_json()
    assert cause in report.checks[0].detail, report.checks[0].detail
    assert seconds < BROKEN_VERDICT_S, seconds


def test_a_model_that_fails_to_load_is_named_from_the_ping_answer_and_the_log(sklearn_image: str,
                                                                             tmp_path: Path) -> None:
    report, seconds = _serve_broken(sklearn_image, model=_model(tmp_path, b"not a pickle"),
                                    startup_timeout=BROKEN_WINDOW_S)
    assert report.failed() == ["serve.ready"], report.to_json()
    detail = report.checks[0].detail
    assert "/ping answers 500" in detail and "UnpicklingError" in detail, detail
    assert seconds < BROKEN_VERDICT_S, seconds


def test_a_model_written_to_the_wrong_directory_fails_training_and_skips_serving(broken, iris: dict) -> None:
    image = broken("sed -i 's#MODEL_PATH = os.path.join(PREFIX, \"model\")#MODEL_PATH = \"/tmp\"#' "
                   "/opt/program/train")
    started = time.monotonic()
    report = smoke.run_all(image, **iris)
    assert report.failed() == ["train.model", "all.serve-skipped"], report.to_json()
    assert "/opt/ml/model" in _detail(report, "train.model")
    assert time.monotonic() - started < BROKEN_VERDICT_S


SLOW_IMPORT = ("sed -i '1i import os, time; time.sleep(float(os.environ.get(\"LOAD_S\", \"0\")))' "
               "/opt/program/predictor.py")


def test_a_slow_load_is_reported_as_still_loading_with_the_platform_window(broken, tmp_path: Path) -> None:
    image = broken(SLOW_IMPORT)
    report, _ = _serve_broken(image, model=_model(tmp_path, b""), env={"LOAD_S": "60"}, startup_timeout=6)
    assert report.failed() == ["serve.ready"], report.to_json()
    detail = report.checks[0].detail
    assert "still loading after" in detail and "SageMaker waits 240 s" in detail, detail
    assert "ContainerStartupHealthCheckTimeoutInSeconds" in detail


def test_workers_killed_by_their_own_timeout_are_named_as_a_restart_loop(broken, tmp_path: Path) -> None:
    image = broken(SLOW_IMPORT)
    report, seconds = _serve_broken(image, model=_model(tmp_path, b""),
                                    env={"LOAD_S": "8", "MODEL_SERVER_TIMEOUT": "1", "MODEL_SERVER_WORKERS": "1"},
                                    startup_timeout=BROKEN_WINDOW_S)
    assert report.failed() == ["serve.ready"], report.to_json()
    assert "workers are restarting in a loop" in report.checks[0].detail and "WORKER TIMEOUT" in \
        report.checks[0].detail, report.checks[0].detail
    assert seconds < BROKEN_VERDICT_S, seconds


def _burn(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_a_container_dying_at_start_is_its_own_failure_every_time_under_load(broken) -> None:
    """The port mapping used to be read after the container had died: an engine error, by luck of timing."""
    image = broken("sed -i 's/$/\\r/' /opt/program/serve")
    burners = [multiprocessing.Process(target=_burn, args=(60,)) for _ in range(2)]
    for burner in burners:
        burner.start()
    try:
        for _ in range(6):
            report, _ = _serve_broken(image)
            assert report.failed() == ["serve.start"], report.to_json()
            assert "exited with code 127" in report.checks[0].detail
    finally:
        for burner in burners:
            burner.terminate()
            burner.join()
