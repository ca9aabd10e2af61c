"""`--instance-type` pins a smaller instance's containers to CPUs the engine has, read from this machine (a cgroup
cpuset need not be 0..N-1: `2-3`, `0,4-5`); when they cannot be known (a remote engine) the container gets the CPU
quota alone and the report says that whatever counts CPUs saw the engine's count."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imagekit import contract, engine
from imagekit.smoke import hardware
from imagekit.smoke.report import Report
from imagekit.smoke.training import train


def test_a_cpulist_is_read_as_the_kernel_writes_it_and_written_back_as_docker_takes_it() -> None:
    assert hardware.parse_cpulist("0-3,8,10-11\n") == (0, 1, 2, 3, 8, 10, 11)
    assert hardware.parse_cpulist("5") == (5,) and hardware.parse_cpulist("\n") == ()
    for bad in ("3-1", "a", "1-", "-2", "0-3;8"):
        with pytest.raises(ValueError):
            hardware.parse_cpulist(bad)
    assert hardware.format_cpulist((0, 4, 5)) == "0,4-5"
    assert hardware.format_cpulist((2, 3)) == "2-3"
    assert hardware.format_cpulist((1, 3, 5, 6, 7, 9)) == "1,3,5-7,9"


@pytest.fixture
def machine(monkeypatch, tmp_path: Path):
    """A local engine (its `docker info` faked) on a machine whose cgroup and online CPU files say *files*."""
    def fake(info: dict, files: dict[str, str], local: bool = True) -> None:
        for name, text in files.items():
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).write_text(text + "\n")
        monkeypatch.setattr(hardware, "CGROUP_ROOT", tmp_path / "sys/fs/cgroup")
        monkeypatch.setattr(hardware, "ONLINE_CPUS", tmp_path / "sys/devices/system/cpu/online")
        monkeypatch.setattr(engine, "engine_is_local", lambda: local)
        monkeypatch.setattr(engine, "engine_info", lambda: {"Runtimes": {"runc": {}}, **info})
    return fake


def cpusets(instance_type: str, hosts: int) -> list[str | None]:
    return [hardware.place(instance_type, host, hosts).options.get("cpuset_cpus") for host in range(hosts)]


V1 = {"CgroupDriver": "cgroupfs", "CgroupVersion": "1", "CPUSet": True}


@pytest.mark.parametrize(("info", "files", "expected"), [
    (V1, {"sys/fs/cgroup/cpuset/docker/cpuset.effective_cpus": "2-5"}, ["2-3", "4-5"]),
    (V1, {"sys/fs/cgroup/cpuset/cpuset.effective_cpus": "0,4-5,7"}, ["0,4", "5,7"]),
    ({"CgroupDriver": "systemd", "CgroupVersion": "2"},
     {"sys/fs/cgroup/system.slice/cpuset.cpus.effective": "8-11", "sys/fs/cgroup/cpuset.cpus.effective": "0-11"},
     ["8-9", "10-11"]),
    ({"CgroupDriver": "cgroupfs", "CgroupVersion": "2"}, {"sys/devices/system/cpu/online": "0-1,6-7"},
     ["0-1", "6-7"]),
], ids=["v1-docker-parent", "v1-root", "v2-systemd-slice", "online-only"])
def test_each_host_is_pinned_to_cpus_the_engine_has(machine, info: dict, files: dict, expected: list) -> None:
    machine({**info, "NCPU": 4}, files)
    assert cpusets("ml.t3.medium", 2) == expected
    placement = hardware.place("ml.t3.medium")
    assert placement.options["nano_cpus"] == 2 * 10**9 and placement.cpus_seen == 2
    report = Report("image:tag")
    hardware.check(report, contract.TRAIN_COMMAND, placement)
    assert report.checks == []


def test_hosts_share_the_first_cpus_when_there_are_too_few_for_each_its_own(machine) -> None:
    machine({**V1, "NCPU": 3}, {"sys/fs/cgroup/cpuset/docker/cpuset.effective_cpus": "2-3,9"})
    assert cpusets("ml.t3.medium", 2) == ["2-3", "2-3"]


@pytest.mark.parametrize(("local", "info", "files"), [
    (False, V1, {"sys/fs/cgroup/cpuset/docker/cpuset.effective_cpus": "0-7"}),
    (True, V1, {}),
    (True, V1, {"sys/fs/cgroup/cpuset/docker/cpuset.effective_cpus": "0-63"}),
    (True, {**V1, "CPUSet": False}, {"sys/fs/cgroup/cpuset/docker/cpuset.effective_cpus": "0-7"}),
], ids=["remote-engine", "nothing-readable", "not-what-the-engine-counts", "no-cpuset-support"])
def test_unknown_cpus_get_the_quota_alone_and_the_report_says_what_counting_saw(machine, local: bool, info: dict,
                                                                                 files: dict) -> None:
    machine({**info, "NCPU": 8}, files, local=local)
    placement = hardware.place("ml.m5.xlarge")
    assert placement.options == {"nano_cpus": 4 * 10**9, "mem_limit": "16g"}
    report = Report("image:tag")
    hardware.check(report, contract.TRAIN_COMMAND, placement)
    assert report.warnings() == ["train.cpus"]
    assert "quota of 4 of this engine's 8, but was not pinned" in report.checks[0].detail
    assert "(SM_NUM_CPUS, workers per CPU, data loaders) saw 8, not 4" in report.checks[0].detail


AFFINITY = r'''#!/usr/bin/env python3
import json, os, socket
open(f"/opt/ml/model/{socket.gethostname()}.json", "w").write(json.dumps(sorted(os.sched_getaffinity(0))))
'''


@pytest.mark.slow
def test_a_pinned_placement_starts_on_this_engine_with_each_host_on_cpus_of_its_own(module_image, monkeypatch,
                                                                                    tmp_path: Path) -> None:
    """A one-vCPU instance (none is in the table; smaller than any engine with 2+ CPUs) on the real engine."""
    usable = hardware.engine_cpu_list(engine.engine_info())
    assert usable is not None and len(usable) >= 2, f"this engine's CPUs are unknown or too few: {usable}"
    monkeypatch.setitem(contract.INSTANCE_TYPES, "ml.test.one-cpu", (1, 1, 0))
    image = module_image("FROM {base}\nCOPY train /usr/local/bin/train\n", {"train": AFFINITY})
    report = train(image, instance_type="ml.test.one-cpu", instances=2, output=tmp_path)
    assert report.ok and not report.warnings(), report.to_json()
    import tarfile

    with tarfile.open(tmp_path / contract.MODEL_ARCHIVE_NAME) as archive:
        seen = {name: json.load(archive.extractfile(name)) for name in ("algo-1.json", "algo-2.json")}
    assert seen == {"algo-1.json": [usable[0]], "algo-2.json": [usable[1]]}
