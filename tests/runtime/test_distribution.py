"""MPI and parameter-server launching in the in-image runtime, on the host: which launcher the spec and an SDK
estimator's hyperparameters pick, mpirun's command line, naming the failed rank, TF_CONFIG per host. Real
multi-host runs are in tests/smoke/test_distributed.py; the mpirun command against the toolkit's own is in
tests/parity/test_mpi_parity.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from imagekit import contract
from imagekit.spec import load_spec
from runtime.harness import FakeImage, RuntimeConfig, Train
from runtime.test_training import ECHO, seen

HOSTS = ["algo-1", "algo-2", "algo-3"]


def runtime_result(image: FakeImage, code: str) -> object:
    """Run *code* (which sets `result`) with the image's runtime importable; its JSON-decoded `result`."""
    prelude = f"import json, sys\nsys.path.insert(0, {str(image.path(contract.RUNTIME_DIR))!r})\n"
    done = subprocess.run([sys.executable, "-c", prelude + code + "\nprint(json.dumps(result))"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def mpi_image(tmp_path) -> FakeImage:
    return FakeImage(tmp_path, RuntimeConfig(train=Train("script", "train.py", ()), distribution="mpi",
                                             processes_per_host=2, custom_mpi_options="--NCCL_DEBUG WARN -x A=1"),
                     {"train.py": ECHO})


def env_for(hosts=HOSTS, instance="ml.c5.xlarge", gpus=0):
    return {"hosts": hosts, "distribution_hosts": hosts, "current_host": hosts[0], "network_interface_name": "eth0",
            "current_instance_type": instance, "num_gpus": gpus, "num_neurons": 0}


def test_mpirun_gets_the_toolkits_options_and_spec_defaults_lose_to_hyperparameters(mpi_image):
    code = f"""
from imagekit_runtime.mpi import MPISettings, mpirun_command
from imagekit_runtime.config import CONFIG
env = {env_for(instance="ml.p4d.24xlarge")!r}
spec = MPISettings(env, {{}}, CONFIG)
estimator = MPISettings(env, {{"{contract.HP_MPI_PROCESSES_PER_HOST}": 4, "{contract.HP_MPI_NUM_PROCESSES}": 6,
                              "{contract.HP_MPI_CUSTOM_OPTIONS}": ""}}, CONFIG)
one = MPISettings(dict(env, num_gpus=0), {{"{contract.HP_MPI_PROCESSES_PER_HOST}": 1}}, CONFIG)
result = [mpirun_command(env, s, ["SM_HOSTS"], ["python", "train.py"]) for s in (spec, estimator, one)]
"""
    spec, estimator, one = runtime_result(mpi_image, code)
    assert spec[:4] == ["mpirun", "--host", "algo-1:2,algo-2:2,algo-3:2", "-np"] and spec[4] == "6"
    text = " ".join(spec)
    for option in ("--allow-run-as-root", "--tag-output", "-mca btl_tcp_if_include eth0", "-bind-to none",
                   "-map-by slot", "-mca orte_abort_on_non_zero_status 1", "-mca plm_rsh_no_tree_spawn 1",
                   "-x NCCL_SOCKET_IFNAME=eth0", "-x NCCL_DEBUG=WARN", "-x LD_LIBRARY_PATH", "-x PATH",
                   "-x A=1", "-x FI_PROVIDER=efa", "-x FI_EFA_USE_DEVICE_RDMA=1", "-x SM_HOSTS"):
        assert option in text, option
    assert spec[-2:] == ["python", "train.py"]
    assert estimator[2:5] == ["algo-1:4,algo-2:4,algo-3:4", "-np", "6"] and "NCCL_DEBUG=INFO" in estimator
    assert one[2:5] == ["algo-1,algo-2,algo-3", "-np", "3"]  # one process per host: plain host names


MPIRUN_ABORT = """[1,3]<stderr>:Traceback (most recent call last):
[1,3]<stderr>:ValueError: bad shard[1,3]<stderr>:
--------------------------------------------------------------------------
MPI_ABORT was invoked on rank 3 in communicator MPI_COMM_WORLD
with errorcode 1.
"""
MPIRUN_EXIT = """[1,0]<stdout>:hello
[1,4]<stderr>:boom
  Process name: [[4711,1],4]
  Exit code:    3
"""
MPIRUN_SIGNAL = "mpirun noticed that process rank 5 with PID 0 on node algo-3 exited on signal 9 (Killed).\n"


@pytest.mark.parametrize("output, head", [
    (MPIRUN_ABORT, "MPI rank 3 on algo-2 failed (exit code 1): ValueError: bad shard"),
    (MPIRUN_EXIT, "MPI rank 4 on algo-3 failed (exit code 3): boom"),
    (MPIRUN_SIGNAL, "MPI rank 5 on algo-3 failed (signal 9)"),
    ("ssh: connect to host algo-2 port 22: Connection refused\n", "mpirun exited with code 1: ssh: connect"),
])
def test_the_failure_file_names_the_rank_that_failed_first_and_its_host(mpi_image, output, head):
    code = f"""
import io
from imagekit_runtime.mpi import RankLog
ranks, shown = RankLog({HOSTS!r}, 2), io.StringIO()
ranks.copy(io.BytesIO({output.encode()!r}), shown)
result = [ranks.failure(1, ["mpirun", "python", "train.py"]), shown.getvalue()]
"""
    failure, shown = runtime_result(mpi_image, code)
    assert failure.startswith(head), failure
    assert "ExitCode 1" in failure and failure.rstrip().endswith("Command 'mpirun python train.py'")
    if output.startswith("[1,"):  # retagged as the toolkit does: [job,mpirank:R,HOST]<stream>
        assert shown.startswith(f"[1,mpirank:{output[3]},algo-"), shown


def test_an_mpi_image_without_openmpi_or_ssh_fails_with_what_to_install(mpi_image):
    run = mpi_image.train(env={"PATH": str(mpi_image.root)})  # nothing on PATH: no mpirun, ssh, ssh-keygen
    assert run.returncode == 1
    failure = mpi_image.path(contract.FAILURE_FILE).read_text()
    assert "mpirun, ssh, ssh-keygen not found" in failure and "openmpi-bin" in failure


@pytest.mark.parametrize("hyperparameters, named", [
    ({"sagemaker_distributed_dataparallel_enabled": "true"}, "sagemaker_distributed_dataparallel_enabled"),
    ({"sagemaker_pytorch_xla_multi_worker_enabled": "true"}, "sagemaker_pytorch_xla_multi_worker_enabled"),
    ({"mp_parameters": '{"partitions": 2}'}, "smdistributed"),
])
def test_launchers_needing_aws_gpu_libraries_fail_before_running(tmp_path, hyperparameters, named):
    image = FakeImage(tmp_path, RuntimeConfig(train=Train("script", "train.py", ())), {"train.py": ECHO})
    assert image.train(hyperparameters).returncode == 1
    assert named in image.path(contract.FAILURE_FILE).read_text()
    assert not (image.path(contract.MODEL_DIR) / "seen.json").exists()


def test_an_mpi_hyperparameter_outside_the_distribution_groups_runs_the_plain_program(tmp_path):
    """The toolkit runs MPI only on hosts of the distribution's instance groups; the others run the script."""
    image = FakeImage(tmp_path, RuntimeConfig(train=Train("script", "train.py", ())), {"train.py": ECHO})
    hps = {contract.HP_MPI_ENABLED: "true", contract.HP_DISTRIBUTION_GROUPS: '["gpus"]'}
    run = image.train(hps)
    assert run.returncode == 0, run.stderr
    assert seen(image)["argv"] == []


def test_one_host_parameter_server_job_runs_without_tf_config(tmp_path):
    image = FakeImage(tmp_path, RuntimeConfig(train=Train("script", "train.py", ()), distribution="parameter_server"),
                      {"train.py": ECHO + "assert 'TF_CONFIG' not in os.environ\n"})
    run = image.train()
    assert run.returncode == 0, run.stderr


def test_tf_config_is_the_tensorflow_toolkits_for_every_host(tmp_path):
    image = FakeImage(tmp_path, RuntimeConfig(distribution="parameter_server"))
    code = f"""
from imagekit_runtime.parameter_server import tf_config
hosts = {HOSTS!r}
result = [tf_config(hosts, h) for h in hosts] + [tf_config(hosts, h, ps_task=True) for h in hosts]
"""
    configs = runtime_result(image, code)
    cluster = {"master": ["algo-1:2222"], "ps": ["algo-1:2223", "algo-2:2223", "algo-3:2223"],
               "worker": ["algo-2:2222", "algo-3:2222"]}
    tasks = [("master", 0), ("worker", 0), ("worker", 1), ("ps", 0), ("ps", 1), ("ps", 2)]
    assert configs == [{"cluster": cluster, "environment": "cloud", "task": {"index": index, "type": kind}}
                       for kind, index in tasks]


def test_spec_mpi_settings_need_distribution_mpi_and_add_the_packages_without_host_keys(tmp_path):
    from generate.helpers import dockerfile_for, write_project
    from imagekit.errors import ImagekitError

    spec = {"name": "mpi-job", "framework": {"name": "custom"}, "train": {"script": "train.py"},
            "mpi": {"processes_per_host": 2}}
    from imagekit.resources import schemas_dir

    schema = json.loads((schemas_dir() / "imagekit.schema.json").read_text())
    assert tuple(schema["properties"]["distribution"]["enum"]) == contract.DISTRIBUTIONS
    with pytest.raises(ImagekitError, match="distribution is 'none'"):
        load_spec(write_project(tmp_path / "bad", spec))
    path = write_project(tmp_path / "good", {**spec, "distribution": "mpi"})
    assert load_spec(path).mpi_processes_per_host == 2
    dockerfile = dockerfile_for(path)
    assert "openmpi-bin openssh-server openssh-client" in dockerfile
    assert "rm -rf /var/lib/apt/lists/* /etc/ssh/ssh_host_*" in dockerfile  # in the installing layer
    from imagekit.render import warnings_for
    from imagekit.spec.frameworks import resolve

    nonroot = load_spec(write_project(tmp_path / "user", {**spec, "distribution": "mpi", "user": "model"}))
    assert any("with distribution: mpi" in warning for warning in warnings_for(nonroot, resolve(nonroot)))


def _as_pid1_on_two_hosts(image: FakeImage, current: str, hyperparameters: dict[str, str]) -> subprocess.Popen:
    """`train` on *current* of algo-1/algo-2 as PID 1 of fresh namespaces (as in a container: SIGTERM's default is
    to be ignored), algo-1/2 resolving to a loopback nobody serves, a stand-in mpirun and sshd; real ssh(-keygen)."""
    from parity.isolation import hosts_file

    tools = image.root / "tools"
    tools.mkdir()
    for tool in ("mpirun", "sshd"):
        (tools / tool).write_text("#!/bin/sh\nexec sleep 600\n")
        (tools / tool).chmod(0o755)
    image.write(contract.HYPERPARAMETERS_FILE, json.dumps(hyperparameters))
    image.write(contract.RESOURCE_CONFIG_FILE, json.dumps({"current_host": current, "hosts": ["algo-1", "algo-2"]}))
    hosts = hosts_file(image.root / "hosts", 2)
    isolate = 'mount -t tmpfs tmpfs /run && mount --bind "$1" /etc/hosts && ip link set lo up && shift && exec "$@"'
    return subprocess.Popen(["unshare", "-rmpfn", "sh", "-c", isolate, "sh", str(hosts), *image.command("train")],
                            env={"PATH": f"{tools}:/usr/bin:/bin"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


@pytest.fixture
def pid1_image(tmp_path) -> FakeImage:
    overrides = {"sshd": str(tmp_path / "tools" / "sshd"), "mpi_run_dir": str(tmp_path / "mpi"),
                 "mpi_master_wait_s": 30}
    return FakeImage(tmp_path, RuntimeConfig(train=Train("script", "train.py", ()), distribution="mpi"),
                     {"train.py": ECHO}, overrides)


def test_mpi_launcher_stops_on_sigterm_while_it_waits_for_the_workers(pid1_image):
    """StopTrainingJob's SIGTERM ends algo-1 at once, not at the 1 h wait's end (as PID 1 it ignores it by default)."""
    import time

    from parity.isolation import namespace_init

    launcher = _as_pid1_on_two_hosts(pid1_image, "algo-1", {})
    try:
        assert any("waiting for the MPI workers" in line for line in launcher.stderr)
        started = time.monotonic()
        os.kill(namespace_init(launcher), signal.SIGTERM)
        assert launcher.wait(timeout=25) != 0
        assert time.monotonic() - started < 15  # not the 30 s wait for the workers
    finally:
        launcher.kill()
        launcher.communicate()


def test_running_the_program_gives_back_the_callers_signal_handlers(mpi_image):
    """After mpirun, algo-1 only tells the workers it is done: SIGTERM must still stop it then."""
    result = runtime_result(mpi_image, """
import os, signal
from imagekit_runtime.training import run
def waiting(signum, frame):
    pass
signal.signal(signal.SIGTERM, waiting)
run(["true"], dict(os.environ))
result = signal.getsignal(signal.SIGTERM) is waiting
""")
    assert result is True


def test_a_bad_mpi_setting_fails_the_worker_at_once_with_the_launchers_reason(pid1_image):
    """A worker does not wait an hour for a launcher that failed on the same setting: every host checks it first."""
    hyperparameters = {contract.HP_MPI_ENABLED: "true", contract.HP_MPI_PROCESSES_PER_HOST: '"auto"'}
    worker = _as_pid1_on_two_hosts(pid1_image, "algo-2", hyperparameters)
    _, err = worker.communicate(timeout=25)
    assert worker.returncode == 1, err
    failure = pid1_image.path(contract.FAILURE_FILE).read_text()
    assert contract.HP_MPI_PROCESSES_PER_HOST in failure and "'auto'" in failure


def test_a_non_executable_shell_entry_point_runs_on_every_mpi_rank(tmp_path):
    """The toolkit chmods .sh entry points; MPI ranks run them as ./train.sh."""
    image = FakeImage(tmp_path, RuntimeConfig(train=Train("script", "train.sh", ()), distribution="mpi"),
                      {"train.sh": "echo ran \"$@\"\n"})
    result = runtime_result(image, """
import subprocess
from imagekit_runtime.config import C
from imagekit_runtime.mpi import rank_program
from imagekit_runtime.training import entry_command, resolve_entry
entry = resolve_entry({"hyperparameters": {"epochs": 1}}, None)
entry_command({}, entry, "mpi")
done = subprocess.run(rank_program(*[entry[0], entry[1], entry[3]]), cwd=C["code_dir"], capture_output=True, text=True)
result = [done.returncode, done.stdout, done.stderr]
""")
    assert result[:2] == [0, "ran --epochs 1\n"], result


def test_a_killed_one_host_parameter_server_program_records_the_shell_exit_code(tmp_path):
    image = FakeImage(tmp_path, RuntimeConfig(train=Train("script", "train.py", ()), distribution="parameter_server"),
                      {"train.py": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"})
    assert image.train().returncode == 1
    assert "ExitCode 137\n" in image.path(contract.FAILURE_FILE).read_text()
