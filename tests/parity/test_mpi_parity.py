"""`distribution: mpi` against sagemaker-training's own MPI runner: for the same /opt/ml inputs, the mpirun
command line algo-1 runs is built on both sides (the toolkit's runner.get(MPI) → MasterRunner._create_command;
imagekit's training.mpi_command) and compared option by option: hosts and slots, process count, every -mca,
every forwarded -x variable and its value, the flags, and the program each rank runs. Launching needs sshd on
several hosts, so the launch itself is proven on the engine (tests/smoke/test_distributed.py).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from imagekit import contract
from imagekit.runtime import RuntimeConfig
from parity.differences import Comparison
from parity.isolation import hosts_file, isolated, runtime_tree, toolkit_python, write_inputs

STUB = "/opt/ml/mpistub"  # an importable mpi4py (the toolkit assumes it; imagekit checks) on both sides
TOOLKIT = """import json
from sagemaker_training import runner
print(json.dumps(runner.get(runner.MPIRunnerType)._create_command()))
"""
IMAGEKIT = """import json, sys
sys.path.insert(0, {runtime!r})
from imagekit_runtime import training
env, _, sagemaker = training.training_environment()
entry = training.resolve_entry(env, training.shipped_program(sagemaker))
print(json.dumps(training.mpi_command(env, entry)[1]))
"""
SCENARIOS = {  # hosts, instance type, entry point, extra hyperparameters
    "one-host": (1, "ml.c5.xlarge", "train.py", {}),
    "three-hosts-options": (3, "ml.p4d.24xlarge", "train.py", {
        contract.HP_MPI_PROCESSES_PER_HOST: "2", contract.HP_MPI_NUM_PROCESSES: "5",
        contract.HP_MPI_CUSTOM_OPTIONS: '"--NCCL_DEBUG WARN -x FOO=1 -mca btl_tcp_if_exclude lo"'}),
    "two-hosts-shell-entry": (2, "ml.g5.48xlarge", "train.sh", {contract.HP_MPI_PROCESSES_PER_HOST: "1"}),
}
VALUED = {"--host", "-np", "-bind-to", "-map-by"}


def inputs(count: int, instance: str, program: str, extra: dict[str, str]) -> dict[str, object]:
    hosts = [contract.host_name(i) for i in range(1, count + 1)]
    return {
        "input/config/hyperparameters.json": {contract.HP_PROGRAM: json.dumps(program), "epochs": "2",
                                              contract.HP_MPI_ENABLED: "true", **extra},
        "input/config/inputdataconfig.json": {"training": {"TrainingInputMode": "File"}},
        "input/config/resourceconfig.json": {
            "current_host": hosts[0], "hosts": hosts, "current_instance_type": instance,
            "current_group_name": contract.HOMOGENEOUS_GROUP, "network_interface_name": "eth0",
            "instance_groups": [{"instance_group_name": contract.HOMOGENEOUS_GROUP, "instance_type": instance,
                                 "hosts": hosts}]},
        "input/data/training/x.csv": "1\n", f"code/{program}": "print('never run')\n",
        "model/.keep": "", "output/.keep": "",
        f"{Path(STUB).relative_to(contract.ML_ROOT)}/mpi4py/__init__.py": "",
    }


def command_view(argv: list[str]) -> dict[str, object]:
    """mpirun's argv as mpirun reads it: options with values, -mca pairs, -x variables, flags, the program."""
    view: dict[str, object] = {"mca": {}, "x": {}, "flags": [], "program": []}
    index = 1
    while index < len(argv):
        word = argv[index]
        if word in ("-mca", "--mca"):
            view["mca"][argv[index + 1]] = argv[index + 2]
            index += 3
        elif word == "-x":
            name, _, value = argv[index + 1].partition("=")
            view["x"][name] = value or None
            index += 2
        elif word in VALUED:
            view[word] = argv[index + 1]
            index += 2
        elif word.startswith("-"):
            view["flags"].append(word)
            index += 1
        else:
            view["program"] = argv[index:]
            break
    return view


def built(root: Path, hosts: Path, python: Path, script: str, scenario: tuple) -> list[str]:
    write_inputs(root, inputs(*scenario))
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "PYTHONPATH": STUB, "HOME": str(root.parent.parent)}
    process = isolated(root, hosts, [str(python), "-c", script], env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def sides(tmp_path_factory):
    work = tmp_path_factory.mktemp("mpi-parity")
    return toolkit_python(), work, runtime_tree(work / "imagekit-image", RuntimeConfig(distribution="mpi"))


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_mpirun_command_matches_the_toolkits_mpi_master_runner(sides, name):
    python, work, runtime = sides
    hosts = hosts_file(work / f"{name}.hosts")
    toolkit = built(work / name / "toolkit" / "ml", hosts, python, TOOLKIT, SCENARIOS[name])
    ours = built(work / name / "imagekit" / "ml", hosts, python, IMAGEKIT.format(runtime=str(runtime)),
                 SCENARIOS[name])
    theirs, mine = command_view(toolkit), command_view(ours)
    compare = Comparison(f"mpi:{name}")
    compare.check("mpirun.launcher", "", toolkit[0], ours[0])
    for option in sorted(VALUED):
        compare.check("mpirun.option", option, theirs.get(option), mine.get(option))
    compare.mapping("mpirun.mca", theirs["mca"], mine["mca"])
    compare.mapping("mpirun.x", theirs["x"], mine["x"])
    compare.check("mpirun.flags", "", sorted(theirs["flags"]), sorted(mine["flags"]))
    compare.check("mpirun.program", "", theirs["program"], mine["program"])
    compare.assert_none_unexpected()
