"""Batch transform's pure parts: record framing, batching, the data-processing JSONPaths and joins, the job's
settings and the /execution-parameters answer (no engine)."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import pytest

from imagekit import contract
from imagekit.errors import ImagekitError
from imagekit.smoke import records
from imagekit.smoke.dataprocessing import DataProcessing, RecordError, parse, select
from imagekit.smoke.records import (
    Batch,
    Record,
    SplitError,
    batches,
    crc32c,
    frame_recordio,
    frame_tfrecord,
    masked_crc32c,
    split,
)
from imagekit.smoke.transform import TransformSettings, _parse_parameters, answer_lines, transform


def test_line_split_keeps_each_line_end_and_a_last_line_without_one() -> None:
    records = list(split(b"1,2\n3,4\r\n5,6", "Line"))
    assert [r.payload for r in records] == [b"1,2\n", b"3,4\r\n", b"5,6"]
    assert [r.index for r in records] == [1, 2, 3]
    assert list(split(b"", "Line")) == []


def test_none_split_is_the_whole_file() -> None:
    assert list(split(b"a\nb\n", "None")) == [Record(1, b"a\nb\n", b"a\nb\n")]


def test_crc32c_is_castagnoli() -> None:
    assert crc32c(b"123456789") == 0xE3069283  # the standard check value
    assert masked_crc32c(b"") == ((0 >> 15 | 0 << 17) + 0xA282EAD8) & 0xFFFFFFFF


def bitwise_crc32c(data: bytes) -> int:
    """CRC-32C from its definition, one bit at a time (reflected polynomial 0x82F63B78)."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


@pytest.mark.parametrize("size", [1, 2047, 2048, 2049, 4099, 65_536 + 3])
def test_crc32c_of_long_data_matches_the_definition(size: int) -> None:
    data = bytes((i * 7919 + i // 251) & 0xFF for i in range(size))
    assert crc32c(data) == bitwise_crc32c(data)
    assert crc32c(b"\xff" * size) == bitwise_crc32c(b"\xff" * size)


def test_tfrecord_split_verifies_both_crcs_and_keeps_the_frame_for_multirecord() -> None:
    data = frame_tfrecord(b"first") + frame_tfrecord(b"second record")
    records = list(split(data, "TFRecord"))
    assert [r.payload for r in records] == [b"first", b"second record"]
    assert b"".join(r.framed for r in records) == data
    corrupt = bytearray(data)
    corrupt[len(frame_tfrecord(b"first")) + 12] ^= 0xFF  # a byte of the second record's data
    with pytest.raises(SplitError, match="record 2 .*data's CRC"):
        list(split(bytes(corrupt), "TFRecord"))
    bad_length = bytearray(data)
    bad_length[0] ^= 0x01
    with pytest.raises(SplitError, match="record 1 .*length's CRC"):
        list(split(bytes(bad_length), "TFRecord"))
    with pytest.raises(SplitError, match="trailing"):
        list(split(data + b"\0\0", "TFRecord"))


def test_recordio_split_pads_to_four_bytes_and_joins_multipart_records() -> None:
    data = frame_recordio(b"abcde") + frame_recordio(b"xy")
    records = list(split(data, "RecordIO"))
    assert [r.payload for r in records] == [b"abcde", b"xy"]
    assert len(records[0].framed) == 8 + 8 and b"".join(r.framed for r in records) == data
    magic = struct.pack("<I", 0xCED7230A)
    part = lambda flag, payload: struct.pack("<II", 0xCED7230A, flag << 29 | len(payload)) + payload  # noqa: E731
    multipart = part(1, b"abcd") + part(3, b"efgh")
    assert [r.payload for r in split(multipart, "RecordIO")] == [b"abcd" + magic + b"efgh"]
    with pytest.raises(SplitError, match="magic"):
        list(split(b"\0" * 8, "RecordIO"))
    with pytest.raises(SplitError, match="no end part"):
        list(split(part(1, b"abcd"), "RecordIO"))


def test_multirecord_fills_requests_up_to_the_limit_and_singlerecord_sends_payloads() -> None:
    records = list(split(b"aaa\nbbb\nccc\n", "Line"))
    assert list(batches(records, "MultiRecord", 8)) == [Batch(1, 2, b"aaa\nbbb\n"), Batch(3, 3, b"ccc\n")]
    assert list(batches(records, "MultiRecord", 0)) == [Batch(1, 3, b"aaa\nbbb\nccc\n")]
    assert [b.span for b in batches(records, "SingleRecord", 8)] == ["record 1", "record 2", "record 3"]
    framed = list(split(frame_tfrecord(b"x") + frame_tfrecord(b"y"), "TFRecord"))
    assert [b.body for b in batches(framed, "SingleRecord", 100)] == [b"x", b"y"]  # framing removed
    assert list(batches(framed, "MultiRecord", 100))[0].body == frame_tfrecord(b"x") + frame_tfrecord(b"y")


def test_a_record_over_the_limit_is_handed_back_alone() -> None:
    records = list(split(b"a\n" + b"x" * 20 + b"\nb\n", "Line"))
    out = list(batches(records, "MultiRecord", 10))
    assert out == [Batch(1, 1, b"a\n"), records[1], Batch(3, 3, b"b\n")]


@pytest.mark.parametrize(("expression", "value", "expected"), [
    ("$", [1, 2, 3], [1, 2, 3]),
    ("$[1:]", ["id", "5.1", "3.5"], ["5.1", "3.5"]),
    ("$[0,2]", ["a", "b", "c"], ["a", "c"]),
    ("$[0,5:]", list("abcdefg"), ["a", "f", "g"]),
    ("$[-1]", ["a", "b"], "b"),
    ("$[1:3]", list("abcd"), ["b", "c"]),
    ("$.features", {"id": 1, "features": [1, 2]}, [1, 2]),
    ("$.features[0]", {"features": [7, 8]}, 7),
    ("$['id','SageMakerOutput']", {"id": 1, "x": 2, "SageMakerOutput": 0}, {"id": 1, "SageMakerOutput": 0}),
    ("$[*]", {"a": 1, "b": 2}, [1, 2]),
    ("$.*", [4, 5], [4, 5]),
])
def test_jsonpath_subset_selects_as_the_platform_does(expression: str, value, expected) -> None:
    assert select(value, parse(expression, "--input-filter")) == expected


@pytest.mark.parametrize("expression", ["features", "$..a", "$[?(@.a)]", "$[a]", "$" + ".a" * 40])
def test_jsonpath_outside_the_subset_is_refused_naming_the_option(expression: str) -> None:
    with pytest.raises(ImagekitError, match="--output-filter"):
        parse(expression, "--output-filter")


def test_an_index_outside_the_record_is_a_record_error() -> None:
    with pytest.raises(RecordError, match="index 5 is outside the record's 2 column"):
        select(["a", "b"], parse("$[5]", "--input-filter"))
    with pytest.raises(RecordError, match="no key 'z'"):
        select({"a": 1}, parse("$.z", "--input-filter"))


def test_csv_join_appends_the_prediction_and_the_output_filter_picks_columns() -> None:
    processing = DataProcessing(input_filter="$[1:]", join_source="Input", output_filter="$[0,-1]")
    assert processing.model_input("id7,5.1,3.5", "text/csv") == "5.1,3.5"
    assert processing.output_line("id7,5.1,3.5", "2", "text/csv", "text/csv") == "id7,2"


def test_json_join_adds_sagemaker_output_or_wraps_a_non_object() -> None:
    joined = DataProcessing(join_source="Input")
    assert joined.output_line('{"id":1,"f":[1]}', "[0.5]", "application/jsonlines", "application/jsonlines") == \
        '{"id":1,"f":[1],"SageMakerOutput":[0.5]}'
    assert joined.output_line("[1,2]", "3", "application/json", "application/json") == \
        '{"SageMakerInput":[1,2],"SageMakerOutput":3}'
    assert DataProcessing(output_filter="$[0]").output_line("x", "[4,5]", "application/json",
                                                            "application/json") == "4"


def test_settings_refuse_what_create_transform_job_refuses() -> None:
    for bad in ({"split_type": "Lines"}, {"batch_strategy": "MULTI_RECORD"}, {"max_payload_mb": 101},
                {"max_concurrent": 0}, {"max_concurrent": 20, "max_payload_mb": 6}, {"assemble_with": "Newline"},
                {"invocation_timeout": 3601}, {"invocation_timeout": 0.5}, {"invocation_timeout": 2.5},
                {"max_retries": 4}, {"max_retries": -1}, {"compression": "gzip"},
                {"processing": DataProcessing(join_source="Input"), "split_type": "None", "assemble_with": "Line"},
                {"processing": DataProcessing(input_filter="$[1:]"), "split_type": "Line"}):
        with pytest.raises(ImagekitError):
            TransformSettings(**bad)
    settings = TransformSettings(batch_strategy="SingleRecord", max_payload_mb=2)
    assert settings.container_env() == {contract.ENV_BATCH: "true", contract.ENV_BATCH_STRATEGY: "SINGLE_RECORD",
                                        contract.ENV_MAX_PAYLOAD_IN_MB: "2"}


def test_execution_parameters_are_validated_against_the_limits() -> None:
    assert _parse_parameters(b'{"MaxConcurrentTransforms": 2, "BatchStrategy": "SINGLE_RECORD", '
                             b'"MaxPayloadInMB": 6}') == \
        ([], {"max_concurrent": 2, "batch_strategy": "SingleRecord", "max_payload_mb": 6})
    problems, _ = _parse_parameters(b'{"MaxConcurrentTransforms": 8, "BatchStrategy": "MultiRecord", '
                                    b'"MaxPayloadInMB": 200}')
    assert any("BatchStrategy 'MultiRecord'" in p for p in problems)
    assert any("MaxPayloadInMB 200 is outside" in p for p in problems)

    assert _parse_parameters(b'{"MaxConcurrentTransforms": 8, "MaxPayloadInMB": 6}')[0] == []  # 48 MB: fine
    assert _parse_parameters(b'{"MaxConcurrentTransforms": 30, "MaxPayloadInMB": 6}')[0] == \
        ["MaxConcurrentTransforms 30 x MaxPayloadInMB 6 = 180 MB, over the 100 MB a transform job allows"]
    assert _parse_parameters(b"not json")[0][0].startswith("not JSON")
    assert _parse_parameters(b"[1]")[0] == ["a JSON list, not an object"]


def test_answer_lines_counts_a_last_line_without_its_end() -> None:
    assert [answer_lines(a) for a in (b"", b"1\n2\n", b"1\n2", b"{}")] == [0, 2, 2, 1]


def test_container_concurrency_with_the_job_payload_over_100_mb_fails_the_check(monkeypatch) -> None:
    from imagekit.smoke import transform as module
    from imagekit.smoke.report import Report

    monkeypatch.setattr(module, "_request", lambda *a, **k: (200, {}, b'{"MaxConcurrentTransforms": 20, '
                                                                      b'"MaxPayloadInMB": 1}'))
    report = Report("image")
    effective = module._execution_parameters(report, 0, TransformSettings(max_payload_mb=10))
    assert (effective.max_concurrent, effective.max_payload_mb) == (20, 10)
    assert not report.checks[0].ok and "= 200 MB" in report.checks[0].detail
    report = Report("image")
    module._execution_parameters(report, 0, TransformSettings(max_payload_mb=5))
    assert report.checks[0].ok and "MaxConcurrentTransforms 20 (container)" in report.checks[0].detail


def test_gunzip_reads_every_member_and_names_what_is_wrong() -> None:
    assert records.gunzip(gzip.compress(b"1,2\n") + gzip.compress(b"3,4\n"), 100) == b"1,2\n3,4\n"
    whole = gzip.compress(b"x" * 1000)
    for broken, said in ((b"1,2\n", "Not a gzipped file"), (whole[:-6], "ended before"),
                         (whole[:-8] + b"\0\0\0\0" + whole[-4:], "CRC check failed")):
        with pytest.raises(records.CompressionError, match=said):
            records.gunzip(broken, 10_000)
    with pytest.raises(records.TooLarge):  # a bomb stops at the limit
        records.gunzip(gzip.compress(b"\0" * 100_000), 1000)


def test_a_gzip_input_that_is_corrupt_or_a_bomb_stops_the_job_before_the_engine_is_asked(tmp_path: Path,
                                                                                          monkeypatch) -> None:
    source = tmp_path / "in"
    (source / "day").mkdir(parents=True)
    (source / "day" / "good.csv.gz").write_bytes(gzip.compress(b"1,2\n" * 1000))
    (source / "day" / "plain.csv").write_bytes(b"1,2\n")
    settings = TransformSettings(split_type="Line", compression="Gzip")
    with pytest.raises(ImagekitError, match=r"plain\.csv is not valid gzip \(Not a gzipped file") as error:
        transform("no-such-image:latest", model=None, input=source, output=tmp_path / "out", settings=settings)
    assert "--compression Gzip" in error.value.hint
    (source / "day" / "plain.csv").unlink()
    monkeypatch.setattr(contract.Limits, "TRANSFORM_GUNZIP_BYTES", 1000)
    with pytest.raises(ImagekitError, match=r"good\.csv\.gz: what the gzip file expands to .*TRANSFORM_GUNZIP_BYTES"):
        transform("no-such-image:latest", model=None, input=source, output=tmp_path / "out", settings=settings)
    assert not (tmp_path / "out").exists()


def test_a_failed_request_is_sent_again_up_to_max_retries_and_the_report_names_it(tmp_path: Path,
                                                                                   monkeypatch) -> None:
    """A body holding "fail" k times fails its first k attempts (500, then a timeout); SingleRecord Line split."""
    from imagekit.smoke import transform as module
    from imagekit.smoke.report import Report

    attempts: dict[bytes, int] = {}

    def flaky(port, method, path, body=None, headers=None, timeout=0):
        attempts[body] = attempts.get(body, 0) + 1
        if attempts[body] <= body.count(b"fail"):
            if attempts[body] % 2:
                return 500, {}, b"flaky"
            raise TimeoutError
        return 200, {}, body.upper()

    monkeypatch.setattr(module, "_request", flaky)
    monkeypatch.setattr(module, "log_tail", lambda container: "(log)")
    source = tmp_path / "in"
    source.mkdir()
    (source / "a.txt").write_bytes(b"ok\nfail\nfail fail\n")
    (source / "b.txt").write_bytes(b"fail fail fail\n")
    settings = TransformSettings(split_type="Line", batch_strategy="SingleRecord", max_retries=2)
    effective = module.Effective("SingleRecord", 6, 1, {})
    report = Report("image")
    report.data["transform"] = {}
    module._run_job(report, FakeServe(), 0, module._input_files(source), tmp_path / "out", settings, effective)
    assert (tmp_path / "out" / "a.txt.out").read_bytes() == b"OK\nFAIL\nFAIL FAIL\n"
    assert not (tmp_path / "out" / "b.txt.out").exists()
    checks = {check.name: check for check in report.checks}
    assert "b.txt record 1 (15 bytes): 500 'flaky' (3 attempts)" in checks["transform.invocations"].detail
    assert not checks["transform.retries"].ok and checks["transform.retries"].severity == "warning"
    assert checks["transform.retries"].detail.startswith(
        "a.txt record 2: 1 retry; a.txt record 3: 2 retries. These requests were answered 200 on a retry")
    assert report.data["transform"]["retries"] == 3  # b.txt's request never got its answer: not a retried success
    assert report.failed() == ["transform.invocations", "transform.output"]


class FakeServe:
    """A serve container as the engine shows it: running until *exit_code* is set."""

    def __init__(self) -> None:
        self.exit_code: int | None = None
        self.reloads = 0

    @property
    def status(self) -> str:
        return "running" if self.exit_code is None else "exited"

    @property
    def attrs(self) -> dict:
        return {"State": {"ExitCode": self.exit_code, "OOMKilled": False}}

    def reload(self) -> None:
        self.reloads += 1

    def logs(self, tail: int = 0) -> bytes:
        return b"Traceback (most recent call last):\nRuntimeError: crashing on invocation\n"


def run_fake_job(tmp_path: Path, monkeypatch, answer, files: dict[str, bytes], container: FakeServe,
                 concurrency: int = 1, **settings) -> tuple[dict, list]:
    """_run_job over *files* with POST /invocations answered by *answer*(body); returns the checks by name and the
    bodies sent, in order."""
    from imagekit.smoke import transform as module
    from imagekit.smoke.report import Report

    sent = []

    def request(port, method, path, body=None, headers=None, timeout=0):
        sent.append(body)
        return answer(body)

    monkeypatch.setattr(module, "_request", request)
    source = tmp_path / "in"
    source.mkdir()
    for name, data in files.items():
        (source / name).write_bytes(data)
    report = Report("image")
    report.data["transform"] = {}
    module._run_job(report, container, 0, module._input_files(source), tmp_path / "out",
                    TransformSettings(split_type="Line", batch_strategy="SingleRecord", **settings),
                    module.Effective("SingleRecord", 6, concurrency, {}))
    return {check.name: check for check in report.checks}, sent


def test_a_serve_that_exits_mid_request_is_named_and_nothing_more_is_sent(tmp_path: Path, monkeypatch) -> None:
    """F13: the first request kills serve (code 3): no retries against the dead container, the other files'
    requests are not sent, and no pass text claims an answer."""
    container = FakeServe()

    def crash(body):
        container.exit_code = 3
        raise ConnectionResetError(104, "Connection reset by peer")

    checks, sent = run_fake_job(tmp_path, monkeypatch, crash, {"f1.csv": b"1\n", "f2.csv": b"2\n", "f3.csv": b"3\n"},
                                container)
    assert sent == [b"1\n"]
    detail = checks["transform.invocations"].detail
    assert detail.startswith("serve exited with code 3 while answering f1.csv record 1: its program failed; the "
                             "log says: RuntimeError: crashing on invocation") and "attempts" not in detail
    assert checks["transform.timeout"].ok
    assert "answered within" not in checks["transform.timeout"].detail
    assert checks["transform.retries"].ok
    assert "2 request(s) were not sent" in checks["transform.output"].detail
    assert "serve exited with code 3" in checks["transform.output"].detail


def test_a_hung_handler_fails_one_request_and_the_rest_are_not_sent(tmp_path: Path, monkeypatch) -> None:
    """F5/F6: every attempt times out: one request uses its attempts, then the job's verdict is known."""
    def hang(body):
        raise TimeoutError

    checks, sent = run_fake_job(tmp_path, monkeypatch, hang, {"a.csv": b"1\n2\n", "b.csv": b"3\n"}, FakeServe(),
                                invocation_timeout=5)
    assert sent == [b"1\n"] * 4
    assert "a.csv record 1: no answer within 5 s (4 attempts)" in checks["transform.timeout"].detail
    invocations = checks["transform.invocations"]
    assert invocations.ok and "200" not in invocations.detail.replace("0 of 3 answered 200", "")
    assert invocations.detail.startswith("No request was answered with an error status (0 of 3 answered 200")
    assert checks["transform.retries"].ok, "a request that never got an answer is no retried success"
    assert "needed a retry" not in checks["transform.retries"].detail
    assert "2 request(s) were not sent" in checks["transform.output"].detail


def test_a_job_where_everything_is_answered_says_so(tmp_path: Path, monkeypatch) -> None:
    checks, sent = run_fake_job(tmp_path, monkeypatch, lambda body: (200, {}, body), {"a.csv": b"1\n2\n"},
                                FakeServe())
    assert len(sent) == 2 and checks["transform.invocations"].detail == "Every request was answered 200."
    assert checks["transform.timeout"].detail == "Every request was answered within the invocation timeout."
    assert "not sent" not in checks["transform.output"].detail


def test_a_request_in_flight_when_another_fails_the_job_is_not_retried(tmp_path: Path, monkeypatch) -> None:
    """Two at a time: b.csv's request fails all 4 attempts while a.csv's first is in flight; a.csv's then fails
    too, and is not sent again (SageMaker has failed the job)."""
    import threading

    b_failed = threading.Event()
    b_attempts = []

    def answer(body):
        if body == b"b\n":
            b_attempts.append(body)
            if len(b_attempts) == 4:
                threading.Timer(0.1, b_failed.set).start()  # after b's last failure is recorded
            return 500, {}, b"no"
        b_failed.wait(10)
        return 500, {}, b"late"

    checks, sent = run_fake_job(tmp_path, monkeypatch, answer, {"a.csv": b"a\n", "b.csv": b"b\n"}, FakeServe(),
                                concurrency=2)
    assert sent.count(b"a\n") == 1 and sent.count(b"b\n") == 4
    assert checks["transform.invocations"].detail.startswith("b.csv record 1 (2 bytes): 500 'no' (4 attempts).")
    assert "1 failed request(s) were not retried: a request failed every attempt" in \
        checks["transform.output"].detail
