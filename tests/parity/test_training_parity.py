"""`train` against sagemaker-training on identical /opt/ml inputs: env key by key, argv, cwd, exit code, files."""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from imagekit import contract
from imagekit.runtime import RuntimeConfig
from parity.differences import Comparison
from parity.isolation import hosts_file, imagekit_command, isolated, runtime_tree, toolkit_python, write_inputs

PROBE = """import json, os, signal, sys, time
got = []
signal.signal(signal.SIGTERM, lambda *a: got.append("SIGTERM"))
if os.environ.get("PROBE_SIGNAL_PID1"):
    os.kill(1, signal.SIGTERM)
    time.sleep(1.5)
seen = {"argv": sys.argv[1:], "cwd": os.getcwd(), "env": dict(os.environ), "pid": os.getpid(), "signals": got}
os.makedirs("/opt/ml/model", exist_ok=True)
with open("/opt/ml/model/probe.json", "w") as handle:
    json.dump(seen, handle)
code = int(os.environ.get("PROBE_EXIT", "0"))
if code:
    sys.stderr.write("ValueError: the probe was asked to fail\\n")
sys.exit(code)
"""
HYPERPARAMETERS = {  # what hyperparameters.json holds: every value a string, JSON-encoded by the SDK
    "nested": {"layers": '{"sizes": [64, 32], "act": {"name": "relu", "slope": null}}', "lr": "0.001"},
    "booleans": {"flag": "true", "off": "false", "cap": '"True"'},
    "numbers-as-strings": {"epochs": '"10"', "ratio": "0.25", "big": "12345678901234567890", "neg": "-3"},
    "spaces-equals-unicode": {"name": "a b c", "expr": "x=1,y=2", "greeting": '"grüße 😀"', "k": "v"},
    "empty": {},
    "null-and-empty": {"dropout": "null", "empty": '""', "list": "[]", "obj": "{}"},
    "dict-values": {"opts": '{"b": 2, "a": 1, "c": {"z": 1}}'},
    "sdk-keys": {"epochs": "2", "sagemaker_program": '"probe.py"', "sagemaker_submit_directory": '"/opt/ml/code"',
                 "sagemaker_region": '"eu-west-1"', "sagemaker_job_name": '"job-7"',
                 "sagemaker_container_log_level": "20", "sagemaker_enable_cloudwatch_metrics": "false",
                 "sagemaker_distributed_dataparallel_enabled": "false"},
    "tuning-job": {"epochs": "3", "_tuning_objective_metric": '"validation:accuracy"',
                   "sagemaker_estimator_class_name": '"PyTorch"'},
}
CHANNELS = {
    "file": {"training": {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated",
                          "RecordWrapperType": "None"}},
    "pipe-and-fastfile": {"train": {"TrainingInputMode": "Pipe"}, "validation": {"TrainingInputMode": "FastFile"},
                          "test": {"TrainingInputMode": "File", "ContentType": "text/csv"}},
    "none": {},
}
SCENARIOS = {
    **{f"hps-{name}": {"hps": hps} for name, hps in HYPERPARAMETERS.items()},
    **{f"channels-{name}": {"channels": channels} for name, channels in CHANNELS.items()},
    "three-hosts-algo-2": {"hosts": 3, "current": 2, "hps": {"epochs": "1"}},
    "three-hosts-algo-1": {"hosts": 3, "current": 1},
    "program-from-env": {"env": {contract.ENV_PROGRAM: "probe.py"}, "hps": {"a": "1"}},
    "failing-program": {"env": {"PROBE_EXIT": "3"}},
    "training-module-env": {"env": {contract.ENV_TRAINING_MODULE: ""}},
    "region-from-aws-env": {"env": {contract.ENV_AWS_DEFAULT_REGION: "ap-south-1"}},
    "sigterm-to-pid1": {"env": {"PROBE_SIGNAL_PID1": "1"}},
    # What an SDK estimator with entry_point/source_dir sends: the code as a tarball, with requirements.txt
    "submit-directory-tarball": {"submit": True, "hps": {"epochs": "1"},
                                 "env": {"PYTHONPATH": "/opt/ml/fakepip", "FAKE_PIP_LOG": "/opt/ml/model/pip.json"}},
}
FAKE_PIP = """import json, os, sys
log = os.environ["FAKE_PIP_LOG"]
calls = json.load(open(log)) if os.path.exists(log) else []
json.dump(calls + [{"argv": sys.argv[1:], "cwd": os.getcwd()}], open(log, "w"))
"""
SUBMITTED = "/opt/ml/src/sourcedir.tar.gz"
INSTANCE = "ml.m5.xlarge"


def inputs(scenario: dict) -> dict[str, object]:
    count, current = scenario.get("hosts", 1), scenario.get("current", 1)
    hosts = [contract.host_name(i) for i in range(1, count + 1)]
    hps = {"sagemaker_program": '"probe.py"', **scenario.get("hps", {})}
    if contract.ENV_PROGRAM in scenario.get("env", {}):
        hps.pop("sagemaker_program")
    channels = scenario.get("channels", CHANNELS["file"])
    files: dict[str, object] = {
        "input/config/hyperparameters.json": hps,
        "input/config/inputdataconfig.json": channels,
        "input/config/resourceconfig.json": {
            "current_host": hosts[current - 1], "hosts": hosts, "current_instance_type": INSTANCE,
            "current_group_name": contract.HOMOGENEOUS_GROUP, "network_interface_name": "eth0",
            "instance_groups": [{"instance_group_name": contract.HOMOGENEOUS_GROUP, "instance_type": INSTANCE,
                                 "hosts": hosts}]},
        "model/.keep": "", "output/.keep": "",  # the platform mounts both; the toolkit needs output/ to report
    }
    if scenario.get("submit"):
        hps["sagemaker_submit_directory"] = json.dumps(SUBMITTED)
        files["fakepip/pip/__init__.py"] = ""
        files["fakepip/pip/__main__.py"] = FAKE_PIP
    else:
        files["code/probe.py"] = PROBE
    for name in channels:
        files[f"input/data/{name}/part-0.csv"] = "1,2\n"
    return files


def _source_tarball(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, text in (("probe.py", PROBE), ("requirements.txt", "six\n")):
            info = tarfile.TarInfo(name)
            info.size = len(text.encode())
            tar.addfile(info, io.BytesIO(text.encode()))


def run_side(root: Path, hosts: Path, argv: list[str], scenario: dict) -> dict:
    write_inputs(root, inputs(scenario))
    if scenario.get("submit"):
        _source_tarball(root / Path(SUBMITTED).relative_to(contract.ML_ROOT))
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(root.parent.parent), **scenario.get("env", {})}
    process = isolated(root, hosts, argv, env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = process.communicate(timeout=120)
    probe = root / "model" / "probe.json"
    failure, success = root / "output" / "failure", root / "output" / "success"
    pip = root / "model" / "pip.json"
    return {"code": process.returncode, "probe": json.loads(probe.read_text()) if probe.exists() else None,
            "pip": json.loads(pip.read_text()) if pip.exists() else None,
            "failure": failure.read_text() if failure.exists() else None, "success": success.exists(),
            "log": out + err}


@pytest.fixture(scope="module")
def sides(tmp_path_factory):
    python = toolkit_python()
    work = tmp_path_factory.mktemp("train-parity")
    runtime = runtime_tree(work / "imagekit-image", RuntimeConfig())
    return python, work, runtime


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_train_matches_sagemaker_training(sides, name):
    python, work, runtime = sides
    scenario = SCENARIOS[name]
    hosts = hosts_file(work / f"{name}.hosts")
    toolkit = run_side(work / name / "toolkit", hosts, [str(python.parent / "train")], scenario)
    ours = run_side(work / name / "imagekit", hosts, imagekit_command(python, runtime, "train"), scenario)
    compare = Comparison(f"train:{name}")
    compare.check("train.exit_code", "", toolkit["code"], ours["code"])
    compare.check("train.success_file", "", toolkit["success"], ours["success"])
    compare.check("train.failure_file", "exists", toolkit["failure"] is not None, ours["failure"] is not None)
    if toolkit["failure"] is not None and ours["failure"] is not None:
        compare.check("train.failure_file", "text", toolkit["failure"], ours["failure"])
    assert toolkit["probe"] and ours["probe"], f"the probe did not run:\n{toolkit['log'][-3000:]}\n---\n" \
                                               f"{ours['log'][-3000:]}"
    compare.check("train.pip_install", "", toolkit["pip"], ours["pip"])
    for key in ("argv", "cwd", "signals"):
        compare.check(f"train.{key}", "", toolkit["probe"][key], ours["probe"][key])
    toolkit_env, our_env = toolkit["probe"]["env"], ours["probe"]["env"]
    compare.mapping("train.env", toolkit_env, our_env)
    for variable in ("SM_TRAINING_ENV", "SM_RESOURCE_CONFIG", "SM_INPUT_DATA_CONFIG", "SM_HPS"):
        if variable in toolkit_env and variable in our_env:
            compare.mapping(f"train.env.{variable}", json.loads(toolkit_env[variable]), json.loads(our_env[variable]))
    compare.assert_none_unexpected()
