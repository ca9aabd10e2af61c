"""What `--instance-type` gives a smoke container: the instance's vCPUs, memory and NVIDIA GPUs, as far as this
engine has them.

On SageMaker a GPU instance always has its GPUs. Here they are requested from the engine by name (what `docker run
--gpus device=...` does) when it has CDI devices, or NVIDIA's runtime and GPUs this machine's nvidia-smi counts; each
training host gets its own while there are enough. Anything less is a degraded run, and the report says so with the
real numbers in a warning check (`train.gpus`, `serve.gpus`): fewer GPUs, hosts sharing them, none at all (the run
goes on on CPU), or GPUs nobody could count (`--gpus all` through a remote engine's runtime). Only a counted full
set passes. vCPUs beyond the engine's are capped at what it has (the engine refuses more), with a warning too; the
container is pinned to that many CPUs so whatever counts them sees the instance's count. Pinned to CPUs the engine
has: they are read from this machine (the cpuset of the cgroup the engine's containers go under, which need not be
0..N-1), and when they cannot be (a remote engine) the container gets the quota alone, and a warning says that
whatever counts CPUs sees the engine's count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from imagekit import contract, engine
from imagekit.errors import ImagekitError
from imagekit.smoke.report import Report


def sagemaker_difference(command: str, gpus: int, gpus_here: int) -> str:
    """What SageMaker's software does with the instance's *gpus* GPUs and what it does with the *gpus_here* this
    container got: the defaults a run on fewer GPUs (or none) gets wrong."""
    if command == contract.TRAIN_COMMAND:
        backend = "NCCL" if gpus_here else "NCCL (here gloo)"
        return (f"SageMaker's training toolkit sets SM_NUM_GPUS={gpus} (here {gpus_here}), torchrun and MPI start "
                f"{gpus} process(es) per host (here {max(gpus_here, 1)}) with {backend}")
    return ("SageMaker's model servers (this image's runtime too, unless serve.workers or "
            f"SAGEMAKER_MODEL_SERVER_WORKERS say otherwise) start one worker per GPU, {gpus} (here "
            f"{gpus_here or 'one per CPU'})")


NVIDIA_SETUP_HINT = ("Run it on a host with an NVIDIA driver and NVIDIA's container toolkit (`nvidia-ctk runtime "
                     "configure --runtime=docker`, or CDI) for a faithful run.")


@dataclass(frozen=True)
class Placement:
    """The `docker create` options an instance type becomes here, and what the report must say about them."""

    instance_type: str
    options: dict[str, Any]  # nano_cpus, cpuset_cpus, mem_limit, device_requests
    gpus: int = 0  # the instance's GPUs on SageMaker
    gpus_here: int | None = 0  # what this container got: 0 none, None all the engine has (count unknown)
    engine_gpus: int | None = None  # the engine's GPUs, when counted
    hosts: int = 1  # training hosts sharing this engine
    cpus: int = 0
    cpus_here: int = 0  # the CPU quota this container got
    cpus_seen: int = 0  # what counts CPUs in it sees (its affinity): cpus_here when pinned, else the engine's


ONLINE_CPUS = Path("/sys/devices/system/cpu/online")
CGROUP_ROOT = Path("/sys/fs/cgroup")


def parse_cpulist(text: str) -> tuple[int, ...]:
    """The CPUs of a kernel cpulist (`0-3,8,10-11`), sorted; ValueError when *text* is not one."""
    cpus: set[int] = set()
    for part in text.strip().split(","):
        if not part:
            continue
        found = re.fullmatch(r"([0-9]+)(?:-([0-9]+))?", part)
        first, last = (int(found[1]), int(found[2] or found[1])) if found else (0, -1)
        if last < first:
            raise ValueError(f"not a cpulist: {text.strip()!r}")
        cpus.update(range(first, last + 1))
    return tuple(sorted(cpus))


def format_cpulist(cpus: tuple[int, ...]) -> str:
    """*cpus* as the cpulist `docker create --cpuset-cpus` takes, runs of CPUs as ranges: (0, 4, 5) -> `0,4-5`."""
    runs: list[list[int]] = []
    for cpu in sorted(cpus):
        if runs and cpu == runs[-1][1] + 1:
            runs[-1][1] = cpu
        else:
            runs.append([cpu, cpu])
    return ",".join(str(first) if first == last else f"{first}-{last}" for first, last in runs)


def engine_cpu_list(info: dict[str, Any]) -> tuple[int, ...] | None:
    """The CPUs this engine's containers may be pinned to, when the engine runs on this machine: the effective
    cpuset of the cgroup its containers go under (`docker` or, with the systemd driver, `system.slice`), else of
    the hierarchy's root, else the CPUs online. None when unknown: a remote engine, nothing readable, or a list
    the engine's own count (NCPU) disagrees with (this machine is not what the engine sees, e.g. a VM's engine)."""
    if not engine.engine_is_local() or info.get("CPUSet") is False:
        return None
    parent = "system.slice" if info.get("CgroupDriver") == "systemd" else "docker"
    if str(info.get("CgroupVersion")) == "2":
        files = [CGROUP_ROOT / parent / "cpuset.cpus.effective", CGROUP_ROOT / "cpuset.cpus.effective"]
    else:
        files = [CGROUP_ROOT / "cpuset" / parent / "cpuset.effective_cpus",
                 CGROUP_ROOT / "cpuset" / "cpuset.effective_cpus"]
    for path in [*files, ONLINE_CPUS]:
        try:
            cpus = parse_cpulist(path.read_text())
        except (OSError, ValueError):
            continue
        if cpus:
            return cpus if len(cpus) == int(info.get("NCPU") or 0) else None
    return None


def place(instance_type: str | None, host: int = 0, hosts: int = 1) -> Placement:
    """The instance's CPU and memory limits and GPU request for training host number *host* (from 0) of *hosts*,
    each with its own GPUs while the engine has enough; ImagekitError (exit 2) for an unknown type."""
    instance_type = instance_type or contract.DEFAULT_INSTANCE_TYPE
    spec = contract.INSTANCE_TYPES.get(instance_type)
    if spec is None:
        if instance_type != contract.DEFAULT_INSTANCE_TYPE:
            raise ImagekitError(f"Unknown instance type {instance_type!r}.",
                                f"Use one of: {', '.join(sorted(contract.INSTANCE_TYPES))} (or omit it).")
        return Placement(instance_type, {})
    cpus, memory_gib, gpus = spec
    info = engine.engine_info()
    engine_cpus = int(info.get("NCPU") or cpus)
    cpus_here = min(cpus, engine_cpus)
    options: dict[str, Any] = {"nano_cpus": cpus_here * 10**9, "mem_limit": f"{memory_gib}g"}
    cpus_seen = engine_cpus
    if cpus_here < engine_cpus:  # a quota alone leaves the affinity mask (what counts CPUs) at the engine's count
        usable = engine_cpu_list(info)
        if usable:
            first = host * cpus_here if cpus_here * hosts <= len(usable) else 0  # each host its own while they fit
            options["cpuset_cpus"] = format_cpulist(usable[first:first + cpus_here])
            cpus_seen = cpus_here
    placement = Placement(instance_type, options, gpus, 0, None, hosts, cpus, cpus_here, cpus_seen)
    devices = engine.nvidia_gpu_devices(info) if gpus else None
    if devices is None:
        return placement
    cdi = bool(devices)
    if not cdi:  # NVIDIA's runtime: `docker info` does not count its GPUs, this machine's nvidia-smi may
        devices = engine.local_nvidia_gpus()
        if devices is None:
            options["device_requests"] = [engine.gpu_request(None)]
            return replace(placement, gpus_here=None)
    if len(devices) >= gpus * hosts:
        mine = devices[host * gpus:(host + 1) * gpus]
    else:  # too few for a set per host: every host gets the first ones, and the report says they share them
        mine = devices[:gpus]
    if mine:
        options["device_requests"] = [engine.gpu_request(mine, cdi)]
    return replace(placement, gpus_here=len(mine), engine_gpus=len(devices))


def check(report: Report, command: str, placement: Placement) -> None:
    """The report's word on what this run got of the instance: `<command>.cpus` when the engine has fewer CPUs,
    `<command>.gpus` for every GPU instance (a warning unless every container got the instance's GPUs, counted)."""
    name, gpus, here = placement.instance_type, placement.gpus, placement.gpus_here
    if placement.cpus_here < placement.cpus:
        report.check(f"{command}.cpus", False,
                     f"{name} has {placement.cpus} vCPUs and this engine {placement.cpus_here}: each container got "
                     f"{placement.cpus_here}, and whatever counts CPUs (workers, data loaders) saw "
                     f"{placement.cpus_seen}.")
    elif placement.cpus_seen != placement.cpus:
        report.check(f"{command}.cpus", False,
                     f"{name} has {placement.cpus} vCPUs: each container got a quota of {placement.cpus_here} of "
                     f"this engine's {placement.cpus_seen}, but was not pinned to {placement.cpus_here} (which CPUs "
                     "the engine has could not be read: it runs elsewhere, or has no cpuset support), so whatever "
                     "counts CPUs (SM_NUM_CPUS, "
                     f"workers per CPU, data loaders) saw {placement.cpus_seen}, not {placement.cpus}.")
    if not gpus:
        return
    if here is None:
        shared = f" and are shared by the {placement.hosts} hosts" if placement.hosts > 1 else ""
        report.check(f"{command}.gpus", False,
                     f"{name} has {gpus} NVIDIA GPU(s) on SageMaker. This engine has NVIDIA's runtime, but how many "
                     "GPUs it has is unknown here (`docker info` does not count them, and this machine's nvidia-smi "
                     "could not: it is missing or failed, or the engine runs elsewhere): each container was given "
                     f"all of them (`--gpus all`), which may be fewer than {gpus}{shared}. Not checked, so not a "
                     "pass: the container's own nvidia-smi says how many it got.")
        return
    if not here:
        report.check(f"{command}.gpus", False,
                     f"{name} has {gpus} NVIDIA GPU(s) on SageMaker, but this engine has none to hand out "
                     "(`docker info` lists no nvidia runtime and no nvidia.com/gpu CDI device, or nvidia-smi lists "
                     "no GPU): this was a degraded run on CPU only, which SageMaker never does. On the instance, "
                     f"{sagemaker_difference(command, gpus, 0)}. {NVIDIA_SETUP_HINT}")
        return
    shortfalls = []
    if here < gpus:
        shortfalls.append(f"{name} has {gpus} NVIDIA GPUs and this engine only {placement.engine_gpus}: each "
                          f"container got {here}. On the instance, {sagemaker_difference(command, gpus, here)}.")
    if placement.hosts > 1 and placement.engine_gpus < gpus * placement.hosts:
        shortfalls.append(f"The {placement.hosts} hosts share the engine's {placement.engine_gpus} GPU(s) (each "
                          f"got the first {here}); on SageMaker each host has its own {gpus}.")
    if shortfalls:
        report.check(f"{command}.gpus", False, " ".join(shortfalls) + " A degraded run.")
    else:
        report.check(f"{command}.gpus", True,
                     f"{gpus} GPU(s) of {name} requested from the engine for each of {placement.hosts} container(s), "
                     f"of the {placement.engine_gpus} it has (docker run --gpus).")
