"""`imagekit smoke train|serve|all|transform` (registered on imagekit.cli.app): run an image as SageMaker does."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Callable, List, Optional

import typer

from imagekit import contract
from imagekit.cli import app
from imagekit.errors import ImagekitError

smoke_app = typer.Typer(no_args_is_help=True, help="Run an image exactly as SageMaker does and report what broke. "
                        "Exit 0 every contract check passed, 1 one failed, 2 bad input, missing image or no engine.")
app.add_typer(smoke_app, name="smoke")

DATA = typer.Option(None, "--data", help="CHANNEL=DIR, mounted read-only at /opt/ml/input/data/CHANNEL; repeatable.")
HP = typer.Option(None, "--hp", help="Hyperparameter KEY=VALUE (SageMaker passes every value as a string); "
                  "repeatable.")
HP_FILE = typer.Option(None, "--hp-file", help="A JSON object of hyperparameters.")
ENV = typer.Option(None, "--env", help="Container environment K=V; repeatable.")
AS_JSON = typer.Option(False, "--json", help="Print the report as JSON on stdout (progress goes to stderr).")
JUNIT = typer.Option(None, "--junit", help="Also write the report as JUnit XML to this file.")
AWS = typer.Option(False, "--pass-aws-credentials", help="Pass the host's AWS_* credentials into the container "
                   "(never done otherwise).")
MODEL = typer.Option(None, "--model", help="Model directory or model.tar.gz, extracted read-only into /opt/ml/model.")
PAYLOAD = typer.Option(None, "--payload", help="A request body for POST /invocations; repeatable.")
CONTENT_TYPE = typer.Option(None, "--content-type", help="Content-Type of the payloads (default application/json).")
ACCEPT = typer.Option(None, "--accept", help="Accept header for /invocations.")
REQUESTS = typer.Option(0, "--requests", help="Load mode: send this many requests and report latency percentiles.")
CONCURRENCY = typer.Option(1, "--concurrency", help="Concurrent requests in load mode.")
STARTUP_TIMEOUT = typer.Option(contract.STARTUP_HEALTH_TIMEOUT_S, "--startup-timeout",
                               help="Seconds for /ping to answer 200 (the platform's default; at most "
                               f"{contract.STARTUP_HEALTH_TIMEOUT_MAX_S:g}, as on the platform). A server that "
                               "stays up is waited for until then, as SageMaker does.")
INSTANCES = typer.Option(1, "--instances", help="Hosts algo-1..N on a private network.")
INSTANCE_TYPE = typer.Option(None, "--instance-type", help="e.g. ml.g5.xlarge: applies its CPU and memory limits "
                             "and requests its GPUs (a warning when the engine has none).")
TIMEOUT = typer.Option(None, "--timeout", help="Seconds before the training job is stopped (SIGTERM, SIGKILL "
                       f"{contract.TRAIN_STOP_GRACE_S:g} s later).")
NETWORK_ISOLATION = typer.Option(False, "--network-isolation", help="Train with no way out: no network on one "
                                 "host, only the peers on several.")
FAIL_ON = typer.Option("error", "--fail-on", help="Lowest severity of a failed check that fails the run (exit 1): "
                       "error (the platform would fail) or warning (works, but risky).")
QUIET = typer.Option(False, "--quiet", "-q", help="Do not stream the containers' logs, nor the line shown while "
                     "waiting for /ping, to stderr (their last lines "
                     "are still in failed checks and in the --json/--junit reports).")


@smoke_app.callback(invoke_without_command=True)
def _smoke(cleanup: bool = typer.Option(False, "--cleanup", help="Remove containers, networks and work dirs "
                                        "left by killed imagekit runs (never one still running), then exit.")) -> None:
    if cleanup:
        from imagekit import engine
        from imagekit.smoke.common import remove_leftover_workdirs

        removed, kept = engine.cleanup_leftovers()
        typer.echo(f"removed {removed} leftover engine object(s) and {remove_leftover_workdirs()} work dir(s)")
        if kept["running"]:
            typer.echo(f"kept the objects of runs still in progress (pid {', '.join(sorted(kept['running']))})")
        if kept["hosts"]:
            typer.echo(f"kept the objects of runs from other hosts ({', '.join(sorted(kept['hosts']))}); run "
                       "`imagekit smoke --cleanup` there, or remove them with `docker rm -f`")
        raise typer.Exit()


@smoke_app.command("train")
def train_command(
    image: str = typer.Argument(..., help="Image in the engine."),
    data: Optional[List[str]] = DATA, hp: Optional[List[str]] = HP, hp_file: Optional[Path] = HP_FILE,
    instances: int = INSTANCES, instance_type: Optional[str] = INSTANCE_TYPE, env: Optional[List[str]] = ENV,
    timeout: Optional[float] = TIMEOUT, network_isolation: bool = NETWORK_ISOLATION,
    output: Optional[Path] = typer.Option(None, "--output", help="Write model.tar.gz here."),
    as_json: bool = AS_JSON, junit: Optional[Path] = JUNIT, pass_aws_credentials: bool = AWS, quiet: bool = QUIET,
    source_dir: Optional[Path] = typer.Option(None, "--source-dir", help="Ship this code directory with the job, "
                                              "as SDK local mode does: mounted at /opt/ml/code."),
    entry_point: Optional[str] = typer.Option(None, "--entry-point", help="The script in --source-dir to run "
                                              "(sagemaker_program)."),
    fail_on: str = FAIL_ON,
) -> None:
    """Run `docker run IMAGE train` with the /opt/ml tree, config files and channels of a training job."""
    from imagekit import smoke

    _check_inputs(image, junit, fail_on)
    _refuse_overwrites(junit, output=output, hp_file=hp_file, data=data, source_dir=source_dir)
    with _live_logs(quiet):
        report = smoke.train(image, data=_channels(data), hyperparameters=_hyperparameters(hp, hp_file),
                             instances=instances, instance_type=instance_type, env=_pairs(env, "--env"),
                             timeout=timeout, network_isolation=network_isolation, output=output,
                             pass_aws_credentials=pass_aws_credentials, on_check=_progress(as_json),
                             source_dir=source_dir, entry_point=entry_point)
    _finish(report, as_json, junit, fail_on)


VARIANT = typer.Option(None, "--variant", help="NAME=IMAGE:WEIGHT: start every variant behind one router that splits "
                       "traffic by weight; repeatable.")


@smoke_app.command("serve")
def serve_command(
    image: Optional[str] = typer.Argument(None, help="Image in the engine (or use --variant)."),
    variant: Optional[List[str]] = VARIANT,
    model: Optional[Path] = MODEL, payload: Optional[List[Path]] = PAYLOAD, content_type: Optional[str] = CONTENT_TYPE,
    accept: Optional[str] = ACCEPT, startup_timeout: float = STARTUP_TIMEOUT,
    requests: int = REQUESTS, concurrency: int = CONCURRENCY, env: Optional[List[str]] = ENV,
    as_json: bool = AS_JSON, junit: Optional[Path] = JUNIT, pass_aws_credentials: bool = AWS, quiet: bool = QUIET,
    fail_on: str = FAIL_ON, instance_type: Optional[str] = INSTANCE_TYPE,
) -> None:
    """Run `docker run IMAGE serve` and check /ping, /invocations, the payload limit and SIGTERM."""
    from imagekit import smoke

    _check_inputs(image, junit, fail_on)
    _refuse_overwrites(junit, model=model, payloads=payload)
    if variant:
        from imagekit.smoke.variants import DEFAULT_REQUESTS, parse_variant, serve_variants

        if image is not None:
            raise ImagekitError(f"smoke serve got both an IMAGE ({image}) and --variant; with --variant every image "
                                "is named in its NAME=IMAGE:WEIGHT.",
                                f"Drop {image}, or add it as a variant: --variant NAME={image}:1.")
        if instance_type is not None:
            raise ImagekitError("--instance-type applies to one serving container; --variant runs several.",
                                "Drop --instance-type, or smoke each variant's image on its own with it.")
        with _live_logs(quiet):
            report = serve_variants([parse_variant(v) for v in variant], model=model, payloads=payload,
                                    content_type=content_type, accept=accept, requests=requests or DEFAULT_REQUESTS,
                                    concurrency=concurrency, env=_pairs(env, "--env"), startup_timeout=startup_timeout,
                                    pass_aws_credentials=pass_aws_credentials, on_check=_progress(as_json))
        if "variants" in report.data:
            from imagekit.smoke.live import print_table

            print_table(report.data["variants"], sys.stderr if as_json else sys.stdout)
        _finish(report, as_json, junit, fail_on)
    if image is None:
        raise ImagekitError("smoke serve needs an IMAGE or at least one --variant.",
                            "For example: imagekit smoke serve my-model:latest --model model.tar.gz")
    status = _StatusLine(quiet)
    with _live_logs(quiet, status):
        report = smoke.serve(image, model=model, payloads=payload, content_type=content_type, accept=accept,
                             startup_timeout=startup_timeout, requests=requests, concurrency=concurrency,
                             env=_pairs(env, "--env"), pass_aws_credentials=pass_aws_credentials,
                             on_check=_progress(as_json, status), on_progress=status.waiting,
                             instance_type=instance_type)
    _finish(report, as_json, junit, fail_on)


TRANSFORM_INPUT = typer.Option(None, "--transform-input", help="Also run a batch transform job over this "
                                "directory with the trained model (Line split, MultiRecord, AssembleWith Line, "
                                "--content-type/--accept), writing .out files to --transform-output.")
TRANSFORM_OUTPUT = typer.Option(None, "--transform-output", help="Where --transform-input's .out files go "
                                "(default: a temporary directory, removed).")


@smoke_app.command("all")
def all_command(
    image: str = typer.Argument(..., help="Image in the engine."),
    data: Optional[List[str]] = DATA, hp: Optional[List[str]] = HP, hp_file: Optional[Path] = HP_FILE,
    payload: Optional[List[Path]] = PAYLOAD, content_type: Optional[str] = CONTENT_TYPE,
    accept: Optional[str] = ACCEPT, startup_timeout: float = STARTUP_TIMEOUT,
    requests: int = REQUESTS, concurrency: int = CONCURRENCY,
    instances: int = INSTANCES, instance_type: Optional[str] = INSTANCE_TYPE, timeout: Optional[float] = TIMEOUT,
    network_isolation: bool = NETWORK_ISOLATION, env: Optional[List[str]] = ENV,
    output: Optional[Path] = typer.Option(None, "--output", help="Keep model.tar.gz here."),
    as_json: bool = AS_JSON, junit: Optional[Path] = JUNIT, pass_aws_credentials: bool = AWS, quiet: bool = QUIET,
    fail_on: str = FAIL_ON, transform_input: Optional[Path] = TRANSFORM_INPUT,
    transform_output: Optional[Path] = TRANSFORM_OUTPUT,
) -> None:
    """Train, then serve the model that training produced: one report. Takes every train and serve option."""
    from imagekit import smoke

    _check_inputs(image, junit, fail_on)
    _refuse_overwrites(junit, output=output, hp_file=hp_file, payloads=payload, data=data,
                       transform_input=transform_input)
    status = _StatusLine(quiet)
    with _live_logs(quiet, status):
        report = smoke.run_all(image, data=_channels(data), hyperparameters=_hyperparameters(hp, hp_file),
                               instances=instances, instance_type=instance_type, timeout=timeout,
                               network_isolation=network_isolation, payloads=payload, content_type=content_type,
                               accept=accept, startup_timeout=startup_timeout, env=_pairs(env, "--env"),
                               output=output, requests=requests, concurrency=concurrency,
                               pass_aws_credentials=pass_aws_credentials, on_check=_progress(as_json, status),
                               on_progress=status.waiting, transform_input=transform_input,
                               transform_output=transform_output)
    _finish(report, as_json, junit, fail_on)


@smoke_app.command("transform")
def transform_command(
    image: str = typer.Argument(..., help="Image in the engine."),
    model: Optional[Path] = MODEL,
    input: Path = typer.Option(..., "--input", help="Directory of input files (every file at any depth, "  # noqa: A002
                               "as an S3 prefix), or one file."),
    output: Path = typer.Option(..., "--output", help="Directory for <input path>.out results (created)."),
    split_type: str = typer.Option("None", "--split-type", help="None|Line|RecordIO|TFRecord: how a file is cut "
                                   "into records."),
    batch_strategy: Optional[str] = typer.Option(None, "--batch-strategy", help="SingleRecord|MultiRecord (default: "
                                                 "the container's /execution-parameters, else MultiRecord)."),
    max_payload: Optional[int] = typer.Option(None, "--max-payload", help="MaxPayloadInMB, 0-"
                                              f"{contract.TRANSFORM_MAX_PAYLOAD_IN_MB} (default: the container's, "
                                              f"else {contract.DEFAULT_MAX_PAYLOAD_IN_MB})."),
    max_concurrent: Optional[int] = typer.Option(None, "--max-concurrent", help="MaxConcurrentTransforms (default: "
                                                 "the container's, else 1)."),
    assemble_with: str = typer.Option("None", "--assemble-with", help="None|Line: Line writes a newline after "
                                      "each answer."),
    content_type: Optional[str] = typer.Option(None, "--content-type", help="ContentType of the requests."),
    accept: Optional[str] = typer.Option(None, "--accept", help="Accept of the requests."),
    join_source: str = typer.Option("None", "--join-source", help="None|Input: Input joins each prediction to "
                                    "its input record."),
    input_filter: str = typer.Option("$", "--input-filter", help="JSONPath selecting what is sent, e.g. '$[1:]'."),
    output_filter: str = typer.Option("$", "--output-filter", help="JSONPath selecting what is written, e.g. "
                                      "'$[0,-1]'."),
    invocation_timeout: float = typer.Option(contract.TRANSFORM_INVOCATION_TIMEOUT_S, "--invocation-timeout",
                                             help="Seconds per request (ModelClientConfig.InvocationsTimeoutInSeconds"
                                             ")."),
    max_retries: int = typer.Option(contract.TRANSFORM_INVOCATION_MAX_RETRIES, "--max-retries",
                                    help="Times a failed or timed-out request is sent again, 0-"
                                    f"{contract.TRANSFORM_INVOCATION_MAX_RETRIES} (ModelClientConfig."
                                    "InvocationsMaxRetries)."),
    compression: str = typer.Option("None", "--compression", help="None|Gzip: Gzip decompresses every input "
                                    "file before it is split (TransformInput.CompressionType)."),
    startup_timeout: float = STARTUP_TIMEOUT, env: Optional[List[str]] = ENV,
    as_json: bool = AS_JSON, junit: Optional[Path] = JUNIT, pass_aws_credentials: bool = AWS, quiet: bool = QUIET,
    fail_on: str = FAIL_ON,
) -> None:
    """Run IMAGE as a batch transform job does: /execution-parameters, split, batch, invoke, assemble .out files."""
    from imagekit.smoke.dataprocessing import DataProcessing
    from imagekit.smoke.transform import TransformSettings, transform

    _check_inputs(image, junit, fail_on)
    _refuse_overwrites(junit, model=model, transform_input=input)
    settings = TransformSettings(
        split_type=split_type, batch_strategy=batch_strategy, max_payload_mb=max_payload,
        max_concurrent=max_concurrent, assemble_with=assemble_with, content_type=content_type, accept=accept,
        processing=DataProcessing(input_filter=input_filter, join_source=join_source, output_filter=output_filter),
        invocation_timeout=invocation_timeout, max_retries=max_retries, compression=compression)
    status = _StatusLine(quiet)
    with _live_logs(quiet, status):
        report = transform(image, model=model, input=input, output=output, settings=settings,
                           env=_pairs(env, "--env"), startup_timeout=startup_timeout,
                           pass_aws_credentials=pass_aws_credentials, on_check=_progress(as_json, status),
                           on_progress=status.waiting)
    _finish(report, as_json, junit, fail_on)


@app.command()
def endpoint(
    variant: List[str] = typer.Option(..., "--variant", help="NAME=IMAGE:WEIGHT; repeatable."),
    model: Optional[Path] = MODEL, env: Optional[List[str]] = ENV,
    port: int = typer.Option(contract.SERVING_PORT, "--port", help="Port of the router on 127.0.0.1 (0: any free "
                             "one)."),
    startup_timeout: float = typer.Option(contract.STARTUP_HEALTH_TIMEOUT_S, "--startup-timeout",
                                          help="Seconds for each variant's /ping."),
    endpoint_name: str = typer.Option(contract.LOCAL_ENDPOINT_NAME, "--endpoint-name", help="The EndpointName boto3 "
                                      "clients use (InvokeEndpoint, DescribeEndpoint, CloudWatch dimensions)."),
    rollout: Optional[str] = typer.Option(None, "--rollout", help="Shift traffic to --rollout-to as SageMaker's "
                                          "guardrails do: canary:10%:60s, linear:10%:30s or all-at-once:60s; the "
                                          "run ends with the rollout (exit 1 when it rolled back)."),
    rollout_to: Optional[str] = typer.Option(None, "--rollout-to", help="The variant to roll out (default: the "
                                             "last --variant)."),
    rollback_if: Optional[List[str]] = typer.Option(None, "--rollback-if", help="An alarm on the new variant, "
                                                    "evaluated over each bake: 'Invocation5XXErrors>1%', "
                                                    "'ModelLatency.p99>200ms'; repeatable."),
    as_json: bool = typer.Option(False, "--json", help="Print the variants' metrics and the rollout's events as "
                                 "JSON on stdout when the run ends."),
    quiet: bool = QUIET,
) -> None:
    """Run production variants behind one local endpoint until Ctrl-C or SIGTERM (or a --rollout ends): boto3's
    sagemaker-runtime, sagemaker and cloudwatch clients work against it (endpoint_url=the printed URL)."""
    from imagekit.smoke.endpoint_session import EndpointSession

    session = EndpointSession.from_options(variant, endpoint_name=endpoint_name, rollout=rollout,
                                           rollout_to=rollout_to, rollback_if=rollback_if or [])
    with _live_logs(quiet):
        result = session.run(model=model, env=_pairs(env, "--env"), startup_timeout=startup_timeout, port=port,
                             quiet=quiet, say=lambda text: typer.echo(text, err=as_json))
    if as_json:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
    raise typer.Exit(1 if result.get("rollout", {}).get("outcome") == "rolled-back" else 0)


@app.command("run")
def run_command(
    image: str = typer.Argument(..., help="Image in the engine."),
    mode: str = typer.Argument(..., help="train, serve, or shell (a shell in the training host's /opt/ml tree)."),
    data: Optional[List[str]] = DATA, hp: Optional[List[str]] = HP, hp_file: Optional[Path] = HP_FILE,
    model: Optional[Path] = typer.Option(None, "--model", help="Model directory or model.tar.gz: read-only at "
                                         "/opt/ml/model for serve, copied into the writable one for shell."),
    env: Optional[List[str]] = ENV, instance_type: Optional[str] = INSTANCE_TYPE,
    port: int = typer.Option(contract.SERVING_PORT, "--port", help="Port on 127.0.0.1 that reaches the container's "
                             f"{contract.SERVING_PORT} (serve and shell)."),
    pass_aws_credentials: bool = AWS,
) -> None:
    """Run IMAGE train|serve|shell by hand, as smoke would start it (same /opt/ml tree, env and port), attached to
    this terminal; everything is removed on exit, Ctrl-C included. Exits with the container's code."""
    from imagekit.smoke.interactive import run

    _check_inputs(image, None)
    try:
        code = run(image, mode, data=_channels(data), hyperparameters=_hyperparameters(hp, hp_file),
                   model=model, env=_pairs(env, "--env"), instance_type=instance_type, port=port,
                   pass_aws_credentials=pass_aws_credentials)
    except KeyboardInterrupt:
        code = 130  # the container and its files are already removed
    raise typer.Exit(code)


EXAMPLES = {"--data": "train=data/train", "--hp": "epochs=3", "--env": "KEY=VALUE"}  # one that fits each option


def _pairs(items: Optional[List[str]], flag: str) -> dict[str, str]:
    pairs = {}
    for item in items or []:
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise ImagekitError(f"{flag} {item!r} is not KEY=VALUE.", f"For example: {flag} {EXAMPLES[flag]}.")
        pairs[key] = value
    return pairs


def _channels(items: Optional[List[str]]) -> dict[str, str]:
    """--data CHANNEL=DIR pairs; a channel given twice is refused (channels are keys of inputdataconfig.json, and
    CreateTrainingJob's InputDataConfig takes one entry per name), not silently replaced by the last."""
    directories: dict[str, list[str]] = {}
    for item in items or []:
        for key, value in _pairs([item], "--data").items():
            directories.setdefault(key, []).append(value)
    for channel, given in directories.items():
        if len(given) > 1:
            raise ImagekitError(f"--data {channel} given {len(given)} times ({', '.join(given)}): a training job has "
                                "one directory per channel.",
                                f"Give --data {channel}=DIR once (put the files in one directory), or name the "
                                "other channel differently.")
    return {channel: given[0] for channel, given in directories.items()}


def _hyperparameters(items: Optional[List[str]], file: Optional[Path]) -> dict[str, str]:
    values: dict[str, str] = {}
    if file is not None:
        example = "Pass a JSON object such as {\"epochs\": 3}."
        if not file.exists():
            raise ImagekitError(f"Hyperparameter file {file} does not exist.", f"Check the --hp-file path. {example}")
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or error
            raise ImagekitError(f"Cannot read hyperparameter file {file}: {reason}.",
                                f"Check the --hp-file path. {example}") from None
        try:
            loaded = json.loads(text)
        except ValueError as error:
            raise ImagekitError(f"Hyperparameter file {file} is not valid JSON: {error}.", example) from None
        if not isinstance(loaded, dict):
            raise ImagekitError(f"--hp-file {file} is not a JSON object.",
                                "Pass a JSON object such as {\"epochs\": 3}.")
        values.update({key: value if isinstance(value, str) else json.dumps(value) for key, value in loaded.items()})
    values.update(_pairs(items, "--hp"))
    return values


def _progress(as_json: bool, status: "_StatusLine | None" = None):
    stream = sys.stderr if as_json else sys.stdout

    def show(check) -> None:
        if status:
            status.clear()
        mark = "ok  " if check.ok else "SKIP" if check.skipped else "WARN" if check.severity == "warning" else "FAIL"
        stream.write(f"{mark} {check.name}: {check.detail}\n")
        stream.flush()

    return show


class _StatusLine:
    """The "waiting for /ping" indicator on stderr: one line rewritten in place on a terminal (log lines streamed
    meanwhile are written above it), a plain line every PROGRESS_INTERVAL_S otherwise; nothing with --quiet."""

    def __init__(self, quiet: bool) -> None:
        import threading

        self.quiet, self.tty, self.lock = quiet, sys.stderr.isatty(), threading.Lock()
        self.shown, self.last = "", float("-inf")

    def waiting(self, elapsed: float, window: float, seen: str) -> None:
        if self.quiet:
            return
        line = f"waiting for /ping: {elapsed:.0f} s of {window:g} s ({seen})"
        with self.lock:
            if self.tty:
                self.shown = line[:shutil.get_terminal_size().columns - 1]
                sys.stderr.write(f"\r\033[K{self.shown}")
            elif elapsed - self.last >= contract.PROGRESS_INTERVAL_S:
                self.last = elapsed
                sys.stderr.write(line + "\n")
            sys.stderr.flush()

    def clear(self) -> None:
        with self.lock:
            if self.shown:
                sys.stderr.write("\r\033[K")
                sys.stderr.flush()
                self.shown = ""

    def above(self, write: Callable[[str], None]) -> Callable[[str], None]:
        """*write* (a log line sink), keeping the in-place line below what it writes."""
        def sink(line: str) -> None:
            with self.lock:
                if self.shown:
                    sys.stderr.write("\r\033[K")
                write(line)
                if self.shown:
                    sys.stderr.write(self.shown)
                    sys.stderr.flush()
        return sink


def _live_logs(quiet: bool, status: _StatusLine | None = None):
    """Stream the containers' logs to stderr unless --quiet: stdout stays the report's (--json)."""
    from imagekit.smoke import logs

    if quiet:
        return logs.live(None)
    return logs.live(status.above(logs.stderr_sink()) if status else logs.stderr_sink())


def _check_inputs(image: Optional[str], junit: Optional[Path], fail_on: str = "error") -> None:
    """Refuse a malformed image reference, an unknown --fail-on and a --junit path that cannot be written before
    the engine is asked, not after the run (its missing directories are created only when the report is written)."""
    from imagekit.smoke.report import check_fail_on

    check_fail_on(fail_on)
    if image is not None:
        from imagekit.engine import check_reference

        check_reference(image)
    if junit is None:
        return
    hint = "Name a file in a directory you can write to, e.g. --junit reports/smoke.xml."
    if junit.is_dir():
        raise ImagekitError(f"--junit {junit} is a directory.", hint)
    existing = next(folder for folder in junit.absolute().parents if folder.exists())  # created when written
    if not existing.is_dir():
        raise ImagekitError(f"--junit {junit}: cannot create its directory {junit.parent}: {existing} is not a "
                            "directory.", hint)
    if not os.access(junit if junit.exists() else existing, os.W_OK):
        raise ImagekitError(f"--junit {junit} cannot be written: permission denied.", hint)


def _refuse_overwrites(junit: Optional[Path], output: Optional[Path] = None, hp_file: Optional[Path] = None,
                       model: Optional[Path] = None, payloads: Optional[List[Path]] = None,
                       transform_input: Optional[Path] = None, data: Optional[List[str]] = None,
                       source_dir: Optional[Path] = None) -> None:
    """No --junit report or --output model.tar.gz written over, or into, what the run reads (or over each other):
    a file, a channel's directory, the shipped code, a transform input."""
    from imagekit.safe_io import refuse_overwriting_inputs

    refuse_overwriting_inputs({"--output": output, "--junit": junit}, {
        "the --hp-file": [hp_file], "the --model": [model], "a --payload": payloads or [],
        "the --input": [transform_input], "a --data channel": [item.partition("=")[2] for item in data or []],
        "the --source-dir": [source_dir]})


def _finish(report, as_json: bool, junit: Optional[Path], fail_on: str = "error") -> None:
    report.fail_on = fail_on
    if as_json:
        sys.stdout.write(report.to_json())
    else:
        failed, warnings = report.failed(), report.warnings()
        verdict = f"{len(failed)} check(s) failed: {', '.join(failed)}" if failed else \
            "every contract check passed"
        if warnings:
            verdict += f"; {len(warnings)} warning(s): {', '.join(warnings)}"
        if report.skipped():
            verdict += f"; not run: {', '.join(report.skipped())}"
        sys.stdout.write(f"{report.image}: {verdict}.\n")
    sys.stdout.flush()
    if junit:
        report.write_junit(junit)  # after the report is out: a write error (ImagekitError) does not hide it
    raise typer.Exit(0 if report.ok else 1)
