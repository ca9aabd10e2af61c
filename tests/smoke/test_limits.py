"""`smoke train --instance-type` applies the instance's CPU and memory; `--network-isolation` leaves only loopback."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from imagekit import contract
from imagekit.errors import ImagekitError
from imagekit.smoke.serving import serve
from imagekit.smoke.training import train

pytestmark = pytest.mark.slow
PROBE = r'''#!/usr/bin/env python3
import json, os
def read(path):
    try:
        return open(path).read().strip()
    except OSError:
        return None
seen = {"memory_max": read("/sys/fs/cgroup/memory.max") or read("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
        "cpu_max": read("/sys/fs/cgroup/cpu.max"),
        "cfs": [read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"), read("/sys/fs/cgroup/cpu/cpu.cfs_period_us")],
        "interfaces": sorted(os.listdir("/sys/class/net"))}
open("/opt/ml/model/seen.json", "w").write(json.dumps(seen))
'''


@pytest.fixture(scope="module")
def probe_image(module_image) -> str:
    return module_image("FROM {base}\nCOPY train /usr/local/bin/train\n", {"train": PROBE})


def seen(output: Path) -> dict:
    with tarfile.open(output / contract.MODEL_ARCHIVE_NAME) as archive:
        return json.load(archive.extractfile("seen.json"))


def cpus(probe: dict) -> float:
    if probe["cpu_max"]:
        quota, period = probe["cpu_max"].split()
    else:
        quota, period = probe["cfs"]
    return int(quota) / int(period)


def test_instance_type_sets_memory_and_cpu_limits(probe_image: str, tmp_path: Path) -> None:
    report = train(probe_image, instance_type="ml.t3.medium", output=tmp_path)
    assert report.ok, report.failed()
    vcpus, memory_gib, _ = contract.INSTANCE_TYPES["ml.t3.medium"]
    probe = seen(tmp_path)
    assert int(probe["memory_max"]) == memory_gib * 2**30
    assert cpus(probe) == vcpus


def test_network_isolation_leaves_only_loopback(probe_image: str, tmp_path: Path) -> None:
    assert train(probe_image, network_isolation=True, output=tmp_path / "isolated").ok
    assert seen(tmp_path / "isolated")["interfaces"] == ["lo"]
    assert train(probe_image, output=tmp_path / "open").ok
    assert "eth0" in seen(tmp_path / "open")["interfaces"]


PEERS = r'''#!/usr/bin/env python3
import json, socket, sys, time
hosts = json.load(open("/opt/ml/input/config/resourceconfig.json"))["hosts"]
outside = json.load(open("/opt/ml/input/config/hyperparameters.json"))["outside"]
resolved = {}
for host in hosts:
    for attempt in range(50):
        try:
            resolved[host] = socket.gethostbyname(host)
            break
        except OSError:
            time.sleep(0.1)
time.sleep(1)  # stay up until the peer has resolved us too
try:
    socket.create_connection((outside, 80), timeout=3).close()
    reached = True
except OSError:
    reached = False
open("/opt/ml/model/seen.json", "w").write(json.dumps({"resolved": sorted(resolved), "outside": reached}))
'''


def test_network_isolation_on_several_hosts_keeps_peers_and_nothing_else(module_image, tmp_path: Path) -> None:
    import socket

    image = module_image("FROM {base}\nCOPY train /usr/local/bin/train\n", {"train": PEERS})
    outside = {"outside": socket.gethostbyname("deb.debian.org")}  # reachable from containers (apt works)
    assert train(image, instances=2, hyperparameters=outside, output=tmp_path / "open").ok
    assert seen(tmp_path / "open") == {"resolved": ["algo-1", "algo-2"], "outside": True}
    report = train(image, instances=2, hyperparameters=outside, network_isolation=True, output=tmp_path / "isolated")
    assert report.ok, report.failed()
    assert seen(tmp_path / "isolated") == {"resolved": ["algo-1", "algo-2"], "outside": False}


def test_unknown_instance_type_is_a_usage_error(probe_image: str) -> None:
    with pytest.raises(ImagekitError, match="Unknown instance type") as error:
        train(probe_image, instance_type="ml.nope.large")
    assert error.value.exit_code == 2


def test_more_hyperparameters_than_create_training_job_accepts_is_a_usage_error() -> None:
    too_many = {f"hp{i}": "1" for i in range(contract.MAX_HYPERPARAMETERS + 1)}
    with pytest.raises(ImagekitError, match=f"at most {contract.MAX_HYPERPARAMETERS}") as error:
        train("any-image:never-looked-up", hyperparameters=too_many)  # refused before the engine is asked
    assert error.value.exit_code == 2


@pytest.mark.parametrize("call, message", [
    (lambda tmp: train("any-image:never-looked-up", timeout=-5), "--timeout must be a positive"),
    (lambda tmp: train("any-image:never-looked-up", output=tmp / "a-file"), "is a file"),
    (lambda tmp: serve("any-image:never-looked-up", startup_timeout=0), "--startup-timeout must be a positive"),
    (lambda tmp: serve("any-image:never-looked-up", requests=5, concurrency=0), "concurrency at least 1"),
    (lambda tmp: serve("any-image:never-looked-up", requests=-1), "requests must be 0 or more"),
], ids=["timeout", "output-file", "startup-timeout", "concurrency", "requests"])
def test_impossible_option_values_are_usage_errors_before_the_engine_is_asked(tmp_path: Path, call,
                                                                               message: str) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    with pytest.raises(ImagekitError, match=message) as error:
        call(tmp_path)
    assert error.value.exit_code == 2
