"""`imagekit smoke train`: run `docker run IMAGE train` on N hosts exactly as a SageMaker training job does."""

from __future__ import annotations

import json
import re
import shutil
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from pathlib import Path
from typing import Any, Callable

from imagekit import contract, engine
from imagekit.errors import ImagekitError
from imagekit.smoke import diagnose, hardware, logs
from imagekit.smoke.common import check_seconds, environment, finish_run, log_tail, run_workdir
from imagekit.smoke.exit_causes import config_cause
from imagekit.smoke.layout import MergedModel, host_tree, merge_models, pack_model, unpackable_links
from imagekit.smoke.report import Check, Report


def train(image: str, *, data: dict[str, str | Path] | None = None, hyperparameters: dict[str, str] | None = None,
          instances: int = 1, instance_type: str | None = None, env: dict[str, str] | None = None,
          timeout: float | None = None, network_isolation: bool = False, output: str | Path | None = None,
          stop_grace: float = contract.TRAIN_STOP_GRACE_S, pass_aws_credentials: bool = False,
          on_check: Callable[[Check], None] | None = None, source_dir: str | Path | None = None,
          entry_point: str | None = None) -> Report:
    """Train on `instances` hosts algo-1..N; checks exit codes, the model, the failure file and stopping.

    *source_dir* and *entry_point* ship code with the job the way SDK local mode does: the directory is mounted
    at /opt/ml/code and named by the sagemaker_submit_directory / sagemaker_program hyperparameters.

    Every host's model, merged as SageMaker merges them (a later host's file over an earlier one's), is packed as
    model.tar.gz into *output* (kept) or a temp dir (removed), and its path is in report.data["model_archive"]
    when *output* is given.
    """
    channels = job_channels(data, hyperparameters)
    code_volume, shipped = _shipped_code(source_dir, entry_point)
    if instances < 1:
        raise ImagekitError(f"--instances must be at least 1, not {instances}.", "Use --instances 1 or more.")
    check_seconds("--timeout", timeout, "Omit it to wait for training to end, or give the job's "
                  "MaxRuntimeInSeconds.")
    if output is not None and Path(output).exists() and not Path(output).is_dir():
        raise ImagekitError(f"--output {output} is a file; model.tar.gz is written into a directory.",
                            "Pass a directory (it is created when missing).")
    if output is not None:
        try:  # now rather than after the job has run
            Path(output).mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ImagekitError(f"--output {output} cannot be created: {error.strerror or error}.",
                                "Pass a directory you can write to.") from None
    engine.require_image(image)
    if output is not None:
        _forget_archive(Path(output) / contract.MODEL_ARCHIVE_NAME)
    instance_type = instance_type or contract.DEFAULT_INSTANCE_TYPE
    placement = hardware.place(instance_type, hosts=instances)
    report = Report(image, on_check=on_check)
    hardware.check(report, contract.TRAIN_COMMAND, placement)
    run_id = engine.new_run_id()
    work = run_workdir("train")
    hosts = [contract.host_name(i + 1) for i in range(instances)]
    try:
        # Network isolation: no network at all on one host; with several, an internal network (peers only, as
        # the platform still lets a distributed job's hosts talk to each other) and no way out.
        alone = network_isolation and instances == 1
        network = None if alone else engine.create_network(run_id, f"imagekit-{run_id}", internal=network_isolation,
                                                           pinned=True)
        addresses = engine.peer_addresses(network, hosts) if network else {}
        containers = []
        for host in hosts:
            # No network has no address to give: the host's own name is loopback, as the only peer it has.
            placement = {"network_mode": "none", "extra_hosts": {host: "127.0.0.1"}} if alone else \
                {"network": network, "aliases": [host], "address": addresses[host], "extra_hosts": addresses}
            host_spec = training_host(run_id, work, host, hosts, channels=channels,
                                      hyperparameters={**(hyperparameters or {}), **shipped},
                                      instance_type=instance_type, env=env, pass_aws_credentials=pass_aws_credentials)
            host_spec["volumes"].update(code_volume)  # --source-dir over the image's code dir
            containers.append(engine.create_container(
                run_id, image, [contract.TRAIN_COMMAND], name=f"imagekit-{run_id}-{host}", **placement, **host_spec))
        try:
            for host, container in zip(hosts, containers, strict=True):
                engine.start_container(container, contract.TRAIN_COMMAND)
                logs.follow(report, container, host)
        except engine.StartRefused as refused:
            problem = diagnose.command_problem(diagnose.command_file(container, contract.TRAIN_COMMAND))
            report.check("train.start", False, f"{refused.message}{f' {problem}' if problem else ''} {refused.hint}")
            return report
        started = time.monotonic()
        results = wait_for_job(hosts, containers, started, timeout, stop_grace)
        report.data["train_seconds"] = round(time.monotonic() - started, 2)
        for host, container, (exit_code, stopped_by) in zip(hosts, containers, results, strict=True):
            _judge_host(report, host, work / host, container, exit_code, stopped_by, stop_grace, multi=instances > 1)
        model = merge_models({host: work / host / "model" for host in hosts})
        if all(result == (0, "exited") for result in results):
            _judge_model(report, model, hosts, containers)
        if output is not None and report.ok and model.entries:
            try:
                archive = pack_model(model, Path(output) / contract.MODEL_ARCHIVE_NAME)
            except OSError as error:
                raise ImagekitError(f"Cannot write {Path(output) / contract.MODEL_ARCHIVE_NAME}: "
                                    f"{error.strerror or error}.", "Check the --output path and its permissions.") \
                    from None
            report.data["model_archive"] = str(archive)
        return report
    finally:
        finish_run(run_id, work, stop_grace)


def run_all(image: str, *, data: dict[str, str | Path] | None = None,
            hyperparameters: dict[str, str] | None = None, payloads: list[str | Path] | None = None,
            content_type: str | None = None, env: dict[str, str] | None = None, output: str | Path | None = None,
            pass_aws_credentials: bool = False, instances: int = 1, instance_type: str | None = None,
            timeout: float | None = None, network_isolation: bool = False,
            on_check: Callable[[Check], None] | None = None, transform_input: str | Path | None = None,
            transform_output: str | Path | None = None, **serve_options) -> Report:
    """Train, then serve the model that training produced: one report for both.

    Takes every option of ``train`` (the job) and of ``serve`` (*serve_options*: startup_timeout, requests, ...).
    With *transform_input*, a batch transform job over it follows (smoke.transform.transform_step).
    """
    from imagekit.smoke.invoke_input import check_request_options
    from imagekit.smoke.serving import check_load_options, check_startup_timeout, serve

    check_startup_timeout(serve_options.get("startup_timeout", contract.STARTUP_HEALTH_TIMEOUT_S))
    check_load_options(serve_options.get("requests", 0), serve_options.get("concurrency", 1), payloads)
    check_request_options(payloads, content_type, serve_options.get("accept"))
    keep = Path(output) if output else run_workdir("all")
    try:
        report = train(image, data=data, hyperparameters=hyperparameters, env=env, output=keep,
                       instances=instances, instance_type=instance_type, timeout=timeout,
                       network_isolation=network_isolation, pass_aws_credentials=pass_aws_credentials,
                       on_check=on_check)
        archive = report.data.get("model_archive")
        if not archive:
            report.check("all.serve-skipped", False, "Serving was not tried: training produced no model.")
            return report
        report.extend(serve(image, model=archive, payloads=payloads, content_type=content_type, env=env,
                            pass_aws_credentials=pass_aws_credentials, on_check=on_check,
                            instance_type=instance_type, **serve_options))
        if transform_input is not None:
            from imagekit.smoke.transform import transform_step

            report.extend(transform_step(image, archive, transform_input, transform_output or keep / "transform",
                                         content_type=content_type, accept=serve_options.get("accept"), env=env,
                                         pass_aws_credentials=pass_aws_credentials, on_check=on_check))
        if output is None:
            del report.data["model_archive"]  # it lived in a temp dir, removed below
        return report
    finally:
        if output is None:
            shutil.rmtree(keep, ignore_errors=True)


def job_channels(data: dict[str, str | Path] | None, hyperparameters: dict[str, str] | None) -> dict[str, Path]:
    """The channel directories of a training job, once its inputs are known to be ones CreateTrainingJob takes."""
    if len(hyperparameters or {}) > contract.MAX_HYPERPARAMETERS:
        raise ImagekitError(f"{len(hyperparameters)} hyperparameters were given; CreateTrainingJob accepts at most "
                            f"{contract.MAX_HYPERPARAMETERS}.",
                            "Group settings into one JSON-valued hyperparameter or a config file in a channel.")
    return {name: _channel_dir(name, path) for name, path in (data or {}).items()}


def training_host(run_id: str, work: Path, host: str, hosts: list[str], *, channels: dict[str, Path],
                  hyperparameters: dict[str, str], instance_type: str, env: dict[str, str] | None,
                  pass_aws_credentials: bool) -> dict[str, Any]:
    """What `docker create` needs to make a container *host* of training job *run_id*: its hostname, its /opt/ml
    tree (written under *work*/*host*), the job's environment and the instance type's CPU, memory and GPUs."""
    job = {contract.ENV_TRAINING_JOB_NAME: f"imagekit-smoke-{run_id}",
           contract.ENV_TRAINING_JOB_ARN: f"arn:aws:sagemaker:local:000000000000:training-job/imagekit-smoke-{run_id}"}
    return {"hostname": host, "environment": environment(job, env, pass_aws_credentials),
            "volumes": host_tree(work / host, host, hosts, channels=channels, hyperparameters=hyperparameters,
                                 instance_type=instance_type),
            **hardware.place(instance_type, hosts.index(host), len(hosts)).options}


def _shipped_code(source_dir: str | Path | None, entry_point: str | None) -> tuple[dict, dict[str, str]]:
    """(volume, hyperparameters) that ship *source_dir* with the job as SDK local mode does."""
    if source_dir is None and entry_point is None:
        return {}, {}
    if source_dir is None or entry_point is None:
        raise ImagekitError("--source-dir and --entry-point go together.",
                            "Give both, e.g. --source-dir src --entry-point train.py, as an SDK estimator does.")
    source = Path(source_dir)
    if not source.is_dir():
        raise ImagekitError(f"--source-dir {source} is not a directory.", "Pass the directory holding your code.")
    script = source / entry_point
    if Path(entry_point).is_absolute() or ".." in Path(entry_point).parts or not script.is_file():
        raise ImagekitError(f"--entry-point {entry_point} is not a file inside {source}.",
                            "Give the script's path relative to --source-dir, e.g. train.py.")
    volume = {str(source.resolve()): {"bind": str(contract.CODE_DIR), "mode": "rw"}}  # local mode mounts it rw
    return volume, {contract.HP_PROGRAM: json.dumps(entry_point),
                    contract.HP_SUBMIT_DIRECTORY: json.dumps(str(contract.CODE_DIR))}


def _channel_dir(name: str, path: str | Path) -> Path:
    if not re.fullmatch(contract.CHANNEL_NAME_PATTERN, name) or len(name) > contract.CHANNEL_NAME_MAX_CHARS \
            or name in (".", ".."):
        raise ImagekitError(f"Channel name {name!r} is not one CreateTrainingJob accepts: a ChannelName is 1-"
                            f"{contract.CHANNEL_NAME_MAX_CHARS} letters, digits, '.', '-' or '_' (pattern "
                            f"{contract.CHANNEL_NAME_PATTERN}), and it names the directory "
                            f"{contract.channel_dir('CHANNEL')}, so not '.' or '..'.",
                            "Rename the channel, e.g. --data train=data/train.")
    directory = Path(path)
    if not directory.is_dir():
        raise ImagekitError(f"Data for channel {name!r} must be a directory; {directory} is not one.",
                            "Pass --data CHANNEL=DIR with an existing directory (files in it appear under "
                            f"{contract.channel_dir(name)}).")
    return directory


def _wait(container, started: float, timeout: float | None, stop_grace: float) -> tuple[int | None, str]:
    """Wait for exit; past *timeout* stop it like StopTrainingJob: SIGTERM, SIGKILL after the grace period.

    Returns (exit code, how it ended: "exited", "sigterm" (exited within the grace) or "sigkill").
    """
    remaining = None if timeout is None else max(timeout - (time.monotonic() - started), 0.1)
    try:
        return container.wait(timeout=remaining)["StatusCode"], "exited"
    except Exception as error:  # requests' ReadTimeout: the job ran past its time limit
        if "timed out" not in str(error).lower() and "timeout" not in type(error).__name__.lower():
            raise
    engine.send_signal(container, "SIGTERM")
    try:
        return container.wait(timeout=stop_grace)["StatusCode"], "sigterm"
    except Exception:
        engine.send_signal(container, "SIGKILL")
        return container.wait(timeout=30)["StatusCode"], "sigkill"


def wait_for_job(hosts: list[str], containers: list, started: float, timeout: float | None,
                 stop_grace: float) -> list[tuple[int | None, str]]:
    """Each host's (exit code, how it ended) as _wait gives it; when one host exits non-zero, the others are stopped
    as SageMaker ends the job (SIGTERM, SIGKILL after the grace) and end "stopped after HOST failed" (exited within
    the grace) or "killed after HOST failed" (still running when it was over)."""
    pool = ThreadPoolExecutor(max_workers=len(containers))
    try:
        waits = {pool.submit(_wait, container, started, timeout, stop_grace): index
                 for index, container in enumerate(containers)}
        pending, failed = set(waits), None
        while pending and failed is None:
            done, pending = futures_wait(pending, return_when=FIRST_COMPLETED)
            failed = next((waits[f] for f in done if f.result()[1] == "exited" and f.result()[0] != 0), None)
        stopped = {waits[future] for future in pending}
        for index in stopped:
            engine.send_signal(containers[index], "SIGTERM")
        killed = {waits[future] for future in futures_wait(pending, timeout=stop_grace).not_done}
        for index in killed:
            engine.send_signal(containers[index], "SIGKILL")
        results = [future.result() for future in sorted(waits, key=waits.get)]
    finally:  # on an engine error, do not block on the hosts still running (finish_run removes them)
        pool.shutdown(wait=False)
    return [(code, PEER_ENDED.format(how="killed" if index in killed else "stopped", host=hosts[failed])
             if index in stopped else how)
            for index, (code, how) in enumerate(results)]


PEER_ENDED = "{how} after {host} failed"  # how a host that another host's failure ended went
PEER_ENDED_PATTERN = re.compile(r"(?P<how>stopped|killed) after (?P<host>\S+) failed")


def _judge_host(report: Report, host: str, tree: Path, container, exit_code: int | None, stopped_by: str,
                stop_grace: float, multi: bool) -> None:
    name = f"train.{host}" if multi else "train"
    logs = log_tail(container)
    failure_file = tree / "output" / contract.FAILURE_FILE.name
    reason = ""
    if failure_file.exists():
        reason = failure_file.read_text("utf-8", "replace")[:contract.FAILURE_REASON_MAX_CHARS]
    peer = PEER_ENDED_PATTERN.fullmatch(stopped_by)
    if peer:
        _judge_stopped_peer(report, name, exit_code, peer["how"] == "killed", peer["host"], stop_grace)
        if not reason:
            return
        stopped_by = "exited"  # it wrote a failure file (its program's answer to SIGTERM, or a failure of its own)
        if exit_code == 0:
            return  # finished on its own: judged above (its failure file below only when it exits non-zero)
    if stopped_by != "exited":
        report.check(f"{name}.timeout", False, "Training ran past --timeout and was stopped.")
        report.check(f"{name}.sigterm", stopped_by == "sigterm",
                     "It exited on SIGTERM." if stopped_by == "sigterm" else _ignored_sigterm(stop_grace))
        return
    if exit_code == 0:
        report.check(f"{name}.exit-code", True, "train exited 0.")
        if reason:
            first_line = next((line.strip() for line in reason.splitlines() if line.strip()), "")
            report.check(FAILURE_FILE_CHECK, False,
                         f"{host if multi else 'train'} exited 0 but wrote {contract.FAILURE_FILE}: "
                         f"{first_line!r}. SageMaker reports the job Completed and ignores it — exit non-zero "
                         "after writing it (e.g. sys.exit(1) in the except branch that writes it).")
        return
    container.reload()
    oom_killed = bool((container.attrs.get("State") or {}).get("OOMKilled"))
    cause = config_cause(container, contract.TRAIN_COMMAND, exit_code) or \
        diagnose.exit_cause(exit_code, oom_killed, diagnose.recent_log(container),
                            diagnose.command_file(container, contract.TRAIN_COMMAND))
    detail = f"train exited {exit_code}: {cause}"
    detail += (f" Failure reason ({contract.FAILURE_FILE}): {reason}" if reason else
               f" No {contract.FAILURE_FILE} was written, so the job's FailureReason would be generic.")
    report.check(f"{name}.exit-code", False, f"{detail}\nLog tail:\n{logs}")
    report.data.setdefault("failure_reasons", {})[host] = reason
    rank = failed_rank(reason)
    if rank:
        report.check(f"{name}.mpi-rank", False, f"MPI rank {rank['rank']} on {rank['host']} failed first "
                     f"({rank['ended']}); mpirun then stopped the other ranks.")
        report.data["failed_rank"] = rank


FAILURE_FILE_CHECK = "train.failure-file"  # a warning (report.WARNING_CHECKS): the platform ignores the text


def _judge_stopped_peer(report: Report, name: str, exit_code: int | None, killed: bool, failed_host: str,
                        stop_grace: float) -> None:
    """A host SIGTERMed because *failed_host* failed: its SIGTERM handling judged as a single host's is."""
    if exit_code == 0 and not killed:
        report.check(f"{name}.exit-code", True, f"train exited 0 after the SIGTERM sent when {failed_host} failed: "
                     "it finished on its own (or its SIGTERM handler exited 0); SageMaker fails the job anyway.")
        return
    report.check(f"{name}.stopped", True, f"It was stopped after {failed_host} failed, as SageMaker ends a job when "
                 f"one host fails (exit code {exit_code}).")
    if killed:
        report.check(f"{name}.sigterm", False, _ignored_sigterm(stop_grace))


def _ignored_sigterm(stop_grace: float) -> str:
    return (f"It ignored SIGTERM and was killed after {stop_grace:g} s (SageMaker waits 120 s, then SIGKILL: "
            "checkpoints written in a SIGTERM handler would be lost).")


def _forget_archive(archive: Path) -> None:
    """An earlier run's model.tar.gz in --output goes before this run starts: a run that writes none must not leave
    a stale one for the next step (`smoke serve --model`, an upload) to pick up."""
    try:
        archive.unlink(missing_ok=True)
    except OSError as error:
        raise ImagekitError(f"Cannot remove the earlier {archive}: {error.strerror or error}.",
                            "Check the --output path and its permissions.") from None


CLASHES_SHOWN = 10  # paths a train.model-clash check names; a job saving per host may clash on thousands


def _judge_model(report: Report, model: MergedModel, hosts: list[str], containers: list) -> None:
    """`train.model` on every host's model merged into one, as SageMaker uploads it (any host may save it, e.g.
    only the last rank's), and `train.model-clash` (one warning) naming the paths hosts wrote with different bytes."""
    where = contract.MODEL_DIR if len(hosts) == 1 else f"{contract.MODEL_DIR} of any of the {len(hosts)} hosts"
    if model.files:
        report.check("train.model", True, f"{model.files} file(s) in {where}." if len(hosts) == 1 else
                     f"{model.files} file(s) in the {len(hosts)} hosts' {contract.MODEL_DIR}, merged into one "
                     "model.tar.gz as SageMaker uploads it.")
    else:
        tails = "\n".join(f"{host}:\n{log_tail(container)}" if len(hosts) > 1 else log_tail(container)
                          for host, container in zip(hosts, containers, strict=True))
        report.check("train.model", False, f"train exited 0 but wrote nothing to {where}: SageMaker would upload an "
                     f"empty model.tar.gz. Log tail:\n{tails}")
    unpackable = unpackable_links(model)
    if unpackable:
        shown = [f"{contract.MODEL_DIR / path} -> {why}" for path, why in list(unpackable.items())[:CLASHES_SHOWN]]
        more = len(unpackable) - len(shown)
        report.check("train.model-links", False,
                     f"Links that resolve nowhere in the model were left out of model.tar.gz: {'; '.join(shown)}"
                     f"{f'; and {more} more' if more else ''}. The model is packed with links followed (as SDK local "
                     f"mode does), so what they point to is not part of it. Save the files themselves in "
                     f"{contract.MODEL_DIR}, or links to files in it.")
    if model.clashes:
        shown = [f"{contract.MODEL_DIR / path} by {', '.join(writers)} ({writers[-1]}'s was kept)"
                 for path, writers in list(model.clashes.items())[:CLASHES_SHOWN]]
        more = len(model.clashes) - len(shown)
        report.check("train.model-clash", False,
                     f"Hosts wrote the same path with different contents: {'; '.join(shown)}"
                     f"{f'; and {more} more' if more else ''}. SageMaker merges every host's {contract.MODEL_DIR} "
                     "into one model.tar.gz, so one silently overwrites the others (here the last host's was kept). "
                     "Save the model on one host only (e.g. rank 0), or give each host's files names of their own.")


def failed_rank(reason: str) -> dict[str, Any] | None:
    """{rank, host, ended} when a failure reason names the MPI rank that failed first (contract.MPI_RANK_FAILURE)."""
    pattern = re.escape(contract.MPI_RANK_FAILURE)
    for field, value in (("rank", r"(?P<rank>\d+)"), ("host", r"(?P<host>\S+)"), ("ended", r"(?P<ended>[^)]*)")):
        pattern = pattern.replace(re.escape("{" + field + "}"), value)
    found = re.match(pattern, reason)
    return {**found.groupdict(), "rank": int(found["rank"])} if found else None
