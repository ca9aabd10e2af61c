"""The in-image `train` / `serve` runtime: what the renderer copies into every generated image.

The programs themselves live in imagekit/runtime/image/ and use only the Python standard library, so they run
on any base and never import imagekit. Everything they need to know — what the spec asked for and the
SageMaker contract's paths, env names, ports and limits — is written into one JSON file next to them
(contract.RUNTIME_CONFIG_FILE), generated here from imagekit.contract, the single source of truth.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

from imagekit import contract
from imagekit.spec.model import Train

CONTEXT_TREE = "imagekit-runtime"  # build-context dir mirroring absolute paths: COPY imagekit-runtime/ /
SOURCES = Path(__file__).resolve().parent / "image"
PACKAGE = "imagekit_runtime"
DISPATCH = contract.RUNTIME_DIR / "entrypoint"
ENTRYPOINT: tuple[str, ...] = (str(DISPATCH),)


@dataclass(frozen=True)
class RuntimeConfig:
    """What the spec asks the in-image programs to run."""

    train: Train | None = None
    handler: str | None = None
    distribution: str = "none"  # one of contract.DISTRIBUTIONS
    serve_workers: int | None = None
    processes_per_host: int | None = None  # MPI: spec default (hyperparameters override; else GPUs or 1)
    custom_mpi_options: str = ""
    transform: dict[str, object] | None = None  # serve.transform, answered on /execution-parameters

    def to_json(self) -> str:
        document = {**asdict(self), "contract": contract_values()}
        return json.dumps(document, indent=2, sort_keys=True) + "\n"


def contract_values() -> dict[str, object]:
    """The parts of imagekit.contract the in-image programs use, by the names they read."""
    c = contract
    paths = {
        "input_dir": c.INPUT_DIR, "input_config_dir": c.INPUT_CONFIG_DIR, "input_data_dir": c.INPUT_DATA_DIR,
        "hyperparameters_file": c.HYPERPARAMETERS_FILE, "resource_config_file": c.RESOURCE_CONFIG_FILE,
        "input_data_config_file": c.INPUT_DATA_CONFIG_FILE, "model_dir": c.MODEL_DIR, "output_dir": c.OUTPUT_DIR,
        "output_data_dir": c.OUTPUT_DATA_DIR, "output_intermediate_dir": c.OUTPUT_INTERMEDIATE_DIR,
        "failure_file": c.FAILURE_FILE, "success_file": c.SUCCESS_FILE, "code_dir": c.CODE_DIR,
        "model_code_dir": c.MODEL_CODE_DIR,
    }
    return {
        **{name: str(path) for name, path in paths.items()},
        "env_program": c.ENV_PROGRAM, "env_bind_to_port": c.ENV_BIND_TO_PORT,
        "env_workers": c.ENV_MODEL_SERVER_WORKERS, "env_default_accept": c.ENV_DEFAULT_INVOCATIONS_ACCEPT,
        "env_max_payload_mb": c.ENV_MAX_PAYLOAD_IN_MB, "env_batch_strategy": c.ENV_BATCH_STRATEGY,
        "env_max_concurrent_transforms": c.ENV_MAX_CONCURRENT_TRANSFORMS, "env_region": c.ENV_REGION,
        "env_job_name": c.ENV_TRAINING_JOB_NAME, "env_dist_backend": c.ENV_DIST_BACKEND,
        "env_sagemaker_job_name": c.ENV_JOB_NAME, "env_current_host": c.ENV_CURRENT_HOST,
        "hp_region": c.HP_REGION, "hp_job_name": c.HP_JOB_NAME, "hp_program": c.HP_PROGRAM,
        "framework_hp_prefix": c.FRAMEWORK_HP_PREFIX, "toolkit_hps": list(c.TOOLKIT_HPS),
        "hp_log_level": c.HP_LOG_LEVEL, "hp_distribution_groups": c.HP_DISTRIBUTION_GROUPS,
        "distribution_hps": list(c.DISTRIBUTION_HPS),
        "hp_submit_directory": c.HP_SUBMIT_DIRECTORY, "env_training_module": c.ENV_TRAINING_MODULE,
        "env_aws_region": c.ENV_AWS_DEFAULT_REGION, "requirements_file": c.REQUIREMENTS_FILE,
        "setup_file": c.SETUP_FILE, "default_handler_module": c.DEFAULT_HANDLER_MODULE,
        "default_model_name": c.DEFAULT_MODEL_NAME,
        "sm_prefix": c.SM_ENV_PREFIX, "sm_channel_prefix": c.SM_CHANNEL_PREFIX, "sm_hp_prefix": c.SM_HP_PREFIX,
        "port": c.SERVING_PORT, "ping_route": c.PING_ROUTE, "invocations_route": c.INVOCATIONS_ROUTE,
        "execution_parameters_route": c.EXECUTION_PARAMETERS_ROUTE, "models_route": c.MODELS_ROUTE,
        "env_multi_model": c.ENV_MULTI_MODEL, "capability_true": c.CAPABILITY_TRUE,
        "max_payload_mb": c.DEFAULT_MAX_PAYLOAD_IN_MB, "default_accept": c.DEFAULT_CONTENT_TYPE,
        "batch_strategy": c.DEFAULT_BATCH_STRATEGY, "batch_strategy_values": c.BATCH_STRATEGY_VALUES,
        "transform_max_payload_mb": c.TRANSFORM_MAX_PAYLOAD_IN_MB,
        "transform_max_concurrent_payload_mb": c.TRANSFORM_MAX_CONCURRENT_PAYLOAD_MB,
        "header_custom_attributes": c.HEADER_CUSTOM_ATTRIBUTES,
        "serve_stop_grace_s": c.SERVE_STOP_GRACE_S, "invocation_timeout_s": c.INVOCATION_TIMEOUT_S,
        "failure_max_chars": c.FAILURE_REASON_MAX_CHARS,
        "dns_wait_max_s": c.DNS_WAIT_MAX_S, "master_port": c.DISTRIBUTED_MASTER_PORT,
        "efa_nccl_instance_types": list(c.EFA_NCCL_INSTANCE_TYPES),
        "efa_rdma_instance_types": list(c.EFA_RDMA_INSTANCE_TYPES),
        "default_host": c.host_name(1), "network_interface": c.DEFAULT_NETWORK_INTERFACE,
        "default_instance_type": c.DEFAULT_INSTANCE_TYPE, "homogeneous_group": c.HOMOGENEOUS_GROUP,
        **_distribution_values(),
    }


def _distribution_values() -> dict[str, object]:
    """What the MPI and parameter-server launchers read (imagekit_runtime/mpi.py, parameter_server.py)."""
    c = contract
    return {
        "hp_mpi_enabled": c.HP_MPI_ENABLED, "hp_mpi_processes_per_host": c.HP_MPI_PROCESSES_PER_HOST,
        "hp_mpi_num_processes": c.HP_MPI_NUM_PROCESSES, "hp_mpi_custom_options": c.HP_MPI_CUSTOM_OPTIONS,
        "hp_parameter_server_enabled": c.HP_PARAMETER_SERVER_ENABLED,
        "hp_torch_distributed_enabled": c.HP_TORCH_DISTRIBUTED_ENABLED,
        "hardware_distribution_hps": list(c.HARDWARE_DISTRIBUTION_HPS), "hp_model_parallel": c.HP_MODEL_PARALLEL,
        "sshd": str(c.SSHD), "ssh_port": c.SSH_PORT, "mpi_run_dir": str(c.MPI_RUN_DIR),
        "mpi_key_port": c.MPI_KEY_PORT, "mpi_master_wait_s": c.MPI_MASTER_WAIT_S,
        "mpi_rank_failure": c.MPI_RANK_FAILURE,
        "tf_config_env": c.TF_CONFIG_ENV, "tf_worker_port": c.TF_WORKER_PORT, "tf_ps_port": c.TF_PS_PORT,
    }


def _launcher(function: str) -> bytes:
    """A tiny executable that runs the runtime with the image's venv Python (so user imports resolve)."""
    return (f"#!{contract.VENV_DIR}/bin/python3\n"
            f'"""imagekit runtime launcher: {function}."""\n'
            f"import sys\nsys.path.insert(0, {str(contract.RUNTIME_DIR)!r})\n"
            f"from {PACKAGE}.main import {function}\nsys.exit({function}())\n").encode()


def build_context_files(config: RuntimeConfig) -> dict[str, tuple[bytes, int]]:
    """Build-context path → (bytes, mode) for the runtime tree; paths mirror where the files land in the image."""
    def at(path: PurePosixPath) -> str:
        return f"{CONTEXT_TREE}{path}"

    files = {
        at(DISPATCH): (_launcher("dispatch"), 0o755),
        at(contract.RUNTIME_BIN_DIR / contract.TRAIN_COMMAND): (_launcher("train"), 0o755),
        at(contract.RUNTIME_BIN_DIR / contract.SERVE_COMMAND): (_launcher("serve"), 0o755),
        at(contract.RUNTIME_CONFIG_FILE): (config.to_json().encode(), 0o644),
    }
    for source in sorted((SOURCES / PACKAGE).glob("*.py")):
        files[at(contract.RUNTIME_DIR / PACKAGE / source.name)] = (source.read_bytes(), 0o644)
    return files
