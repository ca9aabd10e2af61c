"""The only module that talks to the Docker engine.

Everything imagekit creates on the engine (containers, networks, volumes, throwaway images) carries
``OWNER_LABEL`` and a per-run ``RUN_LABEL``, so ``cleanup()`` can always find and remove it, whatever
path (success, failure, timeout, Ctrl-C, a killed process) the run took. ``PID_LABEL`` and ``HOST_LABEL``
name the process that owns it, so a sweep of leftovers never touches a run that is still going.
"""

from __future__ import annotations

import os
import re
import socket
import time
import uuid
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, Iterator

from imagekit import contract, interrupts
from imagekit.errors import EngineUnavailable, ImagekitError
from imagekit.references import IMAGE_REFERENCE

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container
    from docker.models.networks import Network

OWNER_LABEL = "io.imagekit.owner"
OWNER_VALUE = "imagekit"
RUN_LABEL = "io.imagekit.run"
PID_LABEL = "io.imagekit.pid"
HOST_LABEL = "io.imagekit.host"
DEFAULT_SOCKET = "/var/run/docker.sock"
STOP_POLL_S = 0.2  # how often an interrupted run's cleanup looks whether its containers have exited
ENGINE_HINT = ("Start one with `imagekit engine up` (as root on Debian/Ubuntu), "
               "or point DOCKER_HOST at a running engine.")


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


def labels_for(run_id: str, **extra: str) -> dict[str, str]:
    return {OWNER_LABEL: OWNER_VALUE, RUN_LABEL: run_id, PID_LABEL: str(os.getpid()),
            HOST_LABEL: socket.gethostname(), **extra}


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


@lru_cache(maxsize=1)
def connect(timeout: int = 600) -> "docker.DockerClient":
    """A client for the engine at DOCKER_HOST (or the default socket), verified with a ping."""
    import docker
    from docker.errors import DockerException

    where = os.environ.get("DOCKER_HOST") or f"unix://{DEFAULT_SOCKET}"
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except DockerException as error:
        raise EngineUnavailable(f"No Docker engine answers at {where} ({_reason(error)}).", ENGINE_HINT) from None
    return client


def connected() -> bool:
    """Whether this process has already reached the engine (so it may have made something there)."""
    return connect.cache_info().currsize > 0


def available() -> bool:
    try:
        connect()
    except EngineUnavailable:
        connect.cache_clear()
        return False
    return True


def _reason(error: BaseException) -> str:
    """The SDK's connection errors are nested reprs; say the part a user can act on."""
    text = str(error)
    for needle, reason in (
        ("FileNotFoundError", "the socket does not exist"),
        ("ConnectionRefused", "connection refused"),
        ("PermissionError", "permission denied: run as root or join the docker group"),
        ("Timeout", "timed out"),
    ):
        if needle in text:
            return reason
    return text.strip().splitlines()[0][:300] if text.strip() else type(error).__name__


# --- images ---------------------------------------------------------------------------------------


_DIGEST = re.compile(r"@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}")


def check_reference(ref: str) -> str:
    """*ref* if it names an image the engine could hold (a reference, optionally @digest, or an image id);
    else ImagekitError, so a typo is reported as one rather than as the engine's URL error."""
    name, at, digest = ref.partition("@")
    if not IMAGE_REFERENCE.fullmatch(name) or (at and not _DIGEST.fullmatch(at + digest)):
        raise bad_reference(ref)
    return ref


def bad_reference(ref: str) -> ImagekitError:
    """The one paragraph for a reference the engine cannot take, whoever noticed first (we or the engine)."""
    return ImagekitError(f"{ref!r} is not a valid image reference.",
                         "Use lower-case name components, an optional registry and an optional :tag or @digest, "
                         "e.g. registry.example.com/team/iris:1.0 (`docker images` lists what the engine has).")


def inspect_image(ref: str) -> dict[str, Any] | None:
    """The engine's inspect document for *ref*, or None when no such image exists locally."""
    from docker.errors import APIError, ImageNotFound, NotFound

    check_reference(ref)
    try:
        return connect().api.inspect_image(ref)
    except (ImageNotFound, NotFound):
        return None
    except APIError as error:
        if error.status_code == 400:  # "invalid reference format": a rule of the engine's we do not check
            raise bad_reference(ref) from None
        raise


def require_image(ref: str) -> dict[str, Any]:
    info = inspect_image(ref)
    if info is None:
        raise ImagekitError(
            f"Image {ref!r} is not in the Docker engine.",
            "Build it first (`imagekit build`), load it (`docker load -i FILE`), "
            "or check the name with `docker images`.",
        )
    return info


def export_image(ref: str, chunk_size: int = 1 << 20) -> Iterator[bytes]:
    """Stream ``docker save REF`` from the engine in chunks; nothing is written to disk."""
    require_image(ref)
    return connect().api.get_image(ref, chunk_size=chunk_size)


def remove_image(ref: str) -> None:
    from docker.errors import ImageNotFound, NotFound

    try:
        connect().api.remove_image(ref, force=True, noprune=False)
    except (ImageNotFound, NotFound):
        pass


def untag_image(ref: str) -> None:
    """Remove the name *ref* only: never forced, never pruning, so it cannot delete an image or its parents (the
    engine refuses to untag an image's last name while a container uses it)."""
    from docker.errors import ImageNotFound, NotFound

    try:
        connect().api.remove_image(ref, force=False, noprune=True)
    except (ImageNotFound, NotFound):
        pass


def tag_image(image: str, repository: str, tag: str) -> None:
    connect().api.tag(image, repository, tag, force=True)


def push_image(ref: str, auth_config: dict[str, str] | None) -> Iterator[dict[str, Any]]:
    """`docker push REF` as the engine's decoded progress stream; *auth_config* None: the SDK's docker config."""
    repository, _, tag = ref.rpartition(":")
    return connect().api.push(repository, tag=tag, auth_config=auth_config, stream=True, decode=True)


def registry_digest(ref: str, auth_config: dict[str, str] | None) -> str:
    """The digest the registry serves for *ref*'s manifest, asked by the engine (`docker manifest inspect`)."""
    return connect().api.inspect_distribution(ref, auth_config=auth_config)["Descriptor"]["digest"]


BuildProgress = Callable[[str], None]
_STEP = re.compile(r"^Step \d+/\d+ : ")


def build_image(
    context_dir: str,
    tag: str,
    dockerfile: str = "Dockerfile",
    buildargs: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    on_progress: BuildProgress | None = None,
    nocache: bool = False,
) -> str:
    """Build with the classic builder through the SDK, streaming each line to *on_progress*.

    Returns the image id. A failed step raises ImagekitError quoting the step and the engine's message.
    """
    api = connect().api
    step = ""
    tail: list[str] = []
    image_id = ""
    for chunk in api.build(
        path=context_dir, dockerfile=dockerfile, tag=tag, buildargs=buildargs or {}, labels=labels or {},
        rm=True, forcerm=True, decode=True, nocache=nocache,
    ):
        if "stream" in chunk:
            text = chunk["stream"]
            for line in text.splitlines():
                if _STEP.match(line):
                    step = line
                tail = (tail + [line])[-20:]
                if on_progress and line.strip():
                    on_progress(line)
        if "aux" in chunk and "ID" in chunk["aux"]:
            image_id = chunk["aux"]["ID"]
        if "error" in chunk:
            detail = chunk.get("errorDetail", {}).get("message") or chunk["error"]
            log = "\n".join(line for line in tail if line.strip())
            raise ImagekitError(
                f"Build of {tag!r} failed at {step or 'the first step'}: {detail.strip()}",
                f"Last build output:\n{log}" if log else "",
                exit_code=1,
            )
    return image_id or require_image(tag)["Id"]


@lru_cache(maxsize=1)
def buildkit_cli() -> str | None:
    """A docker CLI that really builds with BuildKit under DOCKER_BUILDKIT=1 (has --secret), or None.

    Newer clients without the buildx plugin refuse DOCKER_BUILDKIT=1, so PATH's docker is not enough;
    Debian's /usr/bin/docker (20.10) has BuildKit built in.
    """
    import shutil
    import subprocess

    env = {**os.environ, "DOCKER_BUILDKIT": "1"}
    for candidate in dict.fromkeys(filter(None, (shutil.which("docker"), "/usr/bin/docker"))):
        if not os.access(candidate, os.X_OK):
            continue
        try:
            run = subprocess.run([candidate, "build", "--help"], capture_output=True, text=True, env=env, timeout=15)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if run.returncode == 0 and "--secret" in run.stdout and "buildx component is missing" not in run.stderr:
            return candidate
    return None


# --- containers and networks -----------------------------------------------------------------------


def create_network(run_id: str, name: str, internal: bool = False, pinned: bool = False) -> "Network":
    """A labelled bridge network. *pinned* fixes its subnet (the one the engine's allocator picked), so that
    containers can be given their addresses before any of them starts: see ``peer_addresses``."""
    from docker.errors import APIError
    from docker.types import IPAMConfig, IPAMPool

    client = connect()
    with interrupts.deferred():
        network = client.networks.create(name, driver="bridge", internal=internal, labels=labels_for(run_id))
    if not pinned:
        return network
    for _attempt in range(5):
        pool = network.attrs["IPAM"]["Config"][0]
        ipam = IPAMConfig(pool_configs=[IPAMPool(subnet=pool["Subnet"], gateway=pool.get("Gateway"))])
        with interrupts.deferred():
            network.remove()
            try:
                return client.networks.create(name, driver="bridge", internal=internal, ipam=ipam,
                                              labels=labels_for(run_id))
            except APIError as error:  # another network took the subnet in between: ask for a new one
                if "overlap" not in str(error).lower():
                    raise
                network = client.networks.create(name, driver="bridge", internal=internal, labels=labels_for(run_id))
    raise ImagekitError(f"The engine kept giving network {name}'s subnet to other networks (5 tries).",
                        "Retry; if it persists, `docker network ls` shows what is being created meanwhile.")


def peer_addresses(network: "Network", names: list[str]) -> dict[str, str]:
    """A fixed address on pinned *network* for each of *names*.

    The embedded DNS answers only for containers that have started, so a peer started a moment later is
    `Name or service not known` to the first; containers given these addresses and each other's names as
    ``extra_hosts`` (/etc/hosts) resolve every peer from their first instant, whatever the start order.
    """
    import ipaddress

    pool = network.attrs["IPAM"]["Config"][0]
    free = (str(address) for address in ipaddress.ip_network(pool["Subnet"]).hosts()
            if str(address) != pool.get("Gateway"))
    return dict(zip(names, free, strict=False))  # a subnet holds far more addresses than a job has hosts


def run_container(run_id: str, image: str, command: list[str] | None = None, **kwargs: Any) -> "Container":
    """Start a detached container labelled for *run_id* (kwargs go to ``containers.run``)."""
    labels = labels_for(run_id, **kwargs.pop("labels", {}))
    with interrupts.deferred():
        return connect().containers.run(image, command=command, detach=True, labels=labels, **kwargs)


def create_container(run_id: str, image: str, command: list[str] | None = None, *, network: "Network | None" = None,
                     aliases: list[str] | None = None, address: str | None = None, **kwargs: Any) -> "Container":
    """Create (not start) a labelled container, on *network* under *aliases* (and at *address*, on a pinned
    network) from its creation: set at create time, nothing has to be re-attached before start."""
    labels = labels_for(run_id, **kwargs.pop("labels", {}))
    if network is not None:
        endpoint = connect().api.create_endpoint_config(aliases=aliases, ipv4_address=address)
        kwargs.update(network=network.name, networking_config={network.name: endpoint})
    with interrupts.deferred():
        return connect().containers.create(image, command=command, labels=labels, **kwargs)


class StartRefused(ImagekitError):
    """The OCI runtime could not run the image's command (not found, not executable): the image's fault."""

    def __init__(self, command: str, reason: str) -> None:
        super().__init__(
            f"The container could not start `{command}`: {reason}.",
            f"SageMaker runs `docker run IMAGE {command}`: give the image an exec-form ENTRYPOINT that handles "
            f"`{command}`, or an executable `{command}` on PATH (`imagekit lint --image` proves this without "
            "running it).", exit_code=1)
        self.reason = reason


def start_container(container: "Container", command: str) -> None:
    """Start *container*; raises StartRefused when the runtime cannot exec the image's command."""
    from docker.errors import APIError

    try:
        with interrupts.deferred():
            container.start()
    except APIError as error:
        text = str(error.explanation or error)
        if "OCI runtime" not in text and "container process" not in text:
            raise
        found = re.search(r"(exec: .*?|exec format error|permission denied)(?:: unknown)?[\")]*$", text)
        raise StartRefused(command, found.group(1) if found else text) from None


def run_attached(container: "Container") -> int:
    """Start *container* with this terminal attached (stdin, stdout, stderr; a TTY when it was created with one)
    through the docker CLI, which owns raw mode, window size and signal forwarding; returns its exit code."""
    import shutil
    import subprocess

    cli = shutil.which("docker") or "/usr/bin/docker"
    if not os.access(cli, os.X_OK):
        raise ImagekitError("`imagekit run` attaches the terminal through the docker CLI, and none is installed.",
                            "Install it (Debian: apt-get install docker.io) or use `imagekit smoke`, which needs "
                            "no CLI.")
    # The SDK reads DOCKER_HOST or the default socket; the CLI would follow an active `docker context` instead.
    engine = [] if os.environ.get("DOCKER_HOST") else ["-H", f"unix://{DEFAULT_SOCKET}"]
    return subprocess.run([cli, *engine, "start", "--attach", "--interactive", container.id],
                          check=False).returncode


def owned_objects(run_id: str | None = None, *, this_process: bool = False) -> dict[str, list[Any]]:
    """Containers, networks and volumes imagekit created (for one run, this process's runs, or any run).

    A container another run removes while this one lists them is skipped, not an error (shared engines)."""
    client = connect()
    label = [f"{RUN_LABEL}={run_id}" if run_id else f"{OWNER_LABEL}={OWNER_VALUE}"]
    if this_process:
        label += [f"{PID_LABEL}={os.getpid()}", f"{HOST_LABEL}={socket.gethostname()}"]
    return {
        "containers": client.containers.list(all=True, filters={"label": label}, ignore_removed=True),
        "networks": client.networks.list(filters={"label": label}),
        "volumes": client.volumes.list(filters={"label": label}),
    }


def cleanup(run_id: str, grace: float = 0.0) -> int:
    """Remove what one run left on the engine; returns how many objects were removed.

    A run stopped by a signal first stops its running containers as the platform would: SIGTERM, then up to
    *grace* seconds to exit before they are removed (killed), unless a further signal hurries it. The cleanup
    itself is never cut short by a signal.
    """
    with interrupts.deferred():
        objects = owned_objects(run_id)
        if grace > 0 and interrupts.received() is not None:
            _stop(run_id, objects["containers"], grace)
        return _remove(objects)


def send_signal(container: "Container", name: str) -> None:
    """Signal a container that may have exited an instant ago (the engine answers 409 then: nothing to do)."""
    from docker.errors import APIError

    try:
        container.kill(signal=name)
    except APIError as error:
        if getattr(error, "status_code", None) != 409:
            raise


def _stop(run_id: str, containers: list["Container"], grace: float) -> None:
    running = [container for container in containers if container.status == "running"]
    if not running:
        return
    # docker stop, Kubernetes and systemd send one SIGTERM and SIGKILL a few seconds later: a cleanup still
    # waiting out the platform's 30-120 s grace would be killed before it removes anything.
    grace = min(grace, contract.INTERRUPTED_STOP_GRACE_S)
    interrupts.notice(f"stopping {len(running)} container(s) with SIGTERM, {grace:g} s to exit "
                      "(signal again to kill them now)")
    from docker.errors import APIError

    for container in running:
        try:
            container.kill(signal="SIGTERM")
        except APIError:  # exited meanwhile, or gone: the removal below deals with it either way
            pass
    deadline = time.monotonic() + grace
    still_running = {"label": f"{RUN_LABEL}={run_id}", "status": "running"}
    while time.monotonic() < deadline and not interrupts.hurried() and \
            connect().containers.list(sparse=True, filters=still_running):
        time.sleep(STOP_POLL_S)


def cleanup_this_process() -> int:
    """Remove whatever this process's runs still have on the engine: an interrupted command's last sweep, for an
    object made in the instant between a run's start and the ``finally`` that would have removed it."""
    with interrupts.deferred():
        return _remove(owned_objects(this_process=True))


def cleanup_leftovers() -> tuple[int, dict[str, set[str]]]:
    """Remove what runs whose process is gone left on the engine (`smoke --cleanup`).

    Returns the number removed and, for objects kept, why: runs still in progress on this host (by pid) and
    runs from other hosts sharing the engine, whose processes cannot be checked from here.
    """
    here = socket.gethostname()
    kept: dict[str, set[str]] = {"running": set(), "hosts": set()}

    def owner_gone(obj: Any) -> bool:
        labels = obj.attrs.get("Labels") or obj.attrs.get("Config", {}).get("Labels") or {}
        pid, host = labels.get(PID_LABEL, ""), labels.get(HOST_LABEL)
        if host is not None and host != here:
            kept["hosts"].add(host)
            return False
        if pid.isdigit() and process_alive(int(pid)):
            kept["running"].add(pid)
            return False
        return True  # dead, or made by an imagekit that did not record its process

    objects = owned_objects()
    return _remove({kind: [obj for obj in found if owner_gone(obj)] for kind, found in objects.items()}), kept


def _remove(objects: dict[str, list[Any]]) -> int:
    from docker.errors import APIError, NotFound

    removed = 0
    for kind in ("containers", "networks", "volumes"):  # containers first: they hold the networks and volumes
        for obj in objects[kind]:
            try:
                obj.remove(force=True, v=True) if kind == "containers" else obj.remove()
            except NotFound:
                continue
            except APIError as error:  # another clean-up (a second imagekit, `docker rm`) got there first
                if error.status_code == 409 and "already in progress" in str(error):
                    continue
                raise
            removed += 1
            interrupts.count_removed(kind)
    return removed


def engine_version() -> dict[str, Any]:
    return connect().version()


# --- GPUs: what the engine can hand a container (docker run --gpus) ------------------------------------------
NVIDIA_RUNTIME = "nvidia"  # the runtime `nvidia-ctk runtime configure` registers in daemon.json
NVIDIA_CDI_PREFIX = "nvidia.com/gpu="  # CDI device names nvidia-ctk generates (nvidia.com/gpu=0, ...=all)


def engine_info() -> dict[str, Any]:
    return connect().info()


def nvidia_gpu_devices(info: dict[str, Any]) -> tuple[str, ...] | None:
    """How this engine hands out NVIDIA GPUs: the CDI device names it discovered (Docker 28.2+ lists them in
    `docker info`), () when it has NVIDIA's runtime (devices picked by count), None when it cannot at all."""
    cdi = tuple(device.get("ID", "") for device in info.get("DiscoveredDevices") or []
                if device.get("Source") == "cdi" and device.get("ID", "").startswith(NVIDIA_CDI_PREFIX)
                and not device.get("ID", "").endswith("=all"))
    if cdi:
        return cdi
    return () if NVIDIA_RUNTIME in (info.get("Runtimes") or {}) else None


def engine_is_local() -> bool:
    """Whether the engine runs on this machine (its default socket, or a unix:// DOCKER_HOST), so what this host's
    tools see (nvidia-smi) is what the engine has."""
    return os.environ.get("DOCKER_HOST", "unix://").startswith("unix://")


def local_nvidia_gpus() -> tuple[str, ...] | None:
    """The UUIDs of this machine's NVIDIA GPUs (`nvidia-smi -L`) when the engine is local: what NVIDIA's runtime
    hands out, which `docker info` does not count. None when that cannot be known here."""
    import shutil
    import subprocess

    if not engine_is_local() or not shutil.which("nvidia-smi"):
        return None
    try:
        listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return tuple(re.findall(r"^GPU \d+:.*\(UUID: ([^)]+)\)", listing.stdout, re.MULTILINE))


def gpu_request(devices: tuple[str, ...] | None, cdi: bool = False) -> Any:
    """The device request for these GPUs, by CDI name or (NVIDIA's runtime) by UUID; *devices* None asks for every
    GPU the engine has (`--gpus all`), for when they cannot be counted."""
    from docker.types import DeviceRequest

    if devices is None:
        return DeviceRequest(count=-1, capabilities=[["gpu"]])
    if cdi:
        return DeviceRequest(driver="cdi", device_ids=list(devices))
    return DeviceRequest(device_ids=list(devices), capabilities=[["gpu"]])
