"""`distribution: torchrun`: one torchrun agent per host, algo-1 (the first sorted host) as the master.

nnodes, the node rank and the master address come from resourceconfig.json. Peers can start seconds apart and
their names resolve only once their containers are up, so `train` resolves every host name with backoff (the
toolkit waits up to 15 minutes) before any multi-host program starts.
"""

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


def torchrun_command(env, program, args):
    """argv running *program* ([script] or ["-m", module]) under torchrun on this host; exports the backend."""
    hosts, current = env["hosts"], env["current_host"]
    if current not in hosts:
        raise RuntimeError(f"current_host {current!r} is not among the hosts {hosts} in resourceconfig.json")
    gpus = env["num_gpus"]
    os.environ[C["env_dist_backend"]] = "nccl" if gpus else "gloo"
    return [sys.executable, "-m", "torch.distributed.run",
            f"--nnodes={len(hosts)}", f"--node_rank={hosts.index(current)}", f"--nproc_per_node={gpus or 1}",
            f"--master_addr={hosts[0]}", f"--master_port={C['master_port']}",
            # stdout is teed with a rank prefix; stderr stays unredirected so `train` sees tracebacks for the
            # failure file. Explicit values also dodge torch 1.13's "0" parsing bug under Python 3.11.
            "--redirects=1", "--tee=1", *program, *args]
