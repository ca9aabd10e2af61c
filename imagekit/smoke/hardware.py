"""What `--instance-type` gives a smoke container: the instance's vCPUs, memory and NVIDIA GPUs, as far as this
engine has them.

On SageMaker a GPU instance always has its GPUs. Here they are requested from the engine (what `docker run --gpus N`
does) when it has NVIDIA's runtime or CDI devices. When it has neither the run goes on without them, on CPU, and the
report says so in a warning check (`train.gpus`, `serve.gpus`), with the GPU-dependent defaults SageMaker would have
used: a run without the instance's GPUs is a degraded run, never a silent stand-in. vCPUs beyond the engine's are
capped at what it has (the engine refuses more), with a warning too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from imagekit import contract, engine
from imagekit.errors import ImagekitError
from imagekit.smoke.report import Report

# What SageMaker's software does with the instance's GPUs, per command: the defaults a CPU-only run gets wrong.
GPU_DEFAULTS = {
    contract.TRAIN_COMMAND: "SageMaker's training toolkit sets SM_NUM_GPUS={gpus} (here 0), torchrun and MPI start "
                            "{gpus} process(es) per host (here 1) with NCCL (here gloo)",
    contract.SERVE_COMMAND: "SageMaker's model servers (this image's runtime too, unless serve.workers or "
                            "SAGEMAKER_MODEL_SERVER_WORKERS say otherwise) start one worker per GPU, {gpus} (here "
                            "one per CPU)",
}
NVIDIA_SETUP_HINT = ("Run it on a host with an NVIDIA driver and NVIDIA's container toolkit (`nvidia-ctk runtime "
                     "configure --runtime=docker`, or CDI) for a faithful run.")


@dataclass(frozen=True)
class Placement:
    """The `docker create` options an instance type becomes here, and what the report must say about them."""

    instance_type: str
    options: dict[str, Any]  # nano_cpus, mem_limit, device_requests
    gpus: int = 0  # the instance's GPUs on SageMaker
    gpus_here: int | None = None  # how many the engine was asked for (None: it cannot hand out GPUs)
    cpus: int = 0
    cpus_here: int = 0


def place(instance_type: str | None) -> Placement:
    """The instance's CPU and memory limits and GPU request; ImagekitError (exit 2) for an unknown type."""
    instance_type = instance_type or contract.DEFAULT_INSTANCE_TYPE
    spec = contract.INSTANCE_TYPES.get(instance_type)
    if spec is None:
        if instance_type != contract.DEFAULT_INSTANCE_TYPE:
            raise ImagekitError(f"Unknown instance type {instance_type!r}.",
                                f"Use one of: {', '.join(sorted(contract.INSTANCE_TYPES))} (or omit it).")
        return Placement(instance_type, {})
    cpus, memory_gib, gpus = spec
    info = engine.engine_info()
    cpus_here = min(cpus, int(info.get("NCPU") or cpus))
    options: dict[str, Any] = {"nano_cpus": cpus_here * 10**9, "mem_limit": f"{memory_gib}g"}
    devices = engine.nvidia_gpu_devices(info) if gpus else None
    gpus_here = None if devices is None else min(gpus, len(devices) or gpus)
    if gpus_here:
        options["device_requests"] = [engine.gpu_request(gpus, devices or ())]
    return Placement(instance_type, options, gpus, gpus_here, cpus, cpus_here)


def check(report: Report, command: str, placement: Placement) -> None:
    """The report's word on what this run got of the instance: `<command>.cpus` when the engine has fewer CPUs,
    `<command>.gpus` for every GPU instance (a warning when the GPUs are missing)."""
    name = placement.instance_type
    if placement.cpus_here < placement.cpus:
        report.check(f"{command}.cpus", False,
                     f"{name} has {placement.cpus} vCPUs and this engine {placement.cpus_here}: each container got "
                     f"{placement.cpus_here}, and whatever counts CPUs (workers, data loaders) saw "
                     f"{placement.cpus_here}.")
    if not placement.gpus:
        return
    defaults = GPU_DEFAULTS[command].format(gpus=placement.gpus)
    if placement.gpus_here is None:
        report.check(f"{command}.gpus", False,
                     f"{name} has {placement.gpus} NVIDIA GPU(s) on SageMaker, but this engine cannot hand out "
                     "GPUs (`docker info` lists no nvidia runtime and no nvidia.com/gpu CDI device): this was a "
                     f"degraded run on CPU only, which SageMaker never does. On the instance, {defaults}. "
                     f"{NVIDIA_SETUP_HINT}")
    elif placement.gpus_here < placement.gpus:
        report.check(f"{command}.gpus", False,
                     f"{name} has {placement.gpus} NVIDIA GPUs and this engine only {placement.gpus_here}: each "
                     f"container got {placement.gpus_here}. On the instance, {defaults}.")
    else:
        report.check(f"{command}.gpus", True, f"{placement.gpus} GPU(s) of {name} requested from the engine "
                                              "(docker run --gpus).")
