"""`train`: read SageMaker's config files, export the training toolkit's environment, run the user's program.

Behaviour follows sagemaker-training so scripts written for AWS's framework images run unchanged:
hyperparameter values are JSON-decoded (raw string when that fails); the toolkit's own keys (`sagemaker_program`,
`_tuning_objective_metric`, ...) and other `sagemaker_*` framework parameters are kept out of the arguments; the
rest become sorted `--key value` arguments (null as "", dicts as sorted k=v pairs), and SM_* variables use the
toolkit's encoding (strings as-is, null as "", anything else compact JSON with sorted keys). Code shipped with
`sagemaker_submit_directory` is fetched and its requirements installed first. Unlike the toolkit, SIGTERM is
forwarded to the program and the failure file starts with the reason. SAGEMAKER_TRAINING_MODULE naming an
importable `module:function` (what AWS's framework containers set) hands the whole job over to it, as the
toolkit does.
"""

import collections
import importlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import traceback

from imagekit_runtime.config import CONFIG, C, log, usable_cpus
from imagekit_runtime.distributed import torchrun_command, wait_for_hosts
from imagekit_runtime.shipped import fetch_code, install_code

STDERR_TAIL_LINES = 40


def _read_json(path, default):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return default
    except (OSError, ValueError) as error:
        raise RuntimeError(f"{path} is not valid JSON: {error}") from None


def _decode(value):
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


def _text(value):
    """The toolkit's str(): null is the empty string."""
    return "" if value is None else str(value)


def _env_value(value):
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def to_cmd_args(hyperparameters):
    """Sorted `--key value` (`-k value` for one letter); dicts as sorted k1=v1,k2=v2; null as ""."""
    args = []
    for key in sorted(hyperparameters):
        value = hyperparameters[key]
        if isinstance(value, dict):
            value = ",".join(f"{k}={v}" for k, v in sorted(value.items()))
        args += [("-" if len(key) == 1 else "--") + key, _text(value)]
    return args


def gpu_count():
    if not shutil.which("nvidia-smi"):
        return 0
    try:
        listing = subprocess.run(["nvidia-smi", "--list-gpus"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(1 for line in listing.stdout.splitlines() if line.startswith("GPU "))


def channels_from(input_data_config):
    """Channel names: from inputdataconfig.json, else the directories present under input/data."""
    if input_data_config:
        return sorted(input_data_config)
    data_dir = C["input_data_dir"]
    return sorted(d for d in os.listdir(data_dir) if os.path.isdir(os.path.join(data_dir, d))) \
        if os.path.isdir(data_dir) else []


def _program(sagemaker):
    """SAGEMAKER_PROGRAM (env, then hyperparameter), or None."""
    return os.environ.get(C["env_program"]) or sagemaker.get(C["hp_program"])


def _distribution_groups(framework, group_name):
    """The toolkit's distribution instance groups: as given, else the current group when a distribution is on."""
    if C["hp_distribution_groups"] in framework:
        return framework[C["hp_distribution_groups"]]
    return [group_name] if any(framework.get(flag) for flag in C["distribution_hps"]) else []


def training_environment():
    """(training_env mapping, user hyperparameters, sagemaker parameters), as sagemaker-training builds them.

    The mapping has the keys of the toolkit's Environment (what SM_TRAINING_ENV holds); hosts keep
    resourceconfig.json's order, as the toolkit's do.
    """
    raw = _read_json(C["hyperparameters_file"], {})
    decoded = {key: _decode(value) for key, value in raw.items()}
    reserved = set(C["toolkit_hps"])
    sagemaker = {k: v for k, v in decoded.items() if k in reserved or k.startswith(C["framework_hp_prefix"])}
    framework = {k: v for k, v in sagemaker.items() if k not in reserved}
    user = {k: v for k, v in decoded.items() if k not in sagemaker}
    default_host = C["default_host"]
    resource = _read_json(C["resource_config_file"], {"current_host": default_host, "hosts": [default_host]})
    input_data = _read_json(C["input_data_config_file"], {})
    hosts = list(resource.get("hosts") or [default_host])
    current = resource.get("current_host") or hosts[0]
    groups = resource.get("instance_groups") or []
    group_name = resource.get("current_group_name", C["homogeneous_group"])
    distribution_groups = _distribution_groups(framework, group_name)
    distribution_hosts = [host for g in groups if g.get("instance_group_name") in distribution_groups
                          for host in g.get("hosts", [])] if groups else list(hosts)
    master = distribution_hosts[0] if distribution_hosts else hosts[0]
    channels = channels_from(input_data)
    train = CONFIG.get("train") or {}
    entry = _program(sagemaker) or train.get("target")
    env = {
        "additional_framework_parameters": framework,
        "channel_input_dirs": {name: os.path.join(C["input_data_dir"], name) for name in channels},
        "current_host": current, "current_instance_group": group_name,
        "current_instance_group_hosts": next((g.get("hosts", []) for g in groups
                                              if g.get("instance_group_name") == group_name), []),
        "current_instance_type": resource.get("current_instance_type", C["default_instance_type"]),
        "distribution_hosts": distribution_hosts, "distribution_instance_groups": distribution_groups,
        "framework_module": os.environ.get(C["env_training_module"]), "hosts": hosts, "hyperparameters": user,
        "input_config_dir": C["input_config_dir"], "input_data_config": input_data, "input_dir": C["input_dir"],
        "instance_groups": [g.get("instance_group_name") for g in groups],
        "instance_groups_dict": {g.get("instance_group_name"): g for g in groups}, "is_hetero": len(groups) > 1,
        "is_master": current == master, "is_modelparallel_enabled": None, "is_smddpmprun_installed": False,
        "is_smddprun_installed": False, "job_name": os.environ.get(C["env_job_name"]),
        "log_level": sagemaker.get(C["hp_log_level"], 20), "master_hostname": master, "model_dir": C["model_dir"],
        "module_dir": _text(sagemaker.get(C["hp_submit_directory"], C["code_dir"])),
        "module_name": _text(entry)[:-3] if _text(entry).endswith(".py") else str(entry),
        "network_interface_name": resource.get("network_interface_name", C["network_interface"]),
        "num_cpus": usable_cpus(), "num_gpus": gpu_count(), "num_neurons": 0,
        "output_data_dir": C["output_data_dir"], "output_dir": C["output_dir"],
        "output_intermediate_dir": C["output_intermediate_dir"], "resource_config": resource,
        "topology": resource.get("topology", []), "user_entry_point": entry,
    }
    return env, user, sagemaker


EXPORTED = ("hosts", "network_interface_name", "user_entry_point", "resource_config", "input_data_config",
            "output_data_dir", "current_host", "current_instance_type", "current_instance_group",
            "current_instance_group_hosts", "instance_groups", "instance_groups_dict", "distribution_instance_groups",
            "is_hetero", "module_name", "log_level", "framework_module", "input_dir", "input_config_dir",
            "output_dir", "num_cpus", "num_gpus", "num_neurons", "model_dir", "module_dir", "output_intermediate_dir")


def environment_variables(env):
    """The SM_* variables the toolkit exports (its to_env_vars), from the training_env mapping."""
    variables = {key: env[key] for key in EXPORTED}
    variables.update(hps=env["hyperparameters"], framework_params=env["additional_framework_parameters"],
                     channels=sorted(env["channel_input_dirs"]), training_env=env,
                     user_args=to_cmd_args(env["hyperparameters"]))
    if env["topology"]:
        variables["topology"] = env["topology"]
    variables.update({f"channel_{name}": path for name, path in env["channel_input_dirs"].items()})
    variables.update({f"hp_{key}": value for key, value in env["hyperparameters"].items()})
    return {C["sm_prefix"] + key.upper(): _env_value(value) for key, value in variables.items()}


def shipped_program(sagemaker):
    """The program to run (see _program); code sent with sagemaker_submit_directory is fetched into the code
    dir and installed first, as the toolkit does (also when it is already there, as in SDK local mode)."""
    program = _program(sagemaker)
    submitted = sagemaker.get(C["hp_submit_directory"])
    if submitted:
        fetch_code(str(submitted), C["code_dir"])
        install_code(C["code_dir"], str(program or ""))
    return program


def resolve_entry(env, program):
    """(kind, target, path, args) of the user's program: SAGEMAKER_PROGRAM overrides the spec's train entry."""
    train = CONFIG.get("train")
    fixed = list(train["args"]) if train and not program else []
    if program:
        kind, target = "script", str(program)
    elif train:
        kind, target = train["kind"], train["target"]
    else:
        raise RuntimeError("this image has no training entry: set `train:` in imagekit.yaml, or SAGEMAKER_PROGRAM")
    path = os.path.join(C["code_dir"], target)
    if kind == "script" and not os.path.isfile(path):
        raise RuntimeError(f"training script {path} does not exist (check `train.script` or SAGEMAKER_PROGRAM)")
    return kind, target, path, fixed + to_cmd_args(env["hyperparameters"])


def entry_command(env, entry, distribution):
    """argv of the user's program on this host (MPI ranks are started by mpirun: see mpi.rank_program)."""
    kind, target, path, args = entry
    if distribution == "torchrun":  # the script as the toolkit names it, relative to the code dir
        return torchrun_command(env, ["-m", target] if kind == "module" else [target], args)
    if kind == "module":
        return [sys.executable, "-m", target, *args]
    if target.endswith(".py"):
        return [sys.executable, path, *args]
    executable = _make_executable(path)
    if target.endswith(".sh") or not executable:
        return ["/bin/sh", path, *args]
    return [path, *args]


def _make_executable(path):
    """The toolkit chmods every entry point that is not Python (.sh included) before running it, so MPI ranks (which
    run it as ./target, as the toolkit's runner does) and other hosts can exec it; False when that is impossible."""
    if os.access(path, os.X_OK):
        return True
    try:
        os.chmod(path, os.stat(path).st_mode | 0o755)
    except OSError:
        return False
    return True


def distribution_of(env, framework):
    """Which launcher runs the job: an SDK estimator's distribution= hyperparameters first (on the hosts of its
    instance groups, as the toolkits decide), else the spec's `distribution`. Launchers that need AWS's GPU or
    Trainium libraries are refused here, before anything runs, rather than run single-host."""
    for name in C["hardware_distribution_hps"]:
        if framework.get(name):
            raise RuntimeError(f"{name} asks for a launcher that needs AWS's GPU/Trainium containers "
                               "(SageMaker's distributed libraries); this image cannot run it. Use "
                               "distribution={'mpi': ...} or torch_distributed, or an AWS framework image")
    if env["hyperparameters"].get(C["hp_model_parallel"]) not in (None, {}, "", "{}"):
        raise RuntimeError(f"the {C['hp_model_parallel']} hyperparameter asks for SageMaker's model parallel "
                           "library (smdistributed), which only AWS's GPU containers have; this image cannot run it")
    in_group = env["current_instance_group"] in env["distribution_instance_groups"]
    for flag, kind in ((C["hp_mpi_enabled"], "mpi"), (C["hp_parameter_server_enabled"], "parameter_server"),
                       (C["hp_torch_distributed_enabled"], "torchrun")):
        if framework.get(flag):
            return kind if in_group else "none"
    return CONFIG.get("distribution") or "none"


def _write_once(path, text):
    """The toolkit never overwrites a failure file the program wrote itself."""
    if os.path.exists(path):
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def exit_status(code):
    """A Popen return code as a shell reports it: a signal kill (-9) is 128 + the signal (137)."""
    return 128 - code if code < 0 else code


def failure_reason(exit_code, stderr_tail, command):
    """Reason first (the program's last stderr line, usually the exception), within the platform's 1024 chars."""
    lines = [line for line in stderr_tail if line.strip()]
    reason = lines[-1].strip() if lines else f"the training program exited with code {exit_code}"
    text = (f"{reason}\nExitCode {exit_code}\nCommand {' '.join(command)!r}\n"
            + "\n".join(lines[-STDERR_TAIL_LINES:]))
    return text[: C["failure_max_chars"]]


def _tee(stream, tail):
    """Copy the program's stderr to ours as it comes, keeping the last lines for the failure file."""
    for raw in iter(stream.readline, b""):
        sys.stderr.buffer.write(raw)
        sys.stderr.buffer.flush()
        tail.append(raw.decode("utf-8", "replace").rstrip("\n"))


def run(command, env, ranks=None):
    """Run *command*, forwarding SIGTERM/SIGINT to its process group; (exit code, stderr tail). With *ranks*
    (mpirun's RankLog) both streams go through it instead."""
    process = subprocess.Popen(command, cwd=C["code_dir"], env=env, stderr=subprocess.PIPE, start_new_session=True,
                               stdout=subprocess.PIPE if ranks else None)
    tail = collections.deque(maxlen=STDERR_TAIL_LINES)

    def forward(signum, _frame):
        log(f"received signal {signum}; forwarding it to the training program")
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            pass

    previous = {signum: signal.signal(signum, forward) for signum in (signal.SIGTERM, signal.SIGINT)}
    copies = [(ranks.copy, process.stdout, sys.stdout), (ranks.copy, process.stderr, sys.stderr)] if ranks \
        else [(_tee, process.stderr, tail)]
    readers = [threading.Thread(target=copy, args=args, daemon=True) for copy, *args in copies]
    for reader in readers:
        reader.start()
    try:
        code = process.wait()
    finally:  # back to what the caller had (a host that then only waits for others must still stop on SIGTERM)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    for reader in readers:
        reader.join(timeout=5)
    return code, list(tail)


def framework_entry():
    """(module, function) of SAGEMAKER_TRAINING_MODULE=module:function when that module is importable, else None
    (unset, or an image without that framework: then `train` runs the training entry itself)."""
    value = os.environ.get(C["env_training_module"], "").strip()
    if not value:
        return None
    module_name, _, function = value.partition(":")
    try:
        importable = bool(function) and importlib.util.find_spec(module_name) is not None
    except (ImportError, ValueError):
        importable = False
    if not importable:
        log(f"{C['env_training_module']}={value} is not an importable module:function; running the training "
            "entry instead")
        return None
    return module_name, function


def hand_over(module_name, function):
    """Run the framework's own trainer in this process like the toolkit's trainer.train(): success file when it
    returns; when it raises, a failure file with its message (a toolkit ClientError, such as the user script's
    ExecuteUserScriptError) or "Framework Error" and the traceback, and exit with the error's errno or 1."""
    log(f"{C['env_training_module']}: handing the job over to {module_name}:{function}")
    try:
        getattr(importlib.import_module(module_name), function)()
    except Exception as error:
        trace = traceback.format_exc()
        sys.stderr.write(trace)
        client_error = any(kind.__name__ == "ClientError" for kind in type(error).__mro__)
        _write_once(C["failure_file"], str(error) if client_error else f"Framework Error: \n{trace}\n{error}")
        errno = None if client_error else getattr(error, "errno", None)
        return errno if isinstance(errno, int) and errno else 1
    _write_once(C["success_file"], "")
    return 0


def main():
    """Run the job; any error of ours (bad config, a program that cannot start) still ends in the failure file."""
    framework = framework_entry()
    if framework:
        return hand_over(*framework)
    try:
        env, user, sagemaker = training_environment()
        distribution = distribution_of(env, env["additional_framework_parameters"])
        entry = resolve_entry(env, shipped_program(sagemaker))
        command = entry_command(env, entry, distribution)
        if len(env["hosts"]) > 1:  # like the toolkit, before any multi-host program starts
            wait_for_hosts(env["hosts"], C["dns_wait_max_s"])
        child_env = _child_environment(env, sagemaker, entry[1])
        for directory in (C["model_dir"], C["output_data_dir"]):
            os.makedirs(directory, exist_ok=True)
        if distribution == "mpi":
            code, failure = _run_mpi(env, entry, child_env)
        elif distribution == "parameter_server":
            code, failure = _run_with_parameter_server(env, command, child_env)
        else:
            log(f"running {' '.join(command)} on {env['current_host']} of {len(env['hosts'])} host(s)")
            code, tail = run(command, child_env)
            failure = failure_reason(exit_status(code), tail, command) if code else None
    except Exception as error:  # the toolkit's "Framework Error" path (§2.5)
        traceback.print_exc()
        reason = error if isinstance(error, RuntimeError) else f"{type(error).__name__}: {error}"
        _write_once(C["failure_file"], f"imagekit runtime error: {reason}"[: C["failure_max_chars"]])
        return 1
    if failure is None:
        _write_once(C["success_file"], "")
        return 0
    _write_once(C["failure_file"], failure)
    log(f"training failed: {failure.splitlines()[0]}")
    return 1


def mpi_command(env, entry):
    """(settings, mpirun argv) that algo-1 runs: the user's program on every rank, the SM_* variables forwarded."""
    import imagekit_runtime.mpi as mpi

    settings = mpi.MPISettings(env, env["additional_framework_parameters"], CONFIG)
    kind, target, _, args = entry
    program = mpi.rank_program(kind, target, args)
    return settings, mpi.mpirun_command(env, settings, sorted(environment_variables(env)), program)


def _run_mpi(env, entry, child_env):
    """algo-1 launches mpirun across the hosts; the others serve it over sshd until it is done."""
    import imagekit_runtime.mpi as mpi

    mpi.require_tools()
    settings, command = mpi_command(env, entry)  # on every host, so a bad setting fails all of them at once
    _stop_on_signals()  # waiting for the other hosts (run() forwards signals to mpirun while it runs)
    if not env["is_master"]:
        return mpi.run_worker(env, child_env)
    return mpi.run_master(env, settings, command, child_env,
                          lambda argv, mpirun_env, ranks: run(argv, mpirun_env, ranks)[0])


def _run_with_parameter_server(env, command, child_env):
    """With more than one host: this host's ps task beside its worker, TF_CONFIG for both (one host: no ps)."""
    import imagekit_runtime.parameter_server as ps

    hosts, current = env["distribution_hosts"] or env["hosts"], env["current_host"]
    if len(hosts) < 2:
        code, tail = run(command, child_env)
        return code, failure_reason(exit_status(code), tail, command) if code else None
    server = ps.start_parameter_server(hosts, current, child_env)
    try:
        log(f"running {' '.join(command)} on {current} as {ps.tf_config(hosts, current)['task']['type']}")
        code, tail = run(command, ps.worker_environment(hosts, current, child_env))
        if code:
            return code, failure_reason(exit_status(code), tail, command)
        if current != hosts[0]:
            _stop_on_signals()
            ps.wait_until_master_is_down(hosts[0])
        return 0, ps.parameter_server_failure(server, current)
    finally:
        ps.stop(server)


def _stop_on_signals():
    """While this host only waits for others (no program of its own runs), SIGTERM/SIGINT end it: as PID 1 it
    would otherwise ignore StopTrainingJob's SIGTERM and be killed 120 s later."""
    def stop(signum, _frame):
        log(f"received signal {signum} while waiting; stopping")
        raise SystemExit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)


def _child_environment(env, sagemaker, target):
    """os.environ plus the SM_* variables and the few plain ones the toolkit sets for the user's process."""
    child = {**os.environ, **environment_variables(env), C["env_current_host"]: env["current_host"],
             "PYTHONPATH": os.pathsep.join(filter(None, [C["code_dir"], os.environ.get("PYTHONPATH")]))}
    # Always set, like the toolkit: the job name from the SDK's hyperparameter, the region from it or boto3's.
    child[C["env_sagemaker_job_name"]] = _text(sagemaker.get(C["hp_job_name"], ""))
    region = sagemaker[C["hp_region"]] if C["hp_region"] in sagemaker else os.environ.get(C["env_aws_region"])
    child[C["env_region"]] = _text(region)
    return child
