"""The SageMaker container contract: the one place its paths, names, ports, labels, limits and timeouts live.

The generator writes these into images, both linters check images against them and the smoke runner
exercises them, so every other module imports from here instead of re-typing a literal. Sources are in
shared/reference/sagemaker-contract.md (section numbers in the comments).
"""

from __future__ import annotations

from pathlib import PurePosixPath

# --- The /opt/ml tree (§1.2) -------------------------------------------------------------------------
ML_ROOT = PurePosixPath("/opt/ml")
INPUT_DIR = ML_ROOT / "input"
INPUT_CONFIG_DIR = INPUT_DIR / "config"
INPUT_DATA_DIR = INPUT_DIR / "data"
HYPERPARAMETERS_FILE = INPUT_CONFIG_DIR / "hyperparameters.json"
RESOURCE_CONFIG_FILE = INPUT_CONFIG_DIR / "resourceconfig.json"
INPUT_DATA_CONFIG_FILE = INPUT_CONFIG_DIR / "inputdataconfig.json"
CHECKPOINT_CONFIG_FILE = INPUT_CONFIG_DIR / "checkpointconfig.json"
MODEL_DIR = ML_ROOT / "model"
OUTPUT_DIR = ML_ROOT / "output"
OUTPUT_DATA_DIR = OUTPUT_DIR / "data"
OUTPUT_INTERMEDIATE_DIR = OUTPUT_DIR / "intermediate"
FAILURE_FILE = OUTPUT_DIR / "failure"
SUCCESS_FILE = OUTPUT_DIR / "success"
CHECKPOINTS_DIR = ML_ROOT / "checkpoints"
CODE_DIR = ML_ROOT / "code"  # toolkit convention, not a platform mount (§1.1, §2.1)
MODEL_CODE_DIR = MODEL_DIR / "code"  # inference toolkit's user-code dir (§3.6)
MULTI_MODEL_DIR = ML_ROOT / "models"  # multi-model endpoints (§3.5)
BYOC_PROGRAM_DIR = PurePosixPath("/opt/program")  # where AWS's bring-your-own-container samples put code

# Directories SageMaker mounts over at run time: anything an image bakes there may vanish (§1.1, §6 #5).
MOUNTED_DIRS: tuple[PurePosixPath, ...] = (INPUT_DIR, MODEL_DIR, OUTPUT_DIR, CHECKPOINTS_DIR)

# --- How the platform starts a container (§1.1, §3.1) ------------------------------------------------
TRAIN_COMMAND = "train"
SERVE_COMMAND = "serve"
MODES: tuple[str, ...] = (TRAIN_COMMAND, SERVE_COMMAND)
# Inits that, with no program after them, start the train/serve argument itself, from PATH (§1.1, §6 #4).
ARGUMENT_EATING_INITS: tuple[str, ...] = ("tini", "tini-static", "dumb-init")

# --- Serving (§3) ------------------------------------------------------------------------------------
SERVING_PORT = 8080
PING_ROUTE = "/ping"
INVOCATIONS_ROUTE = "/invocations"
EXECUTION_PARAMETERS_ROUTE = "/execution-parameters"
MODELS_ROUTE = "/models"  # multi-model endpoints: load, list, unload, /models/<name>/invoke (§3.5)
PING_TIMEOUT_S = 2.0
STARTUP_HEALTH_TIMEOUT_S = 240.0  # 4 minutes unless ContainerStartupHealthCheckTimeoutInSeconds
STARTUP_HEALTH_SETTING = "ProductionVariant.ContainerStartupHealthCheckTimeoutInSeconds"  # extends that window
STARTUP_HEALTH_TIMEOUT_MAX_S = 3600.0  # the setting's upper bound (60-3600)
INVOCATION_TIMEOUT_S = 60.0
CONNECT_ACCEPT_TIMEOUT_S = 0.25
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # InvokeEndpoint BodyBlob max, 6291456 bytes
MEGABYTE = 1024 * 1024  # SAGEMAKER_MAX_PAYLOAD_IN_MB counts these (6 MB = MAX_PAYLOAD_BYTES)
ASYNC_MAX_PAYLOAD_BYTES = 1024 * MEGABYTE  # Asynchronous Inference: 1 GB, for bodies over MAX_PAYLOAD_BYTES
MAX_HEADER_VALUE_CHARS = 1024  # Content-Type, Accept, Custom-Attributes
MAX_INFERENCE_ID_CHARS = 64
MODEL_ERROR_STATUS = 424  # InvokeEndpoint's ModelError: the container answered 4xx/5xx (§3.2)
SERVE_STOP_GRACE_S = 30.0  # SIGTERM, then SIGKILL 30 s later (§3.1)
TRAIN_STOP_GRACE_S = 120.0  # docker stop -t 120 (§1.7)
INTERRUPTED_STOP_GRACE_S = 5.0  # imagekit's own: a run stopped by a signal gives its containers at most this long
FAILURE_REASON_MAX_CHARS = 1024  # DescribeTrainingJob.FailureReason (§1.7)
MAX_HYPERPARAMETERS = 100

# How smoke names why /ping fails (imagekit's own windows, not the platform's)
DIAGNOSE_INTERVAL_S = 1.0  # how often sockets and logs are read while /ping is polled
PROGRESS_INTERVAL_S = 10.0  # a plain "still waiting" line this often while /ping is polled (off a TTY)
WORKER_RESTART_LOOP = 2  # worker restarts (e.g. gunicorn WORKER TIMEOUT) before it counts as a loop
START_EXIT_WAIT_S = 5.0  # a container whose port is not published is given this long to be seen exiting

# Registries (`lint --image HOST/REPO:TAG` reads one without an engine)
REGISTRY_TIMEOUT_S = 30.0  # one connect or read of a registry request

# Request/response headers (§3.2, §4)
HEADER_CUSTOM_ATTRIBUTES = "X-Amzn-SageMaker-Custom-Attributes"
HEADER_TARGET_VARIANT = "X-Amzn-SageMaker-Target-Variant"
HEADER_TARGET_MODEL = "X-Amzn-SageMaker-Target-Model"
HEADER_INFERENCE_ID = "X-Amzn-SageMaker-Inference-Id"
HEADER_INVOKED_VARIANT = "x-Amzn-Invoked-Production-Variant"

# --- Capability labels (§3.3, §3.5) ------------------------------------------------------------------
LABEL_BIND_TO_PORT = "com.amazonaws.sagemaker.capabilities.accept-bind-to-port"
LABEL_MULTI_MODELS = "com.amazonaws.sagemaker.capabilities.multi-models"
# Real-time bidirectional streaming (aws-samples/sagemaker-genai-hosting-examples 03-features; corpus).
LABEL_BIDIRECTIONAL_STREAMING = "com.amazonaws.sagemaker.capabilities.bidirectional-streaming"
CAPABILITY_LABELS: tuple[str, ...] = (LABEL_BIND_TO_PORT, LABEL_MULTI_MODELS, LABEL_BIDIRECTIONAL_STREAMING)
CAPABILITY_LABEL_PREFIX = "com.amazonaws.sagemaker.capabilities."
CAPABILITY_TRUE = "true"

# --- Environment the platform sets (§1.6, §3.3, §3.4) ------------------------------------------------
ENV_TRAINING_JOB_NAME = "TRAINING_JOB_NAME"
ENV_TRAINING_JOB_ARN = "TRAINING_JOB_ARN"
ENV_BIND_TO_PORT = "SAGEMAKER_BIND_TO_PORT"
ENV_SAFE_PORT_RANGE = "SAGEMAKER_SAFE_PORT_RANGE"
ENV_BATCH = "SAGEMAKER_BATCH"
ENV_MAX_PAYLOAD_IN_MB = "SAGEMAKER_MAX_PAYLOAD_IN_MB"
ENV_BATCH_STRATEGY = "SAGEMAKER_BATCH_STRATEGY"
ENV_MAX_CONCURRENT_TRANSFORMS = "SAGEMAKER_MAX_CONCURRENT_TRANSFORMS"
ENV_MULTI_MODEL = "SAGEMAKER_MULTI_MODEL"

# --- Toolkit conventions (§2, §3.6) ------------------------------------------------------------------
ENV_PROGRAM = "SAGEMAKER_PROGRAM"
ENV_TRAINING_MODULE = "SAGEMAKER_TRAINING_MODULE"
ENV_SUBMIT_DIRECTORY = "SAGEMAKER_SUBMIT_DIRECTORY"
ENV_MODEL_SERVER_WORKERS = "SAGEMAKER_MODEL_SERVER_WORKERS"
ENV_MODEL_SERVER_TIMEOUT = "SAGEMAKER_MODEL_SERVER_TIMEOUT"
ENV_DEFAULT_INVOCATIONS_ACCEPT = "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT"
ENV_REGION = "SAGEMAKER_REGION"
ENV_JOB_NAME = "SAGEMAKER_JOB_NAME"  # set for the user's process by the training toolkit (§2.4)
ENV_CURRENT_HOST = "CURRENT_HOST"
ENV_PYTHONUNBUFFERED = "PYTHONUNBUFFERED"
HP_PROGRAM = "sagemaker_program"
HP_SUBMIT_DIRECTORY = "sagemaker_submit_directory"
HP_REGION = "sagemaker_region"
HP_JOB_NAME = "sagemaker_job_name"
HP_LOG_LEVEL = "sagemaker_container_log_level"
HP_TUNING_METRIC = "_tuning_objective_metric"  # added by SageMaker to a tuning job's hyperparameters
FRAMEWORK_HP_PREFIX = "sagemaker_"  # hyperparameters split off from the user's args (§2.3)
# The toolkit's own parameters (sagemaker_training params.SAGEMAKER_HYPERPARAMETERS): neither script arguments nor
# SM_FRAMEWORK_PARAMS; any other sagemaker_* key is a framework parameter.
TOOLKIT_HPS: tuple[str, ...] = (HP_PROGRAM, HP_SUBMIT_DIRECTORY, "sagemaker_enable_cloudwatch_metrics", HP_REGION,
                                HP_LOG_LEVEL, HP_JOB_NAME, "default_user_module_name",
                                HP_TUNING_METRIC, "sagemaker_s3_output")
HP_DISTRIBUTION_GROUPS = "sagemaker_distribution_instance_groups"
# Framework parameters that switch on a toolkit distribution (and so the distribution hosts and master)
DISTRIBUTION_HPS: tuple[str, ...] = (
    "sagemaker_mpi_enabled", "sagemaker_parameter_server_enabled", "sagemaker_distributed_dataparallel_enabled",
    "sagemaker_pytorch_ddp_enabled", "sagemaker_pytorch_xla_multi_worker_enabled",
    "sagemaker_multi_worker_mirrored_strategy_enabled", "sagemaker_torch_distributed_enabled")
ENV_AWS_DEFAULT_REGION = "AWS_DEFAULT_REGION"  # where boto3, and so the toolkit, finds the region
REQUIREMENTS_FILE = "requirements.txt"  # beside shipped code: pip-installed before the program starts (§2.2, §3.6)
SETUP_FILE = "setup.py"  # a shipped code dir with one is pip-installed as a package
DEFAULT_HANDLER_MODULE = "inference"  # the inference toolkit's SAGEMAKER_PROGRAM default (inference.py)
DEFAULT_MODEL_NAME = "model"  # the inference toolkit's name for the one model of a single-model endpoint
# PyPI packages whose install puts the mode's program on PATH (the console_scripts of each one's
# entry_points.txt, read from `pip download --no-deps` on 2026-12-07): sagemaker-training's `train` (the framework
# training toolkits depend on it), the deprecated sagemaker-containers' `train` and `serve`, and the framework
# serving containers' `serve`. sagemaker-inference and multi-model-server ship no `serve`.
MODE_PROGRAM_PACKAGES: dict[str, tuple[str, ...]] = {
    TRAIN_COMMAND: ("sagemaker-training", "sagemaker-containers", "sagemaker-pytorch-training",
                    "sagemaker-tensorflow-training", "sagemaker-mxnet-training"),
    SERVE_COMMAND: ("sagemaker-containers", "sagemaker-huggingface-inference-toolkit", "sagemaker-pytorch-inference",
                    "sagemaker-mxnet-inference"),
}
SM_ENV_PREFIX = "SM_"
SM_CHANNEL_PREFIX = "SM_CHANNEL_"
SM_HP_PREFIX = "SM_HP_"
DNS_WAIT_MAX_S = 15 * 60  # the toolkit waits up to 15 min for peers to resolve (§2.1)

# resourceconfig.json defaults (§1.4)
HOST_PREFIX = "algo-"
DEFAULT_NETWORK_INTERFACE = "eth0"
HOMOGENEOUS_GROUP = "homogeneousCluster"
DEFAULT_INSTANCE_TYPE = "local"

# inputdataconfig.json values (§1.5)
INPUT_MODES: tuple[str, ...] = ("File", "FastFile", "Pipe")
S3_DISTRIBUTION_TYPES: tuple[str, ...] = ("FullyReplicated", "ShardedByS3Key")
RECORD_WRAPPER_TYPES: tuple[str, ...] = ("None", "RecordIO")
CHANNEL_NAME_PATTERN = r"[A-Za-z0-9\.\-_]+"  # CreateTrainingJob Channel.ChannelName, matched whole
CHANNEL_NAME_MAX_CHARS = 64

# --- Execution parameters defaults (§3.4) ------------------------------------------------------------
DEFAULT_BATCH_STRATEGY = "MULTI_RECORD"
DEFAULT_MAX_PAYLOAD_IN_MB = 6
DEFAULT_MAX_CONCURRENT_TRANSFORMS = 1

# --- Batch transform jobs (§3.4; CreateTransformJob, ModelClientConfig) --------------------------------
TRANSFORM_MAX_PAYLOAD_IN_MB = 100  # MaxPayloadInMB is 0-100 (0: no limit, for SplitType None)
# MaxConcurrentTransforms * MaxPayloadInMB may not exceed it either (CreateTransformJob MaxPayloadInMB).
TRANSFORM_MAX_CONCURRENT_PAYLOAD_MB = 100
TRANSFORM_INVOCATION_TIMEOUT_S = 600.0  # ModelClientConfig.InvocationsTimeoutInSeconds default
TRANSFORM_INVOCATION_TIMEOUT_MAX_S = 3600.0  # ... and its maximum (1-3600)
TRANSFORM_INVOCATION_TIMEOUT_MIN_S = 1  # ... its minimum: the API takes whole seconds
# ModelClientConfig.InvocationsMaxRetries: 0-3, default 3 (a failed or timed-out request is sent again).
TRANSFORM_INVOCATION_MAX_RETRIES = 3
TRANSFORM_COMPRESSION_TYPES: tuple[str, ...] = ("None", "Gzip")  # TransformInput.CompressionType
TRANSFORM_OUTPUT_SUFFIX = ".out"  # <output>/<input path relative to the input prefix>.out
# BatchStrategy as the API names it -> as SAGEMAKER_BATCH_STRATEGY and /execution-parameters spell it
BATCH_STRATEGY_VALUES: dict[str, str] = {"SingleRecord": "SINGLE_RECORD", "MultiRecord": "MULTI_RECORD"}
BATCH_TRUE = "true"  # SAGEMAKER_BATCH on a transform job's container

# --- Production variant metrics (§4), CloudWatch names --------------------------------------------------
METRIC_INVOCATIONS = "Invocations"
METRIC_4XX = "Invocation4XXErrors"
METRIC_5XX = "Invocation5XXErrors"
METRIC_MODEL_LATENCY = "ModelLatency"
METRIC_OVERHEAD_LATENCY = "OverheadLatency"

# --- Things that must not be in an image (§6 #10) --------------------------------------------------------
NVIDIA_DRIVER_PACKAGE_PREFIXES: tuple[str, ...] = ("nvidia-driver", "libnvidia-compute", "nvidia-kernel",
                                                   "cuda-drivers")
NVIDIA_DRIVER_LIBRARY_PREFIXES: tuple[str, ...] = ("libcuda.so", "libnvidia-ml.so", "libnvidia-ptxjitcompiler.so")

ROOT_USERS: tuple[str, ...] = ("", "root", "0")  # the user part of USER user[:group]; uid 0 is root whatever the group

# --- Where imagekit's generated images keep their own parts (not SageMaker's; ours, fixed) ---------
VENV_DIR = PurePosixPath("/opt/venv")  # the builder's virtualenv, copied whole into the runtime stage
RUNTIME_DIR = PurePosixPath("/opt/imagekit")  # the in-image train/serve runtime (stdlib only)
RUNTIME_CONFIG_FILE = RUNTIME_DIR / "runtime.json"  # what the spec asked train/serve to run
RUNTIME_BIN_DIR = PurePosixPath("/usr/local/bin")  # `train` and `serve` on PATH, as `docker run IMAGE train` needs
DISTRIBUTED_MASTER_PORT = 7777  # torchrun's rendezvous port on algo-1: sagemaker-pytorch-training's MASTER_PORT
# Instance types whose torchrun jobs the toolkit's TorchDistributedRunner puts on EFA (FI_PROVIDER=efa), and those
# where it also turns on EFA's RDMA (sagemaker_training/__init__.py SM_EFA_NCCL_INSTANCES, SM_EFA_RDMA_INSTANCES).
EFA_NCCL_INSTANCE_TYPES: tuple[str, ...] = (
    "ml.g4dn.8xlarge", "ml.g4dn.12xlarge", "ml.g5.48xlarge", "ml.p3dn.24xlarge", "ml.p4d.24xlarge",
    "ml.p4de.24xlarge", "ml.p5.48xlarge", "ml.p5e.48xlarge", "ml.trn1.32xlarge", "ml.p6e-gb200.36xlarge")
EFA_RDMA_INSTANCE_TYPES: tuple[str, ...] = (
    "ml.p4d.24xlarge", "ml.p4de.24xlarge", "ml.p5.48xlarge", "ml.p5e.48xlarge", "ml.trn1.32xlarge",
    "ml.p6e-gb200.36xlarge")
ENV_DIST_BACKEND = "IMAGEKIT_DIST_BACKEND"  # gloo or nccl, exported to a torchrun-launched script


def channel_dir(channel: str) -> PurePosixPath:
    """Where a File-mode channel is mounted."""
    return INPUT_DATA_DIR / channel


def multi_model_dir(name: str) -> PurePosixPath:
    """Where a multi-model endpoint puts a model before POST /models names it (§3.5)."""
    return MULTI_MODEL_DIR / name / "model"


def host_name(index: int) -> str:
    """Platform host names are algo-1..algo-N (local mode adds a suffix; we follow the platform)."""
    return f"{HOST_PREFIX}{index}"


def is_root_user(user: str | None) -> bool:
    """USER root, 0, root:0, 0:wheel...: the uid decides, the group does not."""
    return (user or "").strip().partition(":")[0].strip() in ROOT_USERS


def is_under_mounted_dir(path: str) -> bool:
    """True when *path* is one of the run-time mounts or inside one."""
    p = PurePosixPath(path)
    return any(p == d or d in p.parents for d in MOUNTED_DIRS)


# --- Instance types the smoke runner imitates with CPU/memory limits: (vCPUs, memory GiB, GPUs) ------------
INSTANCE_TYPES: dict[str, tuple[int, int, int]] = {
    "ml.t3.medium": (2, 4, 0), "ml.m5.large": (2, 8, 0), "ml.m5.xlarge": (4, 16, 0), "ml.m5.2xlarge": (8, 32, 0),
    "ml.m5.4xlarge": (16, 64, 0), "ml.c5.large": (2, 4, 0), "ml.c5.xlarge": (4, 8, 0), "ml.c5.2xlarge": (8, 16, 0),
    "ml.c5.4xlarge": (16, 32, 0), "ml.r5.large": (2, 16, 0), "ml.r5.xlarge": (4, 32, 0),
    "ml.g4dn.xlarge": (4, 16, 1), "ml.g4dn.2xlarge": (8, 32, 1), "ml.g5.xlarge": (4, 16, 1),
    "ml.g5.2xlarge": (8, 32, 1), "ml.p3.2xlarge": (8, 61, 1),
}
# NVIDIA GPU instances (AWS's EC2 accelerated-computing tables): smoke requests their GPUs (imagekit/smoke/hardware.py)
INSTANCE_TYPES.update({
    "ml.g4dn.4xlarge": (16, 64, 1), "ml.g4dn.8xlarge": (32, 128, 1), "ml.g4dn.12xlarge": (48, 192, 4),
    "ml.g4dn.16xlarge": (64, 256, 1),
    "ml.g5.4xlarge": (16, 64, 1), "ml.g5.8xlarge": (32, 128, 1), "ml.g5.12xlarge": (48, 192, 4),
    "ml.g5.16xlarge": (64, 256, 1), "ml.g5.24xlarge": (96, 384, 4), "ml.g5.48xlarge": (192, 768, 8),
    "ml.g6.xlarge": (4, 16, 1), "ml.g6.2xlarge": (8, 32, 1), "ml.g6.4xlarge": (16, 64, 1),
    "ml.g6.8xlarge": (32, 128, 1), "ml.g6.12xlarge": (48, 192, 4), "ml.g6.16xlarge": (64, 256, 1),
    "ml.g6.24xlarge": (96, 384, 4), "ml.g6.48xlarge": (192, 768, 8),
    "ml.g6e.xlarge": (4, 32, 1), "ml.g6e.2xlarge": (8, 64, 1), "ml.g6e.4xlarge": (16, 128, 1),
    "ml.g6e.8xlarge": (32, 256, 1), "ml.g6e.12xlarge": (48, 384, 4), "ml.g6e.16xlarge": (64, 512, 1),
    "ml.g6e.24xlarge": (96, 768, 4), "ml.g6e.48xlarge": (192, 1536, 8),
    "ml.p3.8xlarge": (32, 244, 4), "ml.p3.16xlarge": (64, 488, 8), "ml.p3dn.24xlarge": (96, 768, 8),
    "ml.p4d.24xlarge": (96, 1152, 8), "ml.p4de.24xlarge": (96, 1152, 8),
    "ml.p5.4xlarge": (16, 256, 1), "ml.p5.48xlarge": (192, 2048, 8), "ml.p5e.48xlarge": (192, 2048, 8),
    "ml.p5en.48xlarge": (192, 2048, 8),
})
DEFAULT_CONTENT_TYPE = "application/json"
TRAINING_INPUT_MODE_DEFAULT = "File"
S3_DISTRIBUTION_DEFAULT = "FullyReplicated"
RECORD_WRAPPER_DEFAULT = "None"
MODEL_ARCHIVE_NAME = "model.tar.gz"  # what SageMaker uploads model/ as (§1.6)

# --- Labels imagekit's generator writes into every image it builds (OCI image-spec annotations + ours) ----
LABEL_OCI_TITLE = "org.opencontainers.image.title"
LABEL_OCI_SOURCE = "org.opencontainers.image.source"
LABEL_OCI_REVISION = "org.opencontainers.image.revision"
LABEL_OCI_BASE_NAME = "org.opencontainers.image.base.name"
LABEL_SPEC_DIGEST = "io.imagekit.spec.sha256"  # sha256 of the canonical (validated) spec
LABEL_GENERATOR = "io.imagekit.generator"  # "imagekit <version>"


# --- Budgets for untrusted input (docs/limits.md) -------------------------------------------------------
# Linters run in CI on images and Dockerfiles nobody reviewed, and `render` on projects cloned from anywhere, so
# every reader stops at a budget instead of at the machine's memory. Each budget is far above what real inputs
# use (the 422-file corpus tops out at 137 KB, 2,208 lines, 368 instructions, 49 stages, lines of 2,622 and words
# of 303 characters) and, when hit, is one paragraph naming it and exit 2. ARCHIVE_ENTRIES and HEAD_BYTES_TOTAL
# are what keeps an image's index under the 150 MB peak-memory goal. Change a number here and docs/limits.md
# together (a test checks the page lists every name).
class Limits:
    """Namespaced so readers say `Limits.ARCHIVE_ENTRIES`, and docs/limits.md can be checked against one class."""

    # Images: per archive / OCI layout and per image.
    ARCHIVE_ENTRIES = 250_000  # tar members over all layers of one archive (~400 bytes of index each)
    HEAD_BYTES_TOTAL = 16 << 20  # first bytes kept of executables and key-like files (256 each), sshd's config
    SSHD_CONFIG_BYTES = 64 << 10  # one sshd config file kept whole (Debian's is 3 KB); a larger one is not read
    SSHD_INCLUDE_NAMES = 10_000  # names sshd's Include patterns are matched against or name, per image
    IMAGE_LAYERS = 512  # layers listed by one manifest (Docker's own overlay limit is 127 for running)
    LAYER_REPEATS = 4  # how often one manifest may list the same layer blob
    PATH_CHARS = 4096  # one member path (PATH_MAX)
    PATH_DEPTH = 256  # components in one member path
    JSON_BYTES = 4 << 20  # one manifest, index or config document (real ones are kilobytes)
    JSON_TOTAL_BYTES = 8 << 20  # all JSON documents of one archive together (parsed JSON takes ~10x its text)
    JSON_DOCUMENTS = 10_000  # JSON documents kept from one archive
    INDEX_MANIFESTS = 1_000  # entries of one OCI index / manifest.json
    INDEX_NESTING = 8  # indexes inside indexes
    SYMLINK_HOPS = 40  # what Linux allows before ELOOP
    BOMB_FLOOR = 256 << 20  # a compressed layer may always expand to this much...
    BOMB_RATIO = 200  # ...or to this many times its compressed size, whichever is larger
    # Registries (`lint --image HOST/REPO:TAG`): per answer.
    REGISTRY_REDIRECTS = 5  # redirects of one download (blob stores answer with one, to S3 or a CDN)
    REGISTRY_SMALL_BYTES = 64 << 10  # a token or error answer
    # Dockerfiles: per file.
    DOCKERFILE_BYTES = 4 << 20
    DOCKERFILE_WORD_CHARS = 64 << 10  # one unbroken word of an instruction
    DOCKERFILE_INSTRUCTIONS = 20_000
    DOCKERFILE_STAGES = 1_000
    DOCKERFILE_INHERITED_VARIABLES = 1_000_000  # ENV entries copied into stages built FROM another stage
    EXPANSION_CHARS = 16 << 20  # characters variable expansion may produce over a whole file
    EXPANSION_NESTING = 100  # ${A:-${B:-...}} depth
    FINDINGS_PER_FILE = 1_000  # past this, one summary finding replaces the rest
    # Structured documents: specs, lint configs and the JSON documents of images.
    YAML_BYTES = 1 << 20  # imagekit.yaml, .imagekit.yaml, pyproject.toml
    DOCUMENT_DEPTH = 64  # nesting of one YAML, TOML or JSON document
    DOCUMENT_NODES = 100_000  # values of one document, YAML aliases expanded ("billion laughs")
    # Batch transform input (`smoke transform --compression Gzip`): per input file.
    TRANSFORM_GUNZIP_BYTES = 1 << 30  # what one gzipped file may expand to (it is split in memory)

# --- The local endpoint's AWS APIs (imagekit endpoint): InvokeEndpoint, a SageMaker/CloudWatch subset -----------
HEADER_ENABLE_EXPLANATIONS = "X-Amzn-SageMaker-Enable-Explanations"
HEADER_ERROR_TYPE = "x-amzn-ErrorType"  # AWS's error code header (rest-json, JSON protocols)
HEADER_REQUEST_ID = "x-amzn-RequestId"
HEADER_QUERY_ERROR = "x-amzn-query-error"  # CloudWatch (awsQueryCompatible): the query-protocol error code
HEADER_AMZ_TARGET = "X-Amz-Target"  # JSON protocols: Service.Operation
RUNTIME_INVOKE_ROUTE = "/endpoints/{name}/invocations"  # sagemaker-runtime InvokeEndpoint
SAGEMAKER_TARGET_PREFIX = "SageMaker"  # sagemaker (AWS JSON 1.1)
CLOUDWATCH_TARGET_PREFIX = "GraniteServiceVersion20100801"  # CloudWatch (AWS JSON 1.0)
CLOUDWATCH_NAMESPACE = "AWS/SageMaker"
DIMENSION_ENDPOINT = "EndpointName"
DIMENSION_VARIANT = "VariantName"
MAX_NAME_CHARS = 63  # EndpointName, VariantName: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}
MAX_TARGET_MODEL_CHARS = 1024
MAX_ENABLE_EXPLANATIONS_CHARS = 64
ENDPOINT_LOG_GROUP = "/aws/sagemaker/Endpoints/{name}"  # where the platform writes a variant's container log
LOCAL_ENDPOINT_NAME = "imagekit-endpoint"  # the EndpointName when none is given
LOCAL_ACCOUNT_ID = "000000000000"  # the account in the local endpoint's ARNs (no account exists)
LOCAL_DEFAULT_REGION = "us-east-1"  # when the request's SigV4 scope names none
LOCAL_ENDPOINT_UPDATE_S = 1.0  # imagekit's own: Updating lasts this long before new weights apply (InService)
LOCAL_METRIC_SAMPLES = 1_000_000  # per variant, newest kept: what GetMetricData and the rollout alarms can see
LIVE_VIEW_REFRESH_S = 1.0  # the live table's refresh on a TTY (plain lines every PROGRESS_INTERVAL_S otherwise)
ROLLOUT_EVALUATION_S = 0.5  # how often a bake period's alarms are evaluated
CLOUDWATCH_MAX_DATAPOINTS = 1440  # GetMetricStatistics: datapoints one call may ask for
CLOUDWATCH_MAX_METRIC_DATA_QUERIES = 500  # GetMetricData
CLOUDWATCH_MAX_STATISTICS = 5  # GetMetricStatistics: Statistics entries
CLOUDWATCH_MAX_EXTENDED_STATISTICS = 10  # GetMetricStatistics: ExtendedStatistics (percentile) entries
ROLLOUT_CANARY_MAX = 0.5  # deployment guardrails' TrafficRoutingConfig: CanarySize at most half the traffic
ROLLOUT_LINEAR_MIN, ROLLOUT_LINEAR_MAX = 0.1, 0.5  # LinearStepSize: 10-50 % of the traffic per step
ROLLOUT_BAKE_MAX_S = 3600  # WaitIntervalInSeconds' upper bound

# --- MPI and parameter-server distribution (§2.6; sagemaker-training mpi.py, sagemaker-tensorflow-training) -----
DISTRIBUTIONS: tuple[str, ...] = ("none", "torchrun", "mpi", "parameter_server")
HP_MPI_ENABLED = "sagemaker_mpi_enabled"
HP_MPI_PROCESSES_PER_HOST = "sagemaker_mpi_num_of_processes_per_host"
HP_MPI_NUM_PROCESSES = "sagemaker_mpi_num_processes"
HP_MPI_CUSTOM_OPTIONS = "sagemaker_mpi_custom_mpi_options"
HP_PARAMETER_SERVER_ENABLED = "sagemaker_parameter_server_enabled"
HP_TORCH_DISTRIBUTED_ENABLED = "sagemaker_torch_distributed_enabled"
# Settings whose launchers need hardware or libraries only AWS's GPU/Trainium containers have: refused early.
HARDWARE_DISTRIBUTION_HPS: tuple[str, ...] = (
    "sagemaker_distributed_dataparallel_enabled", "sagemaker_pytorch_xla_multi_worker_enabled")
HP_MODEL_PARALLEL = "mp_parameters"  # smdistributed model parallel's hyperparameter (SM_HP_MP_PARAMETERS)
# Debian packages an MPI image needs at run time: mpirun/orted, sshd, ssh and ssh-keygen.
MPI_SYSTEM_PACKAGES: tuple[str, ...] = ("openmpi-bin", "openssh-server", "openssh-client")
SSHD = PurePosixPath("/usr/sbin/sshd")  # the path the toolkit starts (and checks for)
# What that sshd reads (no -f): sshd_config, and on Debian/Ubuntu sshd_config.d/*.conf through its first line,
# `Include /etc/ssh/sshd_config.d/*.conf`. Image lint keeps both whole (IK114 reads PermitRootLogin from them).
SSHD_CONFIG = PurePosixPath("/etc/ssh/sshd_config")
SSHD_CONFIG_DIR = PurePosixPath("/etc/ssh/sshd_config.d")
SSH_PORT = 22
# Where the runtime keeps the job's keys and sshd config: a tmpfs-like run dir, created at start, never in the image.
MPI_RUN_DIR = PurePosixPath("/run/imagekit-mpi")
MPI_KEY_PORT = 2226  # algo-1 hands out the job's public key here, inside the job's private network
# How the failure file names the MPI rank that failed first (smoke reads it back into its report).
MPI_RANK_FAILURE = "MPI rank {rank} on {host} failed ({ended})"
MPI_MASTER_WAIT_S = 60 * 60  # the toolkit's master waits up to 1 h for the workers' sshd
# TF_CONFIG of the TensorFlow toolkit's parameter-server mode: master/worker tasks on 2222, ps tasks on 2223.
TF_CONFIG_ENV = "TF_CONFIG"
TF_WORKER_PORT = 2222
TF_PS_PORT = 2223
# What marks an image as one that runs MPI (lint IK114): Debian/Ubuntu MPI packages (by prefix), Python bindings.
MPI_APT_PREFIXES: tuple[str, ...] = ("openmpi-bin", "libopenmpi", "mpich", "libmpich", "python3-mpi4py",
                                     "python3-horovod")
MPI_PIP_NAMES: tuple[str, ...] = ("horovod", "mpi4py")
MPIRUN_APT_PACKAGES: tuple[str, ...] = ("openmpi-bin", "mpich")
# Debian packages that bring mpirun through their dependencies (bookworm, `apt-get install -s`: python3-mpi4py ->
# mpi-default-bin -> openmpi-bin; libopenmpi-dev -> openmpi-bin; libmpich-dev -> mpich).
MPIRUN_APT_PROVIDERS: tuple[str, ...] = (*MPIRUN_APT_PACKAGES, "mpi-default-bin", "python3-mpi4py", "libopenmpi-dev",
                                         "libmpich-dev")
SSHD_APT_PACKAGE = "openssh-server"
SSH_HOST_KEYS_GLOB = "/etc/ssh/ssh_host_*"  # Debian's openssh-server generates them when it is installed
