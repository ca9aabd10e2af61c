"""`distribution: torchrun` against the toolkit's own launcher: sagemaker-training's `train` handing over to
sagemaker-pytorch-training (SAGEMAKER_TRAINING_MODULE=sagemaker_pytorch_container.training:main, what AWS's
PyTorch containers set) with `sagemaker_torch_distributed_enabled`, which runs its TorchDistributedRunner. And
SAGEMAKER_TRAINING_MODULE itself: with it set on both sides, imagekit's `train` hands over the same way.

torch is not installed: on both sides a recording stand-in answers to `torchrun` on PATH and to
`python -m torch.distributed.run` (what imagekit runs), writing the launcher's argv, env and cwd. Options are
compared by what torchrun makes of them (`--k v` and `--k=v` alike, unset ones at torchrun's defaults), for one
host and for each of two hosts on the single-host harness.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from imagekit import contract
from imagekit.runtime import RuntimeConfig
from parity.differences import Comparison
from parity.isolation import hosts_file, imagekit_command, isolated, runtime_tree, toolkit_python, write_inputs

TOOLKIT_MODULE = "sagemaker_pytorch_container.training:main"
STUB = "/opt/ml/torchstub"  # a fake torch package and a `torchrun` script, on PYTHONPATH and PATH of both sides
RECORD = "/opt/ml/model/torchrun.json"
RECORDER = f"""import json, os, sys
json.dump({{"argv": sys.argv[1:], "env": dict(os.environ), "cwd": os.getcwd()}}, open({RECORD!r}, "w"))
"""
TORCHRUN_DEFAULTS = {"nnodes": "1", "node_rank": "0", "nproc_per_node": "1", "master_addr": "127.0.0.1",
                     "master_port": "29500", "rdzv_backend": "static", "rdzv_endpoint": "", "rdzv_id": "none",
                     "max_restarts": "0", "standalone": False}
SCENARIOS = {  # hosts, current host, instance type (the p4d is one the toolkit puts on EFA with RDMA)
    "one-host": (1, 1, "ml.g5.xlarge"), "two-hosts-algo-1": (2, 1, "ml.p4d.24xlarge"),
    "two-hosts-algo-2": (2, 2, "ml.p4d.24xlarge"), "two-hosts-efa-no-rdma": (2, 2, "ml.g5.48xlarge")}


def launcher_inputs(count: int, current: int, instance: str) -> dict[str, object]:
    hosts = [contract.host_name(i) for i in range(1, count + 1)]
    stub = str(Path(STUB).relative_to(contract.ML_ROOT))
    return {
        "input/config/hyperparameters.json": {"sagemaker_program": '"train.py"', "epochs": "2",
                                              "sagemaker_torch_distributed_enabled": "true"},
        "input/config/inputdataconfig.json": {},
        "input/config/resourceconfig.json": {
            "current_host": hosts[current - 1], "hosts": hosts, "current_instance_type": instance,
            "current_group_name": contract.HOMOGENEOUS_GROUP, "network_interface_name": "eth0",
            "instance_groups": [{"instance_group_name": contract.HOMOGENEOUS_GROUP, "instance_type": instance,
                                 "hosts": hosts}]},
        "code/train.py": "raise SystemExit('the launcher stand-in never runs the script')\n",
        "model/.keep": "", "output/.keep": "",
        f"{stub}/torch/__init__.py": '__version__ = "2.5.1"\n', f"{stub}/torch/distributed/__init__.py": "",
        f"{stub}/torch/distributed/run.py": RECORDER,
        f"{stub}/torch-2.5.1.dist-info/METADATA": "Metadata-Version: 2.1\nName: torch\nVersion: 2.5.1\n",
        f"{stub}/bin/torchrun": RECORDER, f"{stub}/probe_framework.py": FRAMEWORK,
    }


def launched(root: Path, hosts: Path, argv: list[str], python: Path, scenario: tuple[int, int, str],
             env: dict[str, str]) -> dict:
    write_inputs(root, launcher_inputs(*scenario))
    torchrun = root / Path(STUB).relative_to(contract.ML_ROOT) / "bin" / "torchrun"
    torchrun.write_text(f"#!{python}\n{torchrun.read_text()}")
    torchrun.chmod(0o755)
    env = {"PATH": f"{STUB}/bin:/usr/local/bin:/usr/bin:/bin", "PYTHONPATH": STUB, "HOME": str(root.parent.parent),
           **env}
    process = isolated(root, hosts, argv, env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log = process.communicate(timeout=120)[0]
    record, failure = (root / Path(path).relative_to(contract.ML_ROOT) for path in (RECORD, contract.FAILURE_FILE))
    return {"exit": process.returncode, "log": log, "failure": failure.read_text() if failure.exists() else None,
            "success": (root / Path(contract.SUCCESS_FILE).relative_to(contract.ML_ROOT)).exists(),
            **(json.loads(record.read_text()) if record.exists() else {})}


def torchrun_view(argv: list[str]) -> tuple[dict[str, object], list[str]]:
    """(torchrun's options as it reads them, the program and its arguments)."""
    options, index = dict(TORCHRUN_DEFAULTS), 0
    while index < len(argv) and argv[index].startswith("--"):
        name, value = argv[index][2:], None
        if "=" in name:
            name, value = name.split("=", 1)
        elif name == "standalone":
            value = True
        else:
            index += 1
            value = argv[index]
        options[name.replace("-", "_")] = value
        index += 1
    return options, argv[index:]


@pytest.fixture(scope="module")
def sides(tmp_path_factory):
    python = toolkit_python()
    work = tmp_path_factory.mktemp("torchrun-parity")
    runtime = runtime_tree(work / "imagekit-image", RuntimeConfig(distribution="torchrun"))
    return python, work, runtime


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_torchrun_launch_matches_the_toolkits_torch_distributed_runner(sides, name):
    python, work, runtime = sides
    hosts = hosts_file(work / f"{name}.hosts")
    toolkit = launched(work / name / "toolkit" / "ml", hosts, [str(python.parent / "train")], python,
                       SCENARIOS[name], {contract.ENV_TRAINING_MODULE: TOOLKIT_MODULE})
    ours = launched(work / name / "imagekit" / "ml", hosts, imagekit_command(python, runtime, "train"), python,
                    SCENARIOS[name], {})
    assert "argv" in toolkit and "argv" in ours, f"no launcher ran:\n{toolkit['log'][-3000:]}\n{ours['log'][-3000:]}"
    compare = Comparison(f"torchrun:{name}")
    compare_launches(compare, toolkit, ours)
    compare.assert_none_unexpected()


def compare_launches(compare: Comparison, toolkit: dict, ours: dict) -> None:
    compare.check("torchrun.exit_code", "", toolkit["exit"], ours["exit"])
    compare.check("torchrun.success_file", "", toolkit["success"], ours["success"])
    compare.check("torchrun.cwd", "", toolkit["cwd"], ours["cwd"])
    (their_options, their_program), (our_options, our_program) = torchrun_view(toolkit["argv"]), \
        torchrun_view(ours["argv"])
    compare.mapping("torchrun.option", their_options, our_options)
    compare.check("torchrun.program", "", their_program, our_program)
    json_variables = ("SM_TRAINING_ENV", "SM_RESOURCE_CONFIG", "SM_INPUT_DATA_CONFIG", "SM_HPS")
    compare.mapping("train.env", *({k: v for k, v in side["env"].items() if k not in json_variables}
                                   for side in (toolkit, ours)))
    for variable in json_variables:
        compare.mapping(f"train.env.{variable}", *(json.loads(side["env"].get(variable, "{}"))
                                                   for side in (toolkit, ours)))


FRAMEWORK = """import os
def main():  # a framework container's trainer, as SAGEMAKER_TRAINING_MODULE names it
    if os.environ.get("FRAMEWORK_FAILS") == "client":
        from sagemaker_training.errors import ClientError
        raise ClientError("the framework refused the job")
    raise OSError(5, "the framework broke")
"""
MODULE_SCENARIOS = {  # SAGEMAKER_TRAINING_MODULE on both sides, extra env
    "pytorch-launcher": (TOOLKIT_MODULE, {}),
    "framework-client-error": ("probe_framework:main", {"FRAMEWORK_FAILS": "client"}),
    "framework-error": ("probe_framework:main", {}),
    "not-importable": ("no_such_framework.training:main", {}),
}


def failure_outline(text: str | None) -> tuple[str, str] | None:
    """First and last line of a failure file (the traceback between names each side's own frames)."""
    lines = (text or "").strip().splitlines()
    return (lines[0], lines[-1]) if lines else None


@pytest.mark.parametrize("name", sorted(MODULE_SCENARIOS))
def test_training_module_is_handed_the_job_like_the_toolkit_does(sides, name):
    python, work, runtime = sides
    module, extra = MODULE_SCENARIOS[name]
    env = {contract.ENV_TRAINING_MODULE: module, **extra}
    hosts = hosts_file(work / f"module-{name}.hosts")
    (toolkit, ours) = (
        launched(work / f"module-{name}" / side / "ml", hosts, argv, python, (2, 2, "ml.p4d.24xlarge"), env)
        for side, argv in (("toolkit", [str(python.parent / "train")]),
                           ("imagekit", imagekit_command(python, runtime, "train"))))
    compare = Comparison(f"training-module:{name}")
    if "argv" in toolkit and "argv" in ours:
        compare_launches(compare, toolkit, ours)
    else:
        compare.check("train.exit_code", "", toolkit["exit"], ours["exit"])
        compare.check("train.success_file", "", toolkit["success"], ours["success"])
        compare.check("train.failure_file", "outline", failure_outline(toolkit["failure"]),
                      failure_outline(ours["failure"]))
    compare.assert_none_unexpected()
