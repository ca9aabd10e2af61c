"""In-image `train`: the toolkit's environment and arguments, the failure file, SIGTERM forwarding."""

from __future__ import annotations

import json
import signal
import time

from imagekit import contract
from runtime.harness import FakeImage, RuntimeConfig, Train

ECHO = """import json, os, sys
from pathlib import Path
Path(os.environ["SM_MODEL_DIR"]).mkdir(parents=True, exist_ok=True)
seen = {"argv": sys.argv[1:], "cwd": os.getcwd(),
        "env": {k: v for k, v in os.environ.items()
                if k.startswith("SM_") or k in ("CURRENT_HOST", "SAGEMAKER_JOB_NAME", "SAGEMAKER_REGION")}}
(Path(os.environ["SM_MODEL_DIR"]) / "seen.json").write_text(json.dumps(seen))
"""


def script_image(tmp_path, source: str, name: str = "train.py", args: tuple[str, ...] = ()) -> FakeImage:
    return FakeImage(tmp_path, RuntimeConfig(train=Train("script", name, args)), {name: source})


def seen(image: FakeImage) -> dict:
    return json.loads((image.path(contract.MODEL_DIR) / "seen.json").read_text())


def test_hyperparameters_become_sorted_args_and_toolkit_env(tmp_path):
    image = script_image(tmp_path, ECHO, args=("--fixed", "1"))
    hps = {"lr": "0.1", "batch-size": "256", "b": "true", "name": "abc", "layers": "[1, 2]",
           "sagemaker_region": '"eu-west-1"', "sagemaker_job_name": '"job-1"'}
    # Two hosts whose names resolve here: `train` waits for every peer's name before a multi-host run.
    run = image.train(hps, channels=("training", "testing"), hosts=("localhost", "127.0.0.1"),
                      env={contract.ENV_TRAINING_JOB_NAME: "training-job-1"})
    assert run.returncode == 0, run.stderr
    result = seen(image)
    assert result["argv"] == ["--fixed", "1", "-b", "True", "--batch-size", "256", "--layers", "[1, 2]",
                              "--lr", "0.1", "--name", "abc"]
    env = result["env"]
    assert json.loads(env["SM_HPS"]) == {"b": True, "batch-size": 256, "layers": [1, 2], "lr": 0.1, "name": "abc"}
    assert env["SM_HPS"] == '{"b":true,"batch-size":256,"layers":[1,2],"lr":0.1,"name":"abc"}'
    assert env["SM_HP_LR"] == "0.1" and env["SM_HP_BATCH-SIZE"] == "256" and env["SM_HP_NAME"] == "abc"
    assert env["SM_HP_B"] == "true"
    # sagemaker_region is one of the toolkit's own parameters: not a framework parameter, not an argument
    assert env["SM_FRAMEWORK_PARAMS"] == "{}" and "SM_HP_SAGEMAKER_REGION" not in env
    assert env["SM_CHANNELS"] == '["testing","training"]'
    assert env["SM_CHANNEL_TRAINING"] == str(image.path(contract.channel_dir("training")))
    assert env["SM_HOSTS"] == '["localhost","127.0.0.1"]' and env["SM_CURRENT_HOST"] == "localhost"
    assert env["CURRENT_HOST"] == "localhost" and env["SM_NUM_GPUS"] == "0" and int(env["SM_NUM_CPUS"]) >= 1
    assert env["SAGEMAKER_JOB_NAME"] == "job-1" and env["SAGEMAKER_REGION"] == "eu-west-1"
    assert env["SM_MODEL_DIR"] == str(image.path(contract.MODEL_DIR))
    assert env["SM_OUTPUT_DATA_DIR"] == str(image.path(contract.OUTPUT_DATA_DIR))
    assert env["SM_USER_ARGS"] == json.dumps(result["argv"][2:], separators=(",", ":"))
    assert env["SM_MODULE_NAME"] == "train" and env["SM_USER_ENTRY_POINT"] == "train.py"
    training_env = json.loads(env["SM_TRAINING_ENV"])
    assert training_env["hosts"] == ["localhost", "127.0.0.1"] and training_env["hyperparameters"]["lr"] == 0.1
    assert result["cwd"] == str(image.path(contract.CODE_DIR))
    assert image.path(contract.SUCCESS_FILE).exists() and not image.path(contract.FAILURE_FILE).exists()


def test_failure_file_starts_with_the_reason_and_fits_the_platform_limit(tmp_path):
    image = script_image(tmp_path, "import sys\nprint('x' * 3000, file=sys.stderr)\n"
                                   "raise ValueError('column 7 is not numeric')\n")
    run = image.train()
    assert run.returncode == 1
    failure = image.path(contract.FAILURE_FILE).read_text()
    assert failure.splitlines()[0] == "ValueError: column 7 is not numeric"
    assert "ExitCode 1" in failure and len(failure) <= contract.FAILURE_REASON_MAX_CHARS
    assert "column 7 is not numeric" in run.stderr  # the program's stderr still reaches the log


def test_a_failure_file_written_by_the_program_is_kept(tmp_path):
    image = script_image(tmp_path, "import os, sys\nfrom pathlib import Path\n"
                                   "p = Path(os.environ['SM_OUTPUT_DIR']) / 'failure'\n"
                                   "p.parent.mkdir(parents=True, exist_ok=True)\n"
                                   "p.write_text('my own reason')\nsys.exit(3)\n")
    assert image.train().returncode == 1
    assert image.path(contract.FAILURE_FILE).read_text() == "my own reason"


def test_sigterm_reaches_the_program(tmp_path):
    source = ("import os, signal, sys, time\nfrom pathlib import Path\nout = Path(os.environ['SM_OUTPUT_DATA_DIR'])\n"
              "def stop(signum, frame):\n    (out / 'got-sigterm').write_text('yes')\n    sys.exit(0)\n"
              "signal.signal(signal.SIGTERM, stop)\n(out / 'started').write_text('yes')\ntime.sleep(60)\n")
    image = script_image(tmp_path, source)
    image.write(contract.HYPERPARAMETERS_FILE, "{}")
    process = image.start("train")
    started = image.path(contract.OUTPUT_DATA_DIR) / "started"
    deadline = time.monotonic() + 20
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert started.exists(), process.stderr.read() if process.poll() is not None else "program never started"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    assert (image.path(contract.OUTPUT_DATA_DIR) / "got-sigterm").read_text() == "yes"


def test_module_entry_and_sagemaker_program_override(tmp_path):
    image = FakeImage(tmp_path, RuntimeConfig(train=Train("module", "pkg.train")),
                      {"pkg/__init__.py": "", "pkg/train.py": ECHO,
                       "other.py": ECHO.replace("seen.json", "other.json")})
    assert image.train({"epochs": "2"}).returncode == 0
    assert seen(image)["argv"] == ["--epochs", "2"]
    run = image.train({"epochs": "2"}, env={contract.ENV_PROGRAM: "other.py"})
    assert run.returncode == 0, run.stderr
    assert (image.path(contract.MODEL_DIR) / "other.json").exists()


def test_no_training_entry_fails_clearly(tmp_path):
    image = FakeImage(tmp_path, RuntimeConfig(handler="inference"))
    run = image.train()
    assert run.returncode == 1
    assert "no training entry" in image.path(contract.FAILURE_FILE).read_text()


def test_a_peer_that_never_resolves_fails_the_job_with_its_name(tmp_path):
    image = FakeImage(tmp_path, RuntimeConfig(train=Train("script", "train.py", ())), {"train.py": ECHO},
                      contract_overrides={"dns_wait_max_s": 1})
    run = image.train(hosts=("localhost", "algo-9.invalid"))
    assert run.returncode == 1
    assert "algo-9.invalid did not resolve" in image.path(contract.FAILURE_FILE).read_text()
    assert not image.path(contract.MODEL_DIR / "seen.json").exists()  # the program never started


def test_a_program_that_cannot_start_still_writes_the_failure_file(tmp_path):
    image = script_image(tmp_path, "#!/no/such/interpreter\n", name="run")
    run = image.train()
    assert run.returncode == 1
    assert "FileNotFoundError" in image.path(contract.FAILURE_FILE).read_text()


def test_a_non_executable_other_entry_is_made_executable_like_the_toolkit_does(tmp_path):
    image = script_image(tmp_path, '#!/bin/sh\necho "$@" > "$SM_MODEL_DIR/ran"\n', name="run")
    assert image.path(contract.CODE_DIR / "run").stat().st_mode & 0o111 == 0
    run = image.train({"epochs": "2"})
    assert run.returncode == 0, run.stderr
    assert (image.path(contract.MODEL_DIR) / "ran").read_text() == "--epochs 2\n"


def test_current_host_missing_from_hosts_is_a_clear_failure(tmp_path):
    image = FakeImage(tmp_path, RuntimeConfig(train=Train("script", "train.py", ()), distribution="torchrun"),
                      {"train.py": ECHO})
    image.write(contract.HYPERPARAMETERS_FILE, "{}")
    image.write(contract.RESOURCE_CONFIG_FILE, json.dumps({"current_host": "algo-3", "hosts": ["localhost"]}))
    process = image.start("train")
    process.communicate(timeout=60)
    assert process.returncode == 1
    assert "current_host 'algo-3' is not among the hosts" in image.path(contract.FAILURE_FILE).read_text()


FRAMEWORK = """import os
def main():
    open(os.environ["FRAMEWORK_MARKER"], "w").write("ran")
    if os.environ.get("FRAMEWORK_FAILS"):
        raise RuntimeError("the framework broke")
"""


def test_training_module_gets_the_job_when_importable_else_the_entry_runs(tmp_path):
    """SAGEMAKER_TRAINING_MODULE=module:function hands the job over like the toolkit, when the module is there."""
    (tmp_path / "framework").mkdir()
    (tmp_path / "framework" / "my_framework.py").write_text(FRAMEWORK)
    image = script_image(tmp_path / "image", ECHO)
    marker = tmp_path / "marker"
    env = {"PYTHONPATH": str(tmp_path / "framework"), "FRAMEWORK_MARKER": str(marker),
           contract.ENV_TRAINING_MODULE: "my_framework:main"}
    assert image.train(env=env).returncode == 0
    assert marker.exists() and not (image.path(contract.MODEL_DIR) / "seen.json").exists()
    assert image.path(contract.SUCCESS_FILE).exists()
    image.path(contract.SUCCESS_FILE).unlink()
    assert image.train(env={**env, "FRAMEWORK_FAILS": "1"}).returncode == 1
    failure = image.path(contract.FAILURE_FILE).read_text()
    assert failure.startswith("Framework Error") and failure.rstrip().endswith("the framework broke")
    image.path(contract.FAILURE_FILE).unlink()
    run = image.train(env={**env, contract.ENV_TRAINING_MODULE: "not_in_this_image:main"})
    assert run.returncode == 0, run.stderr
    assert "not_in_this_image:main is not an importable" in run.stderr
    assert seen(image)["env"]["SM_FRAMEWORK_MODULE"] == "not_in_this_image:main"


def test_sm_num_cpus_counts_only_the_cpus_the_job_may_run_on(tmp_path):
    """A container pinned to N CPUs (smoke's --instance-type on a bigger engine) is an instance with N CPUs."""
    import os

    image = script_image(tmp_path, ECHO)
    allowed = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(allowed)})  # `train` inherits it, as a process in a --cpuset-cpus container
    try:
        run = image.train({})
    finally:
        os.sched_setaffinity(0, allowed)
    assert run.returncode == 0, run.stderr
    assert seen(image)["env"]["SM_NUM_CPUS"] == "1"
