"""`smoke serve --variant`: each variant gets serve's own checks, errors through the router fail the run, and bad
input (weights, an IMAGE besides --variant, malformed references, unwritable report paths) is refused up front."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from imagekit import engine
from imagekit.errors import ImagekitError
from imagekit.smoke.report import Report
from imagekit.smoke.variants import parse_variant, serve_variants

from .test_smoke import SERVE, TRAIN

RUN = [sys.executable, "-m", "imagekit", "smoke"]


@pytest.fixture(scope="module")
def image(module_image) -> str:
    return module_image("FROM {base}\nCOPY train serve /usr/local/bin/\n", {"train": TRAIN, "serve": SERVE})


def _variants(image: str) -> list:
    return [parse_variant(f"blue={image}:3"), parse_variant(f"green={image}:1")]


def test_each_variant_gets_the_invocation_and_sigterm_checks(image: str) -> None:
    report = serve_variants(_variants(image), requests=40, startup_timeout=30, stop_grace=5)
    assert report.ok, report.to_json()
    assert [c.name for c in report.checks] == [
        "variants.blue.ready", "variants.green.ready", "variants.blue.invocations", "variants.green.invocations",
        "variants.split", "variants.target-header", "variants.weight-update", "variants.errors",
        "variants.blue.sigterm", "variants.green.sigterm"]


def test_a_response_in_another_type_than_accept_fails_each_variant(image: str) -> None:
    report = serve_variants(_variants(image), accept="text/csv", requests=20, startup_timeout=30, stop_grace=5)
    assert report.failed() == ["variants.blue.invocations", "variants.green.invocations"], report.to_json()
    assert "Accept: text/csv" in report.checks[2].detail


def test_a_variant_that_ignores_sigterm_gets_its_own_warning(image: str) -> None:
    report = serve_variants(_variants(image), env={"MODE": "ignore-sigterm"}, requests=20, startup_timeout=30,
                            stop_grace=1)
    assert report.failed() == [], report.to_json()  # a warning: it works on the platform, but risky
    assert report.warnings() == ["variants.blue.sigterm", "variants.green.sigterm"], report.to_json()


def test_every_request_failing_through_the_router_fails_the_run(image: str) -> None:
    """The reviewer's case: exit 0 and "ok": true although the metrics showed 5XX errors for every request."""
    run = subprocess.run([*RUN, "serve", "--variant", f"blue={image}:1", "--variant", f"green={image}:1",
                          "--env", "MODE=invocations-500", "--requests", "20", "--json"],
                         capture_output=True, text=True)
    assert run.returncode == 1, run.stderr
    report = json.loads(run.stdout)
    assert report["ok"] is False
    failed = [c for c in report["checks"] if not c["ok"]]
    assert [c["name"] for c in failed] == ["variants.blue.invocations", "variants.green.invocations",
                                           "variants.errors"]
    assert "answered 500" in failed[0]["detail"]
    assert "40 of 40 requests through the router did not answer 2xx" in failed[2]["detail"]
    assert "ModelError: the container answered 500" in failed[2]["detail"]
    assert report["variants"]["blue"]["Invocation5XXErrors"] == report["variants"]["blue"]["Invocations"] > 0
    table = run.stderr[run.stderr.index("production variants"):]  # the live view's table ends the run
    assert "blue" in table and "green" in table and "100.0%" in table  # every request a 5XX


# --- refused before the engine is asked: DOCKER_HOST points nowhere, so any engine call would say so -------------


@pytest.mark.parametrize("args, message", [
    (["serve", "--variant", "blue=my-model:v1:0"], "Every variant has weight 0"),
    (["serve", "--variant", "blue=my-model:v1:0", "--variant", "green=my-model:v2:0"], "Every variant has weight 0"),
    (["serve", "my-model:v1", "--variant", "blue=my-model:v1:1"], "both an IMAGE (my-model:v1) and --variant"),
    (["serve", "--variant", "blue=my-model:v1:1", "--requests", "-1"], "requests must be at least 1"),
    (["serve", "--variant", "blue=my-model:v1:nan"], "is not NAME=IMAGE:WEIGHT"),
    (["serve", "--variant", "blue=Review-A/Bad Name:1"], "'Review-A/Bad Name' is not a valid image reference"),
    (["serve", "Review-A/Bad Name"], "'Review-A/Bad Name' is not a valid image reference"),
    (["train", "Review-A/Bad Name"], "'Review-A/Bad Name' is not a valid image reference"),
    (["train", "my-model:v1", "--hp", "epochs"], "For example: --hp epochs=3."),
    (["train", "my-model:v1", "--env", "FOO"], "For example: --env KEY=VALUE."),
    (["train", "my-model:v1", "--data", "data/train"], "For example: --data train=data/train."),
    (["train", "my-model:v1", "--hp-file", "nope.json"], "Hyperparameter file nope.json does not exist."),
    (["train", "my-model:v1", "--hp-file", "{tmp}"], "Cannot read hyperparameter file"),
    (["train", "my-model:v1", "--junit", "{tmp}"], "is a directory"),
    (["train", "my-model:v1", "--junit", "{tmp}/a-file/junit.xml"], "cannot create its directory"),
    (["serve", "--variant", "blue=my-model:v1:1", "--junit", "{tmp}/a-file/junit.xml"], "cannot create its directory"),
    (["train", "my-model:v1", "--output", "{tmp}/a-file/out"], "--output {tmp}/a-file/out cannot be created"),
], ids=["lone-weight-0", "all-weights-0", "image-and-variant", "requests", "nan-weight", "variant-reference",
        "serve-reference", "train-reference", "hp-example", "env-example", "data-example", "hp-file-missing",
        "hp-file-directory", "junit-directory", "junit-uncreatable", "variant-junit-uncreatable",
        "output-uncreatable"])
def test_bad_input_is_exit_2_before_the_engine_is_asked(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    args = [arg.replace("{tmp}", str(tmp_path)) for arg in args]
    run = subprocess.run([*RUN, *args], capture_output=True, text=True, cwd=tmp_path,
                         env={**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"})
    assert run.returncode == 2, run.stdout + run.stderr
    error = " ".join(run.stderr.split())  # the paragraph is wrapped
    assert message.replace("{tmp}", str(tmp_path)) in error
    assert "Traceback" not in run.stderr and "Errno" not in run.stderr and "No Docker engine" not in run.stderr
    assert "train=data/train" not in error or "--data" in args


def test_the_junit_directory_is_created_and_a_write_error_is_an_imagekit_error(tmp_path: Path) -> None:
    report = Report("img")
    report.check("serve.ready", True, "fine")
    report.write_junit(tmp_path / "reports" / "ci" / "smoke.xml")
    assert "<testsuite" in (tmp_path / "reports" / "ci" / "smoke.xml").read_text()
    (tmp_path / "a-file").write_text("")
    with pytest.raises(ImagekitError, match="Cannot write the JUnit report") as error:
        report.write_junit(tmp_path / "a-file" / "smoke.xml")
    assert error.value.exit_code == 2


def test_image_references_are_checked_with_builds_grammar() -> None:
    from imagekit import build

    assert build.IMAGE_REFERENCE is engine.IMAGE_REFERENCE
    for good in ("iris", "work-c/iris:v1", "localhost:5000/team/iris:1.0", "sha256:" + "a" * 64,
                 "iris@sha256:" + "b" * 64, "iris:1@sha256:" + "c" * 64):
        assert engine.check_reference(good) == good
    for bad in ("Review-A/Bad Name", "iris:", "iris@nope", "UPPER", ""):
        with pytest.raises(ImagekitError, match="not a valid image reference"):
            engine.check_reference(bad)


def test_a_variant_that_gave_no_answer_is_not_said_to_have_answered_0() -> None:
    from imagekit.smoke.variants import _Answer, _describe

    body = json.dumps({"ErrorCode": "INTERNAL_FAILURE_FROM_MODEL", "OriginalStatusCode": 0, "OriginalMessage": ""})
    assert _describe(_Answer("a", 424, body.encode())) == \
        "424 ModelError: the container gave no answer (it timed out, hung up or exited)"
