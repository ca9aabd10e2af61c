"""GPU instance types: smoke requests the instance's GPUs from an engine that can hand them out (NVIDIA's runtime or
CDI devices), each training host its own, and warns with the real numbers whenever a container got fewer than the
instance has, shares them, or got a number nobody counted; on an engine without GPUs it runs on CPU with a warning
that says so and what SageMaker would have done.

The engine's answer to `docker info` is faked here, so this runs everywhere; tests/generate/test_cuda_example.py
runs a real CUDA image, and its `gpu`-marked test the real GPUs where an engine has them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from docker.types import DeviceRequest

from imagekit import contract, engine
from imagekit.errors import ImagekitError
from imagekit.smoke import hardware
from imagekit.smoke.report import Report
from imagekit.smoke.training import train, training_host
from smoke.test_limits import PROBE, cpus, seen

RUNC = {"runc": {"path": "runc"}}
NVIDIA_RUNTIME = {"NCPU": 256, "Runtimes": {**RUNC, "nvidia": {"path": "nvidia-container-runtime"}}}
NO_GPUS = {"NCPU": 256, "Runtimes": RUNC}


def cdi(*ids: str) -> dict:
    return {"NCPU": 256, "Runtimes": RUNC, "DiscoveredDevices": [{"Source": "cdi", "ID": i} for i in ids]}


@pytest.fixture
def engine_says(monkeypatch):
    """Fakes `docker info`, of a local engine whose CPUs are 0..NCPU-1 (tests/smoke/test_cpusets.py: others)."""
    def fake(info: dict) -> None:
        monkeypatch.setattr(engine, "engine_info", lambda: info)
        monkeypatch.setattr(hardware, "engine_cpu_list", lambda _: tuple(range(info["NCPU"])))
    return fake


def checks(placement: hardware.Placement, command: str = contract.TRAIN_COMMAND) -> Report:
    report = Report("image:tag")
    hardware.check(report, command, placement)
    return report


def test_the_table_has_every_nvidia_gpu_family_smoke_knows_with_its_gpus() -> None:
    families = {name.split(".")[1] for name, (_, _, gpus) in contract.INSTANCE_TYPES.items() if gpus}
    assert {"g4dn", "g5", "g6", "g6e", "p3", "p3dn", "p4d", "p4de", "p5", "p5e", "p5en"} <= families
    assert contract.INSTANCE_TYPES["ml.g5.12xlarge"] == (48, 192, 4)
    assert contract.INSTANCE_TYPES["ml.p4d.24xlarge"][2] == contract.INSTANCE_TYPES["ml.p5.48xlarge"][2] == 8
    cpu_only = [name for name, (_, _, gpus) in contract.INSTANCE_TYPES.items() if name.split(".")[1][0] in "mcrt"]
    assert cpu_only and all(contract.INSTANCE_TYPES[name][2] == 0 for name in cpu_only)


UUIDS = tuple(f"GPU-{i}aaa" for i in range(8))


@pytest.fixture
def nvidia_smi_lists(monkeypatch):
    """What this machine's nvidia-smi counts for NVIDIA's runtime (None: it could not)."""
    def fake(uuids: tuple[str, ...] | None) -> None:
        monkeypatch.setattr(engine, "local_nvidia_gpus", lambda: uuids)
    return fake


@pytest.mark.parametrize(("instance_type", "gpus"), [("ml.g5.xlarge", 1), ("ml.g4dn.12xlarge", 4),
                                                      ("ml.p4d.24xlarge", 8), ("ml.g6e.xlarge", 1)])
def test_a_gpu_instance_requests_its_gpus_from_the_nvidia_runtime(engine_says, nvidia_smi_lists, instance_type: str,
                                                                  gpus: int) -> None:
    engine_says(NVIDIA_RUNTIME)
    nvidia_smi_lists(UUIDS)
    placement = hardware.place(instance_type)
    assert placement.options["device_requests"] == [DeviceRequest(device_ids=list(UUIDS[:gpus]),
                                                                  capabilities=[["gpu"]])]
    report = checks(placement)
    assert [(c.name, c.ok) for c in report.checks] == [("train.gpus", True)]
    assert f"{gpus} GPU(s) of {instance_type} requested" in report.checks[0].detail
    assert "of the 8 it has" in report.checks[0].detail


def test_gpus_nobody_counted_are_all_requested_and_never_a_pass(engine_says, nvidia_smi_lists) -> None:
    """A count asks the runtime for devices 0..N-1, which fails to start on a smaller machine (and would be blamed on
    the image): without a count smoke asks for all the engine has and says the number is unknown."""
    engine_says(NVIDIA_RUNTIME)
    nvidia_smi_lists(None)
    placement = hardware.place("ml.p4d.24xlarge")
    assert placement.options["device_requests"] == [DeviceRequest(count=-1, capabilities=[["gpu"]])]
    report = checks(placement)
    assert report.warnings() == ["train.gpus"]
    assert "how many GPUs it has is unknown" in report.checks[0].detail and "not a pass" in report.checks[0].detail


def test_nvidia_smi_counts_the_gpus_of_a_local_engine_only(monkeypatch, tmp_path: Path) -> None:
    smi = tmp_path / "nvidia-smi"
    smi.write_text("#!/bin/sh\necho 'GPU 0: NVIDIA A10G (UUID: GPU-1234-ab)'\n"
                   "echo 'GPU 1: NVIDIA A10G (UUID: GPU-5678-cd)'\n")
    smi.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    assert engine.local_nvidia_gpus() == ("GPU-1234-ab", "GPU-5678-cd")
    monkeypatch.setenv("DOCKER_HOST", "tcp://gpu-box:2375")
    assert engine.local_nvidia_gpus() is None, "this machine's GPUs are not a remote engine's"
    monkeypatch.setenv("DOCKER_HOST", "unix:///run/user/1000/docker.sock")
    smi.write_text("#!/bin/sh\necho 'NVIDIA-SMI has failed' >&2\nexit 9\n")
    assert engine.local_nvidia_gpus() is None


def test_cdi_devices_are_requested_by_name_and_too_few_are_a_warning(engine_says) -> None:
    engine_says(cdi("nvidia.com/gpu=0", "nvidia.com/gpu=1", "nvidia.com/gpu=all", "vendor.com/fpga=0"))
    assert hardware.place("ml.g5.xlarge").options["device_requests"] == [
        DeviceRequest(driver="cdi", device_ids=["nvidia.com/gpu=0"])]
    placement = hardware.place("ml.g5.12xlarge")
    assert placement.options["device_requests"] == [
        DeviceRequest(driver="cdi", device_ids=["nvidia.com/gpu=0", "nvidia.com/gpu=1"])]
    report = checks(placement, contract.SERVE_COMMAND)
    assert report.ok and report.warnings() == ["serve.gpus"]
    assert "4 NVIDIA GPUs and this engine only 2" in report.checks[0].detail
    assert "one worker per GPU, 4 (here 2)" in report.checks[0].detail


def test_the_fewer_gpus_warning_states_what_the_container_got(engine_says) -> None:
    engine_says(cdi("nvidia.com/gpu=0", "nvidia.com/gpu=1"))
    detail = checks(hardware.place("ml.p4d.24xlarge")).checks[0].detail
    assert "SM_NUM_GPUS=8 (here 2)" in detail and "8 process(es) per host (here 2) with NCCL" in detail
    assert "here 0" not in detail and "gloo" not in detail and "share" not in detail, "one host shares nothing"


def test_without_an_nvidia_runtime_the_run_is_on_cpu_and_the_report_says_what_sagemaker_would_do(engine_says) -> None:
    engine_says(NO_GPUS)
    placement = hardware.place("ml.g5.12xlarge")
    assert "device_requests" not in placement.options
    train_report = checks(placement, contract.TRAIN_COMMAND)
    assert train_report.ok, "a degraded run is a warning, not a failure"
    assert train_report.warnings() == ["train.gpus"]
    detail = train_report.checks[0].detail
    assert "ml.g5.12xlarge has 4 NVIDIA GPU(s) on SageMaker" in detail and "degraded run on CPU only" in detail
    assert "SM_NUM_GPUS=4 (here 0)" in detail and "4 process(es) per host" in detail
    serve_report = checks(placement, contract.SERVE_COMMAND)
    assert serve_report.warnings() == ["serve.gpus"]
    assert "one worker per GPU, 4 (here one per CPU)" in serve_report.checks[0].detail
    serve_report.fail_on = "warning"
    assert serve_report.failed() == ["serve.gpus"], "--fail-on warning turns a run without GPUs into a failure"


def test_vcpus_beyond_the_engines_are_capped_with_a_warning(engine_says) -> None:
    engine_says({**NO_GPUS, "NCPU": 2})
    placement = hardware.place("ml.m5.xlarge")
    assert placement.options == {"nano_cpus": 2 * 10**9, "mem_limit": "16g"}
    report = checks(placement)
    assert report.warnings() == ["train.cpus"]
    assert "ml.m5.xlarge has 4 vCPUs and this engine 2" in report.checks[0].detail


def test_cpu_instances_and_local_get_no_gpu_check(engine_says) -> None:
    engine_says(NVIDIA_RUNTIME)
    assert checks(hardware.place("ml.m5.large")).checks == []
    local = hardware.place(None)
    assert local.options == {} and checks(local).checks == []


def test_an_unknown_instance_type_is_refused_before_the_engine_is_asked(monkeypatch) -> None:
    def no_engine() -> dict:
        raise AssertionError("the engine was asked")
    monkeypatch.setattr(engine, "engine_info", no_engine)
    with pytest.raises(ImagekitError, match="Unknown instance type 'ml.g9.huge'") as error:
        hardware.place("ml.g9.huge")
    assert error.value.exit_code == 2


def hosts_devices(tmp_path: Path, instance_type: str, hosts: list[str]) -> list[list[str]]:
    tmp_path /= instance_type
    devices = []
    for host in hosts:
        options = training_host("run", tmp_path, host, hosts, channels={}, hyperparameters={},
                                instance_type=instance_type, env=None, pass_aws_credentials=False)
        config = json.loads((tmp_path / host / "input" / "config" / "resourceconfig.json").read_text())
        assert config["current_instance_type"] == instance_type
        devices.append(options["device_requests"][0]["DeviceIDs"])
    return devices


def test_every_training_host_gets_gpus_of_its_own(engine_says, nvidia_smi_lists, tmp_path: Path) -> None:
    engine_says(NVIDIA_RUNTIME)
    nvidia_smi_lists(UUIDS)
    assert hosts_devices(tmp_path, "ml.p3.8xlarge", ["algo-1", "algo-2"]) == [list(UUIDS[:4]), list(UUIDS[4:])]
    assert checks(hardware.place("ml.p3.8xlarge", hosts=2)).checks[0].ok
    engine_says(cdi(*(f"nvidia.com/gpu={i}" for i in range(8))))
    assert hosts_devices(tmp_path, "ml.g5.12xlarge", ["algo-1", "algo-2"]) == [
        [f"nvidia.com/gpu={i}" for i in range(4)], [f"nvidia.com/gpu={i}" for i in range(4, 8)]]


def test_hosts_that_must_share_the_engines_gpus_are_a_degraded_run(engine_says, nvidia_smi_lists,
                                                                    tmp_path: Path) -> None:
    engine_says(NVIDIA_RUNTIME)
    nvidia_smi_lists(UUIDS[:4])
    assert hosts_devices(tmp_path, "ml.p3.8xlarge", ["algo-1", "algo-2"]) == [list(UUIDS[:4])] * 2
    report = checks(hardware.place("ml.p3.8xlarge", hosts=2))
    assert report.warnings() == ["train.gpus"]
    assert "The 2 hosts share the engine's 4 GPU(s)" in report.checks[0].detail
    assert "this engine only" not in report.checks[0].detail, "each host did get the instance's 4"


@pytest.mark.slow
def test_a_gpu_instance_on_an_engine_without_gpus_trains_on_cpu_with_the_warning(module_image, engine_says,
                                                                                 tmp_path: Path) -> None:
    """The real engine runs the job; only its answer about GPUs is faked, so this holds on a GPU host too."""
    image = module_image("FROM {base}\nCOPY train /usr/local/bin/train\n", {"train": PROBE})
    host_cpus = engine.connect().info()["NCPU"]
    engine_says({"NCPU": host_cpus, "Runtimes": RUNC})
    report = train(image, instance_type="ml.g5.2xlarge", output=tmp_path)
    assert report.ok, report.to_json()
    assert "train.gpus" in report.warnings()
    assert ("train.cpus" in report.warnings()) == (host_cpus < 8)
    assert cpus(seen(tmp_path)) == min(8, host_cpus)
