"""`smoke train --instance-type` applies the instance's CPU and memory; `--network-isolation` leaves only loopback."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from imagekit import contract
from imagekit.errors import ImagekitError
from imagekit.smoke.serving import serve
from imagekit.smoke.training import run_all, train

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
import json, socket, sys
hosts = json.load(open("/opt/ml/input/config/resourceconfig.json"))["hosts"]
outside = json.load(open("/opt/ml/input/config/hyperparameters.json"))["outside"]
unresolved = []
for host in hosts:  # once, at once, no retry: a rendezvous on algo-1 does not wait either
    try:
        socket.gethostbyname(host)
    except OSError as error:
        unresolved.append(f"{host}: {error}")
if unresolved:
    sys.exit(f"{socket.gethostname()} cannot resolve {unresolved}")
try:
    socket.create_connection((outside, 80), timeout=3).close()
    reached = True
except OSError:
    reached = False
open("/opt/ml/model/seen.json", "w").write(json.dumps({"resolved": hosts, "outside": reached}))
'''


@pytest.fixture(scope="module")
def peers_image(module_image) -> str:
    return module_image("FROM {base}\nCOPY train /usr/local/bin/train\n", {"train": PEERS})


@pytest.fixture(scope="module")
def outside() -> dict[str, str]:
    import socket

    return {"outside": socket.gethostbyname("deb.debian.org")}  # reachable from containers (apt works)


@pytest.mark.parametrize(("instances", "isolated"), [(1, True), (2, False), (2, True), (4, False), (4, True)])
def test_every_host_resolves_every_host_from_its_first_instant(peers_image: str, outside: dict, tmp_path: Path,
                                                               instances: int, isolated: bool) -> None:
    report = train(peers_image, instances=instances, hyperparameters=outside, network_isolation=isolated,
                   output=tmp_path)
    assert report.ok, report.to_json()
    assert seen(tmp_path) == {"resolved": [f"algo-{i + 1}" for i in range(instances)], "outside": not isolated}


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
    # `smoke all` refuses its serve options before training, not after minutes of it
    (lambda tmp: run_all("any-image:never-looked-up", concurrency=0), "concurrency at least 1"),
    (lambda tmp: run_all("any-image:never-looked-up", payloads=[tmp / "missing.csv"]), "missing.csv does not exist"),
], ids=["timeout", "output-file", "startup-timeout", "concurrency", "requests", "all-concurrency", "all-payload"])
def test_impossible_option_values_are_usage_errors_before_the_engine_is_asked(tmp_path: Path, call,
                                                                               message: str) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    with pytest.raises(ImagekitError, match=message) as error:
        call(tmp_path)
    assert error.value.exit_code == 2


NEVER = "any-image:never-looked-up"
NAN, INF = float("nan"), float("inf")


def _endpoint(startup_timeout: float) -> None:
    from imagekit.smoke.variants import parse_variant, running_endpoint

    with running_endpoint([parse_variant(f"blue={NEVER}:1")], startup_timeout=startup_timeout):
        pass


def _transform(tmp: Path, **options) -> None:
    from imagekit.smoke.transform import TransformSettings, transform

    (tmp / "in").mkdir()
    (tmp / "in" / "rows.csv").write_text("1,2\n")
    transform(NEVER, model=None, input=tmp / "in", output=tmp / "out",
              settings=TransformSettings(invocation_timeout=options.pop("invocation_timeout", 600)), **options)


@pytest.mark.parametrize("call, message", [
    (lambda tmp: train(NEVER, timeout=NAN), "--timeout must be a positive number of seconds, not nan"),
    (lambda tmp: run_all(NEVER, timeout=INF), "--timeout must be a positive number of seconds, not inf"),
    (lambda tmp: serve(NEVER, startup_timeout=NAN), "--startup-timeout must be a positive number of seconds, not nan"),
    (lambda tmp: serve(NEVER, startup_timeout=3601), "--startup-timeout 3601 is over 3600 s, the most "
                                                     "ProductionVariant.ContainerStartupHealthCheckTimeoutInSeconds"),
    (lambda tmp: run_all(NEVER, startup_timeout=INF), "--startup-timeout must be a positive number"),
    (lambda tmp: _endpoint(NAN), "--startup-timeout must be a positive number"),
    (lambda tmp: _transform(tmp, startup_timeout=NAN), "--startup-timeout must be a positive number"),
    (lambda tmp: _transform(tmp, invocation_timeout=NAN), "--invocation-timeout must be a positive number"),
    (lambda tmp: _transform(tmp, invocation_timeout=3601), "--invocation-timeout 3601 is over 3600 s, the most "
                                                           "ModelClientConfig.InvocationsTimeoutInSeconds allows"),
], ids=["train-nan", "all-inf", "serve-nan", "serve-over-platform-max", "all-startup-inf", "endpoint-nan",
        "transform-nan", "transform-invocation-nan", "transform-invocation-over-max"])
def test_durations_that_are_not_finite_or_over_the_platform_maximum_are_refused(tmp_path: Path, call,
                                                                                message: str) -> None:
    with pytest.raises(ImagekitError, match=re.escape(message)) as error:
        call(tmp_path)
    assert error.value.exit_code == 2


def test_the_cli_refuses_nan_with_one_paragraph_and_exit_2() -> None:
    """typer takes `nan` for a float option; it must reach the refusal, not docker-py's settimeout."""
    for args in (["train", NEVER, "--timeout", "nan"], ["serve", NEVER, "--startup-timeout", "nan"]):
        run = subprocess.run([sys.executable, "-m", "imagekit", "smoke", *args], capture_output=True, text=True,
                             timeout=60)
        assert run.returncode == 2 and "must be a positive number of seconds, not nan" in run.stderr, run.stderr
        assert "Traceback" not in run.stderr


@pytest.mark.parametrize("make, says", [
    (lambda tmp: tmp, "is a directory"),
    (lambda tmp: (os.mkfifo(tmp / "fifo"), tmp / "fifo")[1], "is not a regular file (a device, FIFO or socket)"),
    (lambda tmp: tmp / "missing.json", "does not exist"),
], ids=["directory", "fifo", "missing"])
def test_a_payload_that_is_not_a_regular_file_is_named_for_what_it_is(tmp_path: Path, make, says: str) -> None:
    with pytest.raises(ImagekitError, match=re.escape(says)) as error:
        serve(NEVER, payloads=[make(tmp_path)])
    assert error.value.exit_code == 2 and "--payload" in error.value.hint


@pytest.mark.parametrize("name", ["bad name", "../../x", "..", "x" * (contract.CHANNEL_NAME_MAX_CHARS + 1),
                                  "trän", ""], ids=["space", "traversal", "dotdot", "too-long", "non-ascii", "empty"])
def test_channel_names_create_training_job_refuses_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ImagekitError, match="is not one CreateTrainingJob accepts") as error:
        train(NEVER, data={name: tmp_path})
    assert error.value.exit_code == 2


def test_channel_names_create_training_job_accepts_pass_the_name_check(tmp_path: Path) -> None:
    for name in ("train", "validation-1", "my.channel_2", "x" * contract.CHANNEL_NAME_MAX_CHARS):
        with pytest.raises(ImagekitError, match="must be a positive number"):  # the next check: nothing ran
            train(NEVER, data={name: tmp_path}, timeout=0)
