"""`distribution: torchrun`: one torchrun agent per host, algo-1 (the first sorted host) as the master.

nnodes, the node rank and the master address come from resourceconfig.json; the command and the environment
are those of the toolkit's own launcher (sagemaker-pytorch-training with `sagemaker_torch_distributed_enabled`,
its TorchDistributedRunner), so a script written for AWS's PyTorch containers sees the same. Peers can start
seconds apart and their names resolve only once their containers are up, so `train` resolves every host name
with backoff (the toolkit waits up to 15 minutes) before any multi-host program starts.
"""

import importlib.metadata
import os
import socket
import sys
import time

from imagekit_runtime.config import C, log


def wait_for_hosts(hosts, deadline_s):
    """Block until every host name resolves; raise RuntimeError naming the missing ones at the deadline."""
    deadline, delay = time.monotonic() + deadline_s, 0.2
    while True:
        missing = []
        for host in hosts:
            try:
                socket.gethostbyname(host)
            except OSError:
                missing.append(host)
        if not missing:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"hosts {', '.join(missing)} did not resolve within {deadline_s:.0f} s")
        log(f"waiting for {', '.join(missing)} to resolve")
        time.sleep(delay)
        delay = min(delay * 2, 10.0)


def _launcher_environment(env, master):
    """The variables the toolkit's launcher exports before torchrun (NCCL over the platform's interface, EFA on
    the instance types it lists, the master); a value the job's environment already has is kept."""
    instance_type = env["current_instance_type"]
    wanted = {"NCCL_SOCKET_IFNAME": env["network_interface_name"], "NCCL_IB_DISABLE": "1", "NCCL_DEBUG": "WARN",
              "NCCL_PROTO": "simple", "MASTER_ADDR": master, "MASTER_PORT": str(C["master_port"]),
              C["env_dist_backend"]: "nccl" if env["num_gpus"] else "gloo"}
    if instance_type in C["efa_nccl_instance_types"]:
        wanted["FI_PROVIDER"] = "efa"
    if instance_type in C["efa_rdma_instance_types"]:
        wanted.update(FI_EFA_USE_DEVICE_RDMA="1", RDMAV_FORK_SAFE="1")
    try:
        wanted["SM_DLC_TORCH_VERSION"] = importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        pass  # torchrun will say torch is missing
    for name, value in wanted.items():
        os.environ.setdefault(name, value)


def torchrun_command(env, program, args):
    """argv running *program* ([script] or ["-m", module]) under torchrun on this host, as the toolkit's launcher
    does: the distribution's hosts (all of them unless instance groups say otherwise), the master options only
    with more than one host."""
    hosts, current = env["distribution_hosts"] or env["hosts"], env["current_host"]
    if current not in hosts:
        raise RuntimeError(f"current_host {current!r} is not among the hosts {hosts} in resourceconfig.json")
    _launcher_environment(env, hosts[0])
    command = [sys.executable, "-m", "torch.distributed.run", "--nnodes", str(len(hosts)),
               "--nproc_per_node", str(env["num_gpus"] or env["num_neurons"] or 1)]
    if len(hosts) > 1:
        command += ["--master_addr", hosts[0], "--master_port", str(C["master_port"]),
                    "--node_rank", str(hosts.index(current))]
    # stdout is teed with a rank prefix; stderr stays unredirected so `train` sees tracebacks for the
    # failure file. Explicit values also dodge torch 1.13's "0" parsing bug under Python 3.11.
    return [*command, "--redirects=1", "--tee=1", *program, *args]
