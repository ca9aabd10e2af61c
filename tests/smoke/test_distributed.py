"""`distribution: mpi` and `parameter_server` images on real multi-host smoke runs (one private network, algo-1..N).

MPI: examples/mpi (Debian's openmpi-bin and python3-mpi4py) computes nearest centroids with one allreduce over
2 processes per host; the result is checked against the whole data set, the ranks' hosts against the job's.
Parameter server: a probe project whose `tensorflow` is a stand-in for the three calls the launcher makes (a real
tensorflow-cpu wheel is 250 MB and a multi-host ParameterServerStrategy run takes minutes of this machine's two
cores); each task connects to every ps and master/worker task over the network and they answer with the TF_CONFIG
role they were given, so every host's TF_CONFIG and ps process are proven. torchrun across 2 hosts is in
tests/generate/test_build.py.
"""

from __future__ import annotations

import json
import tarfile
import uuid
from pathlib import Path

import pytest

from imagekit import contract, engine
from imagekit.build import build
from imagekit.smoke.training import run_all, train

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "mpi"
PS_PROBE = Path(__file__).resolve().parent / "ps_probe"


@pytest.fixture(scope="module")
def images(base_image) -> dict[str, str]:
    """The MPI example and the parameter-server probe, built once for the module (layers cached by the engine)."""
    tags = {}
    try:
        for kind, project in (("mpi", EXAMPLE), ("ps", PS_PROBE)):
            tags[kind] = f"imagekit-test/{kind}-{uuid.uuid4().hex[:8]}:latest"
            build(project, tag=tags[kind], base=base_image, log=lambda line: None)
        yield tags
    finally:
        for tag in tags.values():
            engine.remove_image(tag)


@pytest.fixture(scope="module")
def mpi_image(images) -> str:
    return images["mpi"]


@pytest.fixture(scope="module")
def ps_image(images) -> str:
    return images["ps"]


def model_file(archive: Path, name: str) -> dict:
    with tarfile.open(archive) as packed:
        return json.load(packed.extractfile(name))


def expected_centroids() -> dict[str, list[float]]:
    rows = [line.split(",") for line in (EXAMPLE / "data" / "training" / "train.csv").read_text().split()]
    centroids = {}
    for label in sorted({row[0] for row in rows}):
        members = [[float(v) for v in row[1:]] for row in rows if row[0] == label]
        centroids[str(int(float(label)))] = [sum(column) / len(members) for column in zip(*members, strict=True)]
    return centroids


def test_the_mpi_example_passes_smoke_all_on_two_hosts(mpi_image: str, tmp_path: Path) -> None:
    report = run_all(mpi_image, instances=2, data={"training": EXAMPLE / "data" / "training"},
                     payloads=[EXAMPLE / "data" / "payload.csv"], content_type="text/csv", output=tmp_path)
    assert report.ok, report.failed()
    assert model_file(tmp_path / contract.MODEL_ARCHIVE_NAME, "mpi.json") == {
        "world": 4, "rows": 150, "hosts": ["algo-1", "algo-2"]}


def test_an_allreduce_across_three_hosts_adds_up_every_rank(mpi_image: str, tmp_path: Path) -> None:
    report = train(mpi_image, instances=3, data={"training": EXAMPLE / "data" / "training"}, output=tmp_path)
    assert report.ok, report.failed()
    archive = tmp_path / contract.MODEL_ARCHIVE_NAME
    assert model_file(archive, "mpi.json") == {"world": 6, "rows": 150, "hosts": ["algo-1", "algo-2", "algo-3"]}
    model = model_file(archive, "model.json")
    assert model.keys() == expected_centroids().keys()
    for label, centre in expected_centroids().items():
        assert model[label] == pytest.approx(centre)


def test_a_failing_rank_fails_the_job_and_is_named_with_its_host(mpi_image: str) -> None:
    report = train(mpi_image, instances=2, data={"training": EXAMPLE / "data" / "training"},
                   hyperparameters={"fail-rank": "3"})
    assert not report.ok
    assert report.data["failed_rank"] == {"rank": 3, "host": "algo-2", "ended": "exit code 1"}
    failed = {check.name: check.detail for check in report.checks if not check.ok}
    assert set(failed) == {"train.algo-1.exit-code", "train.algo-1.mpi-rank"}, failed  # workers exit 0
    reason = report.data["failure_reasons"]["algo-1"]
    assert reason.startswith("MPI rank 3 on algo-2 failed (exit code 1): rank 3 was told to fail"), reason


def test_estimator_hyperparameters_set_the_processes_per_host(mpi_image: str, tmp_path: Path) -> None:
    """What Estimator(distribution={"mpi": {"enabled": True, "processes_per_host": 1}}) writes wins over the spec."""
    report = train(mpi_image, instances=2, data={"training": EXAMPLE / "data" / "training"}, output=tmp_path,
                   hyperparameters={contract.HP_MPI_ENABLED: "true", contract.HP_MPI_PROCESSES_PER_HOST: "1"})
    assert report.ok, report.failed()
    assert model_file(tmp_path / contract.MODEL_ARCHIVE_NAME, "mpi.json")["world"] == 2


def test_hardware_only_distributions_fail_early_with_a_failure_file(mpi_image: str) -> None:
    report = train(mpi_image, instances=1, data={"training": EXAMPLE / "data" / "training"},
                   hyperparameters={"sagemaker_distributed_dataparallel_enabled": "true"})
    assert not report.ok
    assert "sagemaker_distributed_dataparallel_enabled" in report.data["failure_reasons"]["algo-1"]


def test_parameter_server_roles_reach_each_other_on_three_hosts(ps_image: str, tmp_path: Path) -> None:
    report = train(ps_image, instances=3, output=tmp_path)
    assert report.ok, report.failed()
    roles = model_file(tmp_path / contract.MODEL_ARCHIVE_NAME, "roles.json")
    hosts = [contract.host_name(i) for i in (1, 2, 3)]
    cluster = {"master": ["algo-1:2222"], "ps": [f"{h}:2223" for h in hosts], "worker": ["algo-2:2222", "algo-3:2222"]}
    assert roles["self"]["tf_config"] == {"cluster": cluster, "environment": "cloud",
                                          "task": {"index": 0, "type": "master"}}
    seen = {(r["job"], r["index"]): r for r in roles["seen"]}
    for index, host in enumerate(hosts):  # a ps process on every host, GPUs hidden from it
        assert seen["ps", index]["host"] == host and seen["ps", index]["device_count"] == {"GPU": 0}
    for index, host in enumerate(hosts[1:]):  # each worker with its own task in the same cluster
        worker = seen["worker", index]
        assert worker["host"] == host
        assert worker["tf_config"] == {"cluster": cluster, "environment": "cloud",
                                       "task": {"index": index, "type": "worker"}}
