"""`imagekit smoke transform`: run `docker run IMAGE serve` as a SageMaker batch transform job does.

After /ping is 200: GET /execution-parameters (its answer validated against the job limits, and used for what the
job does not set: explicit settings win, then the container's, then the platform's defaults); each input file split
into records (SplitType), grouped into requests (BatchStrategy up to MaxPayloadInMB), sent MaxConcurrentTransforms
at a time, and the answers joined into ``<output>/<input path>.out``: with AssembleWith Line each answer followed
by ``\\n``, with None the answers concatenated — the bytes SageMaker (and SDK local mode) write. With data
processing (InputFilter, JoinSource, OutputFilter; Line split only) every record's line of the answer is processed
and written as one line. With CompressionType Gzip every file is decompressed before it is split (checked before
the container starts); a request that fails (not 200, or no answer in time) is sent again up to
InvocationsMaxRetries times.
"""

from __future__ import annotations

import http.client
import json
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from imagekit import contract, engine
from imagekit.contract import Limits
from imagekit.errors import ImagekitError, LimitExceeded
from imagekit.smoke import diagnose
from imagekit.smoke.common import check_whole_seconds, finish_run, log_tail, repeat_concurrently, run_workdir
from imagekit.smoke.dataprocessing import DataProcessing, RecordError
from imagekit.smoke.records import (
    BATCH_STRATEGIES,
    SPLIT_TYPES,
    Batch,
    CompressionError,
    Record,
    SplitError,
    TooLarge,
    batches,
    gunzip,
    split,
)
from imagekit.smoke.report import Check, Report
from imagekit.smoke.serving import Progress, _model_dir, _request, check_startup_timeout, start_ready

ASSEMBLE_WITH = ("None", "Line")
DEFAULT_SPLIT_TYPE = DEFAULT_ASSEMBLE_WITH = "None"
DEFAULT_BATCH_STRATEGY = "MultiRecord"  # the platform's, and SDK local mode's
SHOWN_PROBLEMS = 5  # a failed check names this many places, then counts the rest
CONNECTION_LOST = ": no answer ("  # how a failed attempt that lost its connection (not a timeout) begins
BODY_SHOWN_CHARS = 300


@dataclass(frozen=True)
class TransformSettings:
    """A CreateTransformJob's settings; None where the job leaves it to /execution-parameters or the default."""

    split_type: str = DEFAULT_SPLIT_TYPE
    batch_strategy: str | None = None
    max_payload_mb: int | None = None
    max_concurrent: int | None = None
    assemble_with: str = DEFAULT_ASSEMBLE_WITH
    content_type: str | None = None
    accept: str | None = None
    processing: DataProcessing = field(default_factory=DataProcessing)
    invocation_timeout: float = contract.TRANSFORM_INVOCATION_TIMEOUT_S
    max_retries: int = contract.TRANSFORM_INVOCATION_MAX_RETRIES
    compression: str = "None"

    def __post_init__(self) -> None:
        """Refuse what CreateTransformJob refuses, before the engine is asked."""
        _one_of("--split-type", self.split_type, SPLIT_TYPES)
        _one_of("--compression", self.compression, contract.TRANSFORM_COMPRESSION_TYPES)
        if not 0 <= self.max_retries <= contract.TRANSFORM_INVOCATION_MAX_RETRIES:
            raise ImagekitError(f"--max-retries {self.max_retries} is outside 0-"
                                f"{contract.TRANSFORM_INVOCATION_MAX_RETRIES} "
                                "(ModelClientConfig.InvocationsMaxRetries).",
                                f"The platform's default is {contract.TRANSFORM_INVOCATION_MAX_RETRIES}.")
        _one_of("--assemble-with", self.assemble_with, ASSEMBLE_WITH)
        if self.batch_strategy is not None:
            _one_of("--batch-strategy", self.batch_strategy, BATCH_STRATEGIES)
        if self.max_payload_mb is not None and not 0 <= self.max_payload_mb <= contract.TRANSFORM_MAX_PAYLOAD_IN_MB:
            raise ImagekitError(f"--max-payload {self.max_payload_mb} is outside 0-"
                                f"{contract.TRANSFORM_MAX_PAYLOAD_IN_MB} MB, the range MaxPayloadInMB takes.",
                                f"The platform's default is {contract.DEFAULT_MAX_PAYLOAD_IN_MB} MB.")
        if self.max_concurrent is not None and self.max_concurrent < 1:
            raise ImagekitError(f"--max-concurrent {self.max_concurrent} must be at least 1.",
                                "Omit it to use the container's /execution-parameters, else 1.")
        problem = _over_combined_limit(self.max_concurrent, self.max_payload_mb)
        if problem:
            raise ImagekitError(f"--max-concurrent with --max-payload: {problem}.", "Lower one of them.")
        check_whole_seconds("--invocation-timeout", self.invocation_timeout,
                            f"The platform's default is {contract.TRANSFORM_INVOCATION_TIMEOUT_S:g} s.",
                            contract.TRANSFORM_INVOCATION_TIMEOUT_MIN_S, contract.TRANSFORM_INVOCATION_TIMEOUT_MAX_S,
                            "ModelClientConfig.InvocationsTimeoutInSeconds")
        if self.processing.active and self.split_type != "Line":
            raise ImagekitError("--input-filter, --join-source and --output-filter work on lines: they need "
                                f"--split-type Line (not {self.split_type}).",
                                "Give --split-type Line, with CSV or JSON Lines input.")
        if self.processing.active and self.assemble_with != "Line":
            raise ImagekitError("--join-source and the filters write one processed record per line: they need "
                                "--assemble-with Line.", "Add --assemble-with Line.")

    def container_env(self) -> dict[str, str]:
        """SAGEMAKER_BATCH, and the settings the job gives (only those: the platform sets no others)."""
        env = {contract.ENV_BATCH: contract.BATCH_TRUE}
        if self.max_payload_mb is not None:
            env[contract.ENV_MAX_PAYLOAD_IN_MB] = str(self.max_payload_mb)
        if self.batch_strategy is not None:
            env[contract.ENV_BATCH_STRATEGY] = contract.BATCH_STRATEGY_VALUES[self.batch_strategy]
        if self.max_concurrent is not None:
            env[contract.ENV_MAX_CONCURRENT_TRANSFORMS] = str(self.max_concurrent)
        return env


def _one_of(option: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ImagekitError(f"{option} {value!r} is not one of {', '.join(allowed)}.",
                            f"Use the value as CreateTransformJob spells it, e.g. {option} {allowed[-1]}.")


def _over_combined_limit(concurrent: int | None, payload_mb: int | None) -> str | None:
    if concurrent and payload_mb and concurrent * payload_mb > contract.TRANSFORM_MAX_CONCURRENT_PAYLOAD_MB:
        return (f"MaxConcurrentTransforms {concurrent} x MaxPayloadInMB {payload_mb} = {concurrent * payload_mb} MB, "
                f"over the {contract.TRANSFORM_MAX_CONCURRENT_PAYLOAD_MB} MB a transform job allows")
    return None


@dataclass(frozen=True)
class Effective:
    """What the job runs with, and where each value came from ("job", "container" or "default")."""

    batch_strategy: str
    max_payload_mb: int
    max_concurrent: int
    sources: dict[str, str]


@dataclass
class FileRun:
    """One input file's requests and what came back."""

    relative: str
    requests: list[Batch] = field(default_factory=list)
    answers: dict[int, bytes] = field(default_factory=dict)  # request index -> 200 body
    records: int = 0
    lines: dict[int, str] = field(default_factory=dict)  # with data processing: record index -> its input line
    retries: dict[int, int] = field(default_factory=dict)  # request index -> times it was sent again
    broken: bool = False  # a request failed, a record was refused or split broke: no .out is written
    mismatched: bool = False  # an answer's line count is not its request's record count


class Problems:
    """Failed checks collected across files and threads, reported once each with the first few places."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.found: dict[str, list[str]] = {}

    def add(self, check: str, where: str) -> None:
        with self.lock:
            self.found.setdefault(check, []).append(where)

    def report(self, report: Report, check: str, passed: str, advice: str) -> None:
        places = self.found.get(check, [])
        if not places:
            report.check(check, True, passed)
            return
        more = f" (and {len(places) - SHOWN_PROBLEMS} more)" if len(places) > SHOWN_PROBLEMS else ""
        report.check(check, False, "; ".join(places[:SHOWN_PROBLEMS]) + more + f". {advice}")


def transform(image: str, *, model: str | Path | None, input: str | Path, output: str | Path,  # noqa: A002
              settings: TransformSettings | None = None, env: dict[str, str] | None = None,
              startup_timeout: float = contract.STARTUP_HEALTH_TIMEOUT_S, pass_aws_credentials: bool = False,
              on_check: Callable[[Check], None] | None = None, on_progress: Progress | None = None) -> Report:
    """Run a batch transform job over every file under *input*, writing ``.out`` files under *output*."""
    settings = settings or TransformSettings()
    check_startup_timeout(startup_timeout)
    source, target = _input_files(Path(input)), Path(output)
    _check_output(Path(input), target)
    if settings.compression == "Gzip":
        for file in source[1]:
            _read_input(file, settings.compression)  # a file the job cannot decompress fails it: say so first
    report = Report(image, on_check=on_check)
    run_id = engine.new_run_id()
    work = run_workdir("transform")
    try:
        started = start_ready(report, run_id, image, _model_dir(work, model),
                              {**settings.container_env(), **(env or {})}, pass_aws_credentials, startup_timeout,
                              "transform", on_progress)
        if started is None:
            return report
        container, host_port, _ = started
        effective = _execution_parameters(report, host_port, settings)
        report.data["transform"] = {"settings": _settings_data(settings), "effective": asdict(effective)}
        _run_job(report, container, host_port, source, target, settings, effective)
        return report
    finally:
        finish_run(run_id, work, contract.SERVE_STOP_GRACE_S)


def transform_step(image: str, model: str | Path, input: str | Path, output: str | Path, *,  # noqa: A002
                   content_type: str | None, accept: str | None, env: dict[str, str] | None,
                   pass_aws_credentials: bool, on_check: Callable[[Check], None] | None) -> Report:
    """`smoke all --transform-input`: the job most CSV and JSON Lines models run (Line split, MultiRecord,
    AssembleWith Line), with the serve step's content type and accept."""
    settings = TransformSettings(split_type="Line", batch_strategy="MultiRecord", assemble_with="Line",
                                 content_type=content_type, accept=accept)
    return transform(image, model=model, input=input, output=output, settings=settings, env=env,
                     pass_aws_credentials=pass_aws_credentials, on_check=on_check)


def _input_files(path: Path) -> tuple[Path, list[Path]]:
    """(the prefix, its files in key order): a directory's files at any depth, as an S3 prefix lists them."""
    if path.is_file():
        return path.parent, [path]
    if not path.is_dir():
        raise ImagekitError(f"--input {path} does not exist.", "Pass a directory of input files (or one file).")
    files = sorted((file for file in path.rglob("*") if file.is_file()), key=lambda f: f.relative_to(path).as_posix())
    if not files:
        raise ImagekitError(f"--input {path} holds no files.", "Put the records to transform in it.")
    return path, files


def _read_input(file: Path, compression: str) -> bytes:
    """One input file's bytes as the platform splits them: decompressed with CompressionType Gzip."""
    try:
        data = file.read_bytes()
    except OSError as error:
        raise ImagekitError(f"Cannot read input file {file}: {error.strerror or error}.",
                            "Check the --input files' permissions.") from None
    if compression != "Gzip":
        return data
    try:
        return gunzip(data, Limits.TRANSFORM_GUNZIP_BYTES)
    except TooLarge:
        raise LimitExceeded(str(file), "what the gzip file expands to", "TRANSFORM_GUNZIP_BYTES",
                            Limits.TRANSFORM_GUNZIP_BYTES) from None
    except CompressionError as error:
        raise ImagekitError(f"--input file {file} is not valid gzip ({error}): with --compression Gzip SageMaker "
                            "decompresses every input object first, and fails the job on one it cannot.",
                            "Compress it with gzip (every file under --input), or leave out --compression Gzip "
                            "for uncompressed input.") from None


def _check_output(source: Path, target: Path) -> None:
    resolved = target.resolve()
    if resolved == source.resolve() or source.resolve() in resolved.parents:
        raise ImagekitError(f"--output {target} is inside --input {source}: the .out files would be read as input "
                            "by the next run.", "Write the results to a directory beside the input.")
    if target.exists() and not target.is_dir():
        raise ImagekitError(f"--output {target} is a file.", "Name a directory; it is created when missing.")


def _settings_data(settings: TransformSettings) -> dict:
    data = {k: v for k, v in asdict(settings).items() if k != "processing"}
    return {**data, **asdict(settings.processing)}


def _execution_parameters(report: Report, port: int, settings: TransformSettings) -> Effective:
    """GET /execution-parameters; a 404 (or no answer) is fine, an answer SageMaker cannot use is not."""
    try:
        status, _, body = _request(port, "GET", contract.EXECUTION_PARAMETERS_ROUTE, timeout=contract.PING_TIMEOUT_S)
    except (OSError, http.client.HTTPException) as error:
        status, body = None, str(error).encode()
    offered: dict = {}
    if status == 200:
        problems, offered = _parse_parameters(body)
        report.data["execution_parameters"] = body.decode("utf-8", "replace")
        if problems:
            report.check("transform.execution-parameters", False,
                         f"GET {contract.EXECUTION_PARAMETERS_ROUTE} answered {body[:BODY_SHOWN_CHARS]!r}: "
                         + "; ".join(problems) + ". SageMaker fails a transform job whose container asks for "
                         "settings outside the limits; answer e.g. {\"MaxConcurrentTransforms\": 1, "
                         "\"BatchStrategy\": \"MULTI_RECORD\", \"MaxPayloadInMB\": 6}, or 404.")
    elif status is not None and status != 404:
        report.check("transform.execution-parameters", False,
                     f"GET {contract.EXECUTION_PARAMETERS_ROUTE} answered {status}: "
                     f"{body[:BODY_SHOWN_CHARS].decode('utf-8', 'replace')}. Answer 200 with the parameters, or 404.")
    chosen, sources = {}, {}
    for name, job_value, default in (
            ("batch_strategy", settings.batch_strategy, DEFAULT_BATCH_STRATEGY),
            ("max_payload_mb", settings.max_payload_mb, contract.DEFAULT_MAX_PAYLOAD_IN_MB),
            ("max_concurrent", settings.max_concurrent, contract.DEFAULT_MAX_CONCURRENT_TRANSFORMS)):
        value, sources[name] = (job_value, "job") if job_value is not None else \
            (offered[name], "container") if name in offered else (default, "default")
        chosen[name] = value
    effective = Effective(sources=sources, **chosen)
    over = _over_combined_limit(effective.max_concurrent, effective.max_payload_mb)
    if over and "container" in sources.values() and \
            not any(c.name == "transform.execution-parameters" for c in report.checks):
        report.check("transform.execution-parameters", False,
                     f"With the job's settings, what GET {contract.EXECUTION_PARAMETERS_ROUTE} adds gives {over}. "
                     "Answer fewer concurrent transforms for large payloads.")
    if not any(c.name == "transform.execution-parameters" for c in report.checks):
        answered = "answered 404 (not implemented)" if status == 404 else "answered nothing" if status is None \
            else "answered within the limits"
        report.check("transform.execution-parameters", True,
                     f"GET {contract.EXECUTION_PARAMETERS_ROUTE} {answered}; the job runs "
                     f"{effective.batch_strategy} ({sources['batch_strategy']}), MaxPayloadInMB "
                     f"{effective.max_payload_mb} ({sources['max_payload_mb']}), MaxConcurrentTransforms "
                     f"{effective.max_concurrent} ({sources['max_concurrent']}).")
    return effective


def _parse_parameters(body: bytes) -> tuple[list[str], dict]:
    """(problems, the usable values by our names) of an /execution-parameters answer."""
    try:
        document = json.loads(body)
    except ValueError as error:
        return [f"not JSON ({error})"], {}
    if not isinstance(document, dict):
        return [f"a JSON {type(document).__name__}, not an object"], {}
    problems, usable = [], {}
    strategies = {value: name for name, value in contract.BATCH_STRATEGY_VALUES.items()}
    if "BatchStrategy" in document:
        if document["BatchStrategy"] in strategies:
            usable["batch_strategy"] = strategies[document["BatchStrategy"]]
        else:
            problems.append(f"BatchStrategy {document['BatchStrategy']!r} is not "
                            f"{' or '.join(strategies)}")
    for key, name, low, high in (
            ("MaxPayloadInMB", "max_payload_mb", 0, contract.TRANSFORM_MAX_PAYLOAD_IN_MB),
            ("MaxConcurrentTransforms", "max_concurrent", 1, None)):
        if key not in document:
            continue
        value = document[key]
        if not isinstance(value, int) or isinstance(value, bool):
            problems.append(f"{key} {value!r} is not an integer")
        elif value < low or (high is not None and value > high):
            problems.append(f"{key} {value} is outside {low}-{high if high is not None else 'any'}")
        else:
            usable[name] = value
    over = _over_combined_limit(usable.get("max_concurrent"), usable.get("max_payload_mb"))
    if over:
        problems.append(over)
    return problems, usable


def _run_job(report: Report, container, port: int, source: tuple[Path, list[Path]], target: Path,
             settings: TransformSettings, effective: Effective) -> None:
    prefix, files = source
    problems = Problems()
    limit = effective.max_payload_mb * contract.MEGABYTE
    runs, queue = [], []  # queue: (file run, request index) in the order SageMaker sends them
    for file in files:
        run = FileRun(file.relative_to(prefix).as_posix())
        runs.append(run)
        try:
            records = list(split(_read_input(file, settings.compression), settings.split_type))
        except SplitError as error:
            problems.add("transform.split", f"{run.relative}: {error}")
            run.broken = True
            continue
        run.records = len(records)
        if settings.processing.active:
            records = _filtered(records, settings, run, problems)
        for item in batches(records, effective.batch_strategy, limit):
            if isinstance(item, Record):
                size = len(item.payload if effective.batch_strategy == "SingleRecord" else item.framed)
                problems.add("transform.payload-limit", f"{run.relative} record {item.index} is {size} bytes, over "
                                                        f"MaxPayloadInMB {effective.max_payload_mb} ({limit} bytes)")
                run.broken = True
                continue
            queue.append((run, len(run.requests)))
            run.requests.append(item)
    sending = _send_all(queue, port, settings, effective, problems, container)
    written = _write_outputs(runs, target, settings, problems)
    total_records = sum(run.records for run in runs)
    retried = {f"{run.relative} {run.requests[index].span}": count
               for run in runs for index, count in sorted(run.retries.items())}
    for where, count in retried.items():
        problems.add("transform.retries", f"{where}: {count} {'retry' if count == 1 else 'retries'}")
    unsent = len(queue) - sending.sent
    report.data["transform"].update(files=len(files), records=total_records, requests=sending.sent,
                                    not_sent=unsent, not_retried=sending.not_retried,
                                    retries=sum(retried.values()), retried=retried, written=written,
                                    output=str(target))
    _report(report, problems, effective, settings, container, _pass_texts(sending, len(queue)))
    stopped = f"; {unsent} request(s) were not sent" if unsent else ""
    if sending.not_retried:
        stopped += f"; {sending.not_retried} failed request(s) were not retried"
    if stopped:
        stopped += f": {sending.exited or 'a request failed every attempt'}, so SageMaker fails the job"
    report.check("transform.output", len(written) == len(files),
                 f"{len(written)} of {len(files)} file(s) written under {target} ({total_records} records in "
                 f"{sending.sent} request(s){stopped})" + (
                     "." if len(written) == len(files) else
                     "; the others failed (see the checks above), and SageMaker would fail the job."))


def _pass_texts(sending: Sending, requests: int) -> dict[str, str]:
    """What transform.invocations and transform.timeout say when they pass, claiming only what happened: a
    request that timed out, or was never sent, was not answered 200."""
    unanswered = requests - sending.answered
    texts = {}
    if unanswered:
        texts["transform.invocations"] = (f"No request was answered with an error status ({sending.answered} of "
                                          f"{requests} answered 200; the others timed out or were not sent).")
        texts["transform.retries"] = ("No request was answered 200 only on a retry (a request that got no 200 at "
                                      "all is a failure above, not a retry).")
    if sending.timed_out:
        texts["transform.timeout"] = (f"{sending.timed_out} attempt(s) got no answer within the invocation timeout, "
                                      "but no request failed the job for that (see transform.retries and "
                                      "transform.invocations).")
    elif unanswered:
        texts["transform.timeout"] = (f"No attempt ran into the invocation timeout ({unanswered} of {requests} "
                                      "request(s) got no 200 for other reasons: see transform.invocations).")
    return texts


def _filtered(records: list[Record], settings: TransformSettings, run: FileRun, problems: Problems) -> list[Record]:
    """Records with InputFilter applied (each its filtered line), remembering each input line for the join."""
    kept = []
    for record in records:
        line = record.payload.decode("utf-8", "replace").rstrip("\r\n")
        run.lines[record.index] = line
        try:
            sent = (settings.processing.model_input(line, settings.content_type or "") + "\n").encode()
        except RecordError as error:
            problems.add("transform.data-processing", f"{run.relative} record {record.index}: --input-filter "
                                                      f"{settings.processing.input_filter}: {error}")
            run.broken = True
            continue
        kept.append(Record(record.index, sent, sent))
    return kept


@dataclass
class Sending:
    """How the requests went as a whole: once one request has failed every attempt (or serve exited) SageMaker
    fails the job, so *verdict* is set and no further request, or retry, is sent."""

    verdict: threading.Event = field(default_factory=threading.Event)
    sent: int = 0  # requests sent at least once
    answered: int = 0  # requests answered 200 (at the first attempt or a retry)
    timed_out: int = 0  # attempts that got no answer within the invocation timeout
    not_retried: int = 0  # requests that failed once the verdict was known, so were not sent again
    exited: str = ""  # "serve exited with code N while answering ...", once it has


def _send_all(queue: list[tuple[FileRun, int]], port: int, settings: TransformSettings, effective: Effective,
              problems: Problems, container) -> Sending:
    """The requests, MaxConcurrentTransforms at a time, until the job's verdict is known; 200 bodies kept by file
    and position."""
    handed_out = iter(queue)
    lock = threading.Lock()
    sending = Sending()
    headers = {}
    if settings.content_type:
        headers["Content-Type"] = settings.content_type
    if settings.accept:
        headers["Accept"] = settings.accept

    def one() -> None:
        with lock:
            run, index = next(handed_out)
            if sending.verdict.is_set():
                run.broken = True
                return
            sending.sent += 1
        batch = run.requests[index]
        where = f"{run.relative} {batch.span}"
        attempt = 0
        while True:
            check, failure, answer = _invoke(port, batch, headers, settings.invocation_timeout)
            if check is None:
                break
            with lock:
                sending.timed_out += check == "transform.timeout"
            if _serve_exited(container, where, failure.startswith(CONNECTION_LOST), problems, sending):
                run.broken = True  # no retry against a dead container
                return
            if attempt < settings.max_retries and sending.verdict.is_set():
                with lock:
                    sending.not_retried += 1  # another request has failed the job
                run.broken = True
                return
            if attempt == settings.max_retries:
                tries = f" ({attempt + 1} attempts)" if attempt else ""
                problems.add(check, f"{where}{failure}{tries}")
                sending.verdict.set()
                run.broken = True
                return
            attempt += 1
        with lock:
            sending.answered += 1
        if attempt:
            run.retries[index] = attempt
        if settings.assemble_with == "Line" and effective.batch_strategy == "MultiRecord":
            count = answer_lines(answer)
            if count != batch.count:
                problems.add("transform.records", f"{where}: {batch.count} record(s) sent, {count} line(s) back")
                run.mismatched = True
        run.answers[index] = answer

    if queue:
        repeat_concurrently(one, len(queue), effective.max_concurrent)
    return sending


def _serve_exited(container, where: str, connection_lost: bool, problems: Problems, sending: Sending) -> bool:
    """After a failed attempt: whether serve has exited. The first request to see it fails transform.invocations
    with the exit code and cause, and the job's verdict is known."""
    code = diagnose.exit_code(container, diagnose.EXIT_SETTLE_S if connection_lost else 0)
    if code is None:
        return False
    with problems.lock:
        first = not sending.exited
        if first:
            sending.exited = f"serve exited with code {code} while answering {where}"
    if first:
        state = container.attrs.get("State") or {}
        cause = diagnose.exit_cause(code, bool(state.get("OOMKilled")), diagnose.recent_log(container), None)
        problems.add("transform.invocations", f"{sending.exited}: {cause.rstrip('.')}")
    sending.verdict.set()
    return True


def _invoke(port: int, batch: Batch, headers: dict[str, str], timeout: float) -> tuple[str | None, str, bytes]:
    """One POST /invocations: (None, "", the 200 body), or (the check it fails, why, b"")."""
    try:
        status, _, answer = _request(port, "POST", contract.INVOCATIONS_ROUTE, batch.body, headers, timeout=timeout)
    except TimeoutError:
        return "transform.timeout", f": no answer within {timeout:g} s", b""
    except (OSError, http.client.HTTPException) as error:
        return "transform.invocations", f"{CONNECTION_LOST}{type(error).__name__}: {error})", b""
    if status != 200:
        text = answer[:BODY_SHOWN_CHARS].decode("utf-8", "replace").strip()
        return "transform.invocations", f" ({len(batch.body)} bytes): {status} {text!r}", b""
    return None, "", answer


def answer_lines(answer: bytes) -> int:
    """The lines of an answer (a last line needs no \\n; an empty answer has none)."""
    if not answer:
        return 0
    return answer.count(b"\n") + (0 if answer.endswith(b"\n") else 1)


def _write_outputs(runs: list[FileRun], target: Path, settings: TransformSettings, problems: Problems) -> list[str]:
    """Write each file whose every request succeeded; returns their relative paths."""
    written = []
    for run in runs:
        if run.broken or len(run.answers) != len(run.requests):
            continue
        answers = [run.answers[i] for i in range(len(run.requests))]
        if settings.processing.active:
            if run.mismatched:
                continue  # the answers cannot be matched to their records: SageMaker fails the file
            data = _processed(run, answers, settings, problems)
            if data is None:
                continue
        elif settings.assemble_with == "Line":
            data = b"".join(answer + b"\n" for answer in answers)
        else:
            data = b"".join(answers)
        path = target / (run.relative + contract.TRANSFORM_OUTPUT_SUFFIX)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(run.relative)
    return written


def _processed(run: FileRun, answers: list[bytes], settings: TransformSettings, problems: Problems) -> bytes | None:
    """JoinSource and OutputFilter, record by record: one line each."""
    out = []
    for batch, answer in zip(run.requests, answers, strict=True):
        predictions = answer.decode("utf-8", "replace").split("\n")[:batch.count]
        for index, prediction in zip(range(batch.first, batch.last + 1), predictions, strict=True):
            try:
                out.append(settings.processing.output_line(run.lines[index], prediction.rstrip("\r"),
                                                           settings.content_type or "", settings.accept or ""))
            except RecordError as error:
                problems.add("transform.data-processing", f"{run.relative} record {index}: {error}")
                return None
    return "".join(line + "\n" for line in out).encode()


CHECKS = {  # check -> (what passing means, what to do when it fails)
    "transform.split": ("Every input file split into records as its SplitType says.",
                        "Fix the file's framing, or choose the --split-type that matches it."),
    "transform.payload-limit": ("No record is over MaxPayloadInMB.",
                                "SageMaker fails the job on a record it cannot send: raise --max-payload (up to "
                                f"{contract.TRANSFORM_MAX_PAYLOAD_IN_MB}), or split the data into smaller records."),
    "transform.invocations": ("Every request was answered 200.",
                              "SageMaker retries, then fails the job on a request the container does not answer "
                              "200; with MultiRecord, check the handler takes several records in one body."),
    "transform.timeout": ("Every request was answered within the invocation timeout.",
                          "Make the handler faster, send fewer records per request (--max-payload, SingleRecord), "
                          "or raise ModelClientConfig.InvocationsTimeoutInSeconds (--invocation-timeout)."),
    "transform.retries": ("No request needed a retry.",
                          "These requests were answered 200 on a retry: SageMaker sends a failed request again "
                          "(up to InvocationsMaxRetries times), so they do not fail the job; but the handler failed "
                          "or was too slow on them at first: see the container log."),
    "transform.records": ("Every answer has one line per record sent.",
                          "With AssembleWith Line the output can only be matched to its input when the handler "
                          "answers one line per record: it dropped, merged or added records (a JSON document for "
                          "the whole batch counts as one line; answer text/csv or application/jsonlines)."),
    "transform.data-processing": ("Every record passed --input-filter, --join-source and --output-filter.",
                                  "SageMaker fails the job on a record the filters do not fit."),
}


def _report(report: Report, problems: Problems, effective: Effective, settings: TransformSettings, container,
            pass_texts: dict[str, str]) -> None:
    checks = ["transform.split", "transform.payload-limit", "transform.invocations", "transform.timeout"]
    if settings.max_retries:
        checks.append("transform.retries")
    if settings.assemble_with == "Line" and effective.batch_strategy == "MultiRecord":
        checks.append("transform.records")
    if settings.processing.active:
        checks.append("transform.data-processing")
    for check in checks:
        passed, advice = CHECKS[check]
        passed = pass_texts.get(check, passed)
        if check in ("transform.invocations", "transform.timeout") and problems.found.get(check):
            advice += f" Log tail:\n{log_tail(container)}"
        problems.report(report, check, passed, advice)
