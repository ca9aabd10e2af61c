"""`imagekit smoke transform` on the sklearn scaffold: the .out files a batch transform job writes, and the
checks that name a handler dropping records, a record over the payload limit, a non-200, a timeout and an
/execution-parameters answer over the limits."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from imagekit import smoke
from imagekit.smoke.dataprocessing import DataProcessing
from imagekit.smoke.records import frame_recordio, frame_tfrecord
from imagekit.smoke.transform import TransformSettings, transform

LINE_MULTI = TransformSettings(split_type="Line", batch_strategy="MultiRecord", assemble_with="Line",
                               content_type="text/csv", accept="text/csv")
# Wraps the scaffold's handler (shipped in model.tar.gz as code/inference.py, which the runtime prefers): a body
# with a "9.99" row loses its last prediction, one with a "7.77" row sleeps past the test's invocation timeout.
BROKEN_HANDLER = '''
import sys, time
sys.path.insert(0, "/opt/ml/code")
import importlib.util
spec = importlib.util.spec_from_file_location("scaffold", "/opt/ml/code/inference.py")
scaffold = importlib.util.module_from_spec(spec)
spec.loader.exec_module(scaffold)
model_fn, input_fn, output_fn = scaffold.model_fn, scaffold.input_fn, scaffold.output_fn


def predict_fn(rows, model):
    if any(9.99 in row for row in rows):
        return scaffold.predict_fn(rows, model)[:-1]
    if any(7.77 in row for row in rows):
        time.sleep(30)
    return scaffold.predict_fn(rows, model)
'''


BINARY = "application/octet-stream"
ECHO_HANDLER = '''
def model_fn(model_dir):
    return None


def transform_fn(model, body, content_type, accept):
    return body, "application/octet-stream"
'''


# Echoes the body; a body holding "fail" k times fails its first k attempts (counted in the container's /tmp,
# which every worker process shares).
FLAKY_HANDLER = '''
import hashlib, os


def model_fn(model_dir):
    return None


def transform_fn(model, body, content_type, accept):
    marker = "/tmp/attempts-" + hashlib.sha256(body).hexdigest()
    attempt = (int(open(marker).read()) if os.path.exists(marker) else 0) + 1
    with open(marker, "w") as out:
        out.write(str(attempt))
    if attempt <= body.count(b"fail"):
        raise RuntimeError(f"attempt {attempt} fails")
    return body, "application/octet-stream"
'''


def with_handler(model: Path, handler: str, target: Path) -> Path:
    """*model* with code/inference.py replaced by *handler* (the runtime prefers the model's own code, as the
    toolkit does)."""
    with tarfile.open(model) as original, tarfile.open(target, "w:gz") as archive:
        for member in original.getmembers():
            archive.addfile(member, original.extractfile(member) if member.isfile() else None)
        body = handler.encode()
        info = tarfile.TarInfo("code/inference.py")
        info.size = len(body)
        archive.addfile(info, io.BytesIO(body))
    return target


@pytest.fixture(scope="module")
def trained(sklearn_scaffold, tmp_path_factory) -> tuple[str, Path, Path]:
    """(image, project, model.tar.gz) of the scaffold trained on its sample data."""
    tag, project = sklearn_scaffold
    out = tmp_path_factory.mktemp("transform-model")
    report = smoke.train(tag, data={"training": project / "data" / "training"}, output=out)
    assert report.ok, report.to_json()
    return tag, project, out / "model.tar.gz"


def features(project: Path, target: Path, rows: slice = slice(None)) -> Path:
    """The sample data's feature columns (the label dropped) as transform input: one file and one in a subdir."""
    lines = [line.split(",", 1)[1] for line in (project / "data" / "training" / "train.csv").read_text().split()]
    (target / "nested").mkdir(parents=True)
    (target / "features.csv").write_text("".join(f"{line}\n" for line in lines[rows]))
    (target / "nested" / "few.csv").write_text("".join(f"{line}\n" for line in lines[:3]))
    return target


def expected_labels(project: Path, rows: slice = slice(None)) -> list[str]:
    return [line.split(",", 1)[0] for line in (project / "data" / "training" / "train.csv").read_text().split()][rows]


def test_line_multirecord_writes_one_answer_per_file_with_a_newline_after_it(trained, tmp_path: Path) -> None:
    tag, project, model = trained
    source = features(project, tmp_path / "in")
    report = transform(tag, model=model, input=source, output=tmp_path / "out", settings=LINE_MULTI)
    assert report.ok, report.to_json()
    labels = expected_labels(project)
    # One request per file (the sample fits in 6 MB); the scaffold answers a label per line; AssembleWith Line
    # adds the newline after each answer: the bytes SageMaker and SDK local mode write.
    assert (tmp_path / "out" / "features.csv.out").read_text() == "".join(f"{x}\n" for x in labels) + "\n"
    assert (tmp_path / "out" / "nested" / "few.csv.out").read_text() == "".join(f"{x}\n" for x in labels[:3]) + "\n"
    data = report.to_dict()["transform"]
    assert data["effective"]["sources"]["batch_strategy"] == "job" and data["requests"] == 2


def test_join_and_filters_keep_the_id_column_beside_the_prediction(trained, tmp_path: Path) -> None:
    tag, project, model = trained
    source = tmp_path / "in"
    source.mkdir()
    (source / "rows.csv").write_text((project / "data" / "training" / "train.csv").read_text())
    settings = TransformSettings(split_type="Line", assemble_with="Line", content_type="text/csv",
                                 accept="text/csv", max_payload_mb=1, max_concurrent=2,
                                 processing=DataProcessing(input_filter="$[1:]", join_source="Input",
                                                           output_filter="$[0,-1]"))
    report = transform(tag, model=model, input=source, output=tmp_path / "out", settings=settings)
    assert report.ok, report.to_json()
    pairs = [line.split(",") for line in (tmp_path / "out" / "rows.csv.out").read_text().splitlines()]
    assert pairs and all(label == predicted for label, predicted in pairs)  # the scaffold fits its sample


def test_a_handler_that_drops_records_and_one_that_hangs_are_named(trained, tmp_path: Path) -> None:
    tag, project, model = trained
    broken = with_handler(model, BROKEN_HANDLER, tmp_path / "broken.tar.gz")
    source = features(project, tmp_path / "in", slice(0, 10))
    (source / "drops.csv").write_text("1.0,1.0,1.0,1.0\n9.99,1.0,1.0,1.0\n2.0,2.0,2.0,2.0\n")
    (source / "hangs.csv").write_text("7.77,1.0,1.0,1.0\n")
    settings = TransformSettings(split_type="Line", batch_strategy="MultiRecord", assemble_with="Line",
                                 content_type="text/csv", accept="text/csv", invocation_timeout=3, max_retries=1)
    report = transform(tag, model=broken, input=source,
                       output=tmp_path / "out", settings=settings)
    checks = {check.name: check for check in report.checks}
    assert not checks["transform.records"].ok
    assert "drops.csv records 1-3: 3 record(s) sent, 2 line(s) back" in checks["transform.records"].detail
    assert not checks["transform.timeout"].ok and "hangs.csv record 1: no answer within 3 s (2 attempts)" in \
        checks["transform.timeout"].detail
    assert checks["transform.invocations"].ok
    assert (tmp_path / "out" / "features.csv.out").is_file() and not (tmp_path / "out" / "hangs.csv.out").exists()
    assert report.failed() == ["transform.timeout", "transform.records", "transform.output"]


def test_binary_records_travel_bare_one_by_one_and_framed_in_batches(trained, tmp_path: Path) -> None:
    """An echoing handler shows the bodies: SingleRecord sends a TFRecord's data alone, MultiRecord whole framed
    records; RecordIO the same; a corrupt CRC is named with its file and record."""
    tag, _, model = trained
    echo = with_handler(model, ECHO_HANDLER, tmp_path / "echo.tar.gz")
    source = tmp_path / "in"
    source.mkdir()
    (source / "a.tfrecord").write_bytes(frame_tfrecord(b"first") + frame_tfrecord(b"second"))
    corrupt = bytearray(frame_tfrecord(b"ok") + frame_tfrecord(b"bad"))
    corrupt[-1] ^= 0xFF
    (source / "b.tfrecord").write_bytes(bytes(corrupt))
    single = transform(tag, model=echo, input=source, output=tmp_path / "single", settings=TransformSettings(
        split_type="TFRecord", batch_strategy="SingleRecord", assemble_with="Line", content_type=BINARY))
    assert (tmp_path / "single" / "a.tfrecord.out").read_bytes() == b"first\nsecond\n"
    split_check = next(c for c in single.checks if c.name == "transform.split")
    assert not split_check.ok and "b.tfrecord: record 2" in split_check.detail and "CRC" in split_check.detail
    (source / "b.tfrecord").unlink()
    (source / "c.recordio").write_bytes(frame_recordio(b"abcde") + frame_recordio(b"xy"))
    multi = transform(tag, model=echo, input=source, output=tmp_path / "multi", settings=TransformSettings(
        split_type="RecordIO", batch_strategy="MultiRecord", content_type=BINARY))
    assert multi.failed() == ["transform.split", "transform.output"]  # a.tfrecord is not RecordIO
    assert (tmp_path / "multi" / "c.recordio.out").read_bytes() == frame_recordio(b"abcde") + frame_recordio(b"xy")


def test_gzipped_input_is_split_after_decompression_and_flaky_requests_are_retried(trained, tmp_path: Path) -> None:
    tag, _, model = trained
    flaky = with_handler(model, FLAKY_HANDLER, tmp_path / "flaky.tar.gz")
    source = tmp_path / "in"
    source.mkdir()
    (source / "a.txt.gz").write_bytes(gzip.compress(b"ok\nfail\n") + gzip.compress(b"fail fail\n"))
    (source / "b.txt.gz").write_bytes(gzip.compress(b"fail fail fail\n"))
    settings = TransformSettings(split_type="Line", batch_strategy="SingleRecord", content_type=BINARY,
                                 compression="Gzip", max_retries=2)
    report = transform(tag, model=flaky, input=source, output=tmp_path / "out", settings=settings)
    assert (tmp_path / "out" / "a.txt.gz.out").read_bytes() == b"ok\nfail\nfail fail\n"  # AssembleWith None
    checks = {check.name: check for check in report.checks}
    assert "b.txt.gz record 1 (15 bytes): 500" in checks["transform.invocations"].detail
    assert "(3 attempts)" in checks["transform.invocations"].detail
    assert checks["transform.retries"].detail.startswith(
        "a.txt.gz record 2: 1 retry; a.txt.gz record 3: 2 retries. These")
    assert report.failed() == ["transform.invocations", "transform.output"]  # transform.retries is a warning


def test_a_record_over_the_limit_a_non_200_and_greedy_execution_parameters_fail(trained, tmp_path: Path) -> None:
    tag, project, model = trained
    source = features(project, tmp_path / "in", slice(0, 5))
    (source / "big.csv").write_text("1,2,3,4\n" + "5," * 600_000 + "6\n")  # record 2: 1.2 MB
    settings = TransformSettings(split_type="Line", assemble_with="Line", content_type="application/json",
                                 accept="text/csv", max_payload_mb=1)
    report = transform(tag, model=model, input=source, output=tmp_path / "out", settings=settings,
                       env={"SAGEMAKER_MAX_CONCURRENT_TRANSFORMS": "120"})
    checks = {check.name: check for check in report.checks}
    assert "big.csv record 2 is 1200002 bytes, over MaxPayloadInMB 1" in checks["transform.payload-limit"].detail
    # CSV rows sent as application/json: the scaffold's input_fn cannot parse them and the runtime answers 500
    # Both requests are in flight at once (MaxConcurrentTransforms 120): the first to fail every attempt fails the
    # job, and the other is not sent again
    invocations = checks["transform.invocations"].detail
    assert "500" in invocations and ("features.csv records 1-5" in invocations or "big.csv record 1" in invocations)
    assert "MaxConcurrentTransforms 120 x MaxPayloadInMB 1 = 120 MB" in \
        checks["transform.execution-parameters"].detail
    assert not report.ok and not list((tmp_path / "out").rglob("*.out"))


def test_the_cli_writes_json_and_junit_reports(trained, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from imagekit.cli import app

    tag, project, model = trained
    source = features(project, tmp_path / "in", slice(0, 4))
    result = CliRunner().invoke(app, ["smoke", "transform", tag, "--model", str(model), "--input", str(source),
                                      "--output", str(tmp_path / "out"), "--split-type", "Line",
                                      "--batch-strategy", "MultiRecord", "--assemble-with", "Line",
                                      "--content-type", "text/csv", "--accept", "text/csv", "--json", "--quiet",
                                      "--junit", str(tmp_path / "junit.xml")])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["ok"] and document["transform"]["written"] == ["features.csv", "nested/few.csv"]
    assert 'name="transform.records"' in (tmp_path / "junit.xml").read_text()


def test_bad_settings_are_refused_before_the_engine_is_asked(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_text("1\n")
    for extra, said in ((["--output", str(tmp_path / "in" / "out")], "inside --input"),
                        (["--output", str(tmp_path / "out"), "--max-payload", "101"], "0-100 MB"),
                        (["--output", str(tmp_path / "out"), "--max-retries", "4"], "InvocationsMaxRetries"),
                        (["--output", str(tmp_path / "out"), "--compression", "Gzip"], "is not valid gzip"),
                        (["--output", str(tmp_path / "out"), "--input-filter", "$..a", "--split-type", "Line",
                          "--assemble-with", "Line"], "not a JSONPath")):
        done = subprocess.run([sys.executable, "-m", "imagekit", "smoke", "transform", "no-such-image:latest",
                               "--input", str(tmp_path / "in"), *extra], capture_output=True, text=True, timeout=60)
        paragraph = " ".join(done.stderr.split())  # the CLI wraps it to the terminal's width
        assert done.returncode == 2 and said in paragraph and "Traceback" not in done.stderr, done.stderr


def test_smoke_all_adds_a_transform_step_with_the_trained_model(sklearn_scaffold, tmp_path: Path) -> None:
    tag, project = sklearn_scaffold
    source = features(project, tmp_path / "in", slice(0, 6))
    report = smoke.run_all(tag, data={"training": project / "data" / "training"},
                           payloads=[project / "data" / "payload.csv"], content_type="text/csv", accept="text/csv",
                           transform_input=source, transform_output=tmp_path / "out")
    assert report.ok, report.to_json()
    assert {"serve.invocations", "transform.records", "transform.output"} <= {c.name for c in report.checks}
    assert (tmp_path / "out" / "features.csv.out").read_text() == \
        "".join(f"{x}\n" for x in expected_labels(project, slice(0, 6))) + "\n"


# A server that answers /ping, then dies on its first POST /invocations: the container exits with code 3.
CRASHING_SERVE = r'''#!/usr/bin/env python3
import os
from http.server import BaseHTTPRequestHandler, HTTPServer
class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/ping" else 404); self.send_header("Content-Length", "0")
        self.end_headers()
    def do_POST(self):
        print("RuntimeError: crashing on invocation", flush=True)
        os._exit(3)
HTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
'''


def test_a_serve_that_dies_on_its_first_request_is_named_and_nothing_more_is_sent(module_image,
                                                                                   tmp_path: Path) -> None:
    """review-smoke2 F13 on a real engine: the reset connection is followed by the exit the engine records."""
    image = module_image("FROM {base}\nCOPY serve /usr/local/bin/serve\n", {"serve": CRASHING_SERVE})
    source = tmp_path / "in"
    source.mkdir()
    for name in ("f1.csv", "f2.csv", "f3.csv"):
        (source / name).write_text("1,2\n")
    report = transform(image, model=None, input=source, output=tmp_path / "out",
                       settings=TransformSettings(split_type="Line", content_type="text/csv"))
    checks = {check.name: check for check in report.checks}
    assert checks["transform.invocations"].detail.startswith(
        "serve exited with code 3 while answering f1.csv record 1: its program failed; the log says: RuntimeError: "
        "crashing on invocation"), checks["transform.invocations"].detail
    assert "2 request(s) were not sent" in checks["transform.output"].detail
    assert report.data["transform"]["requests"] == 1
    assert report.failed() == ["transform.invocations", "transform.output"]
