"""`distribution: mpi`: sshd on every host, one `mpirun` on algo-1 across all of them, as sagemaker-training's
MPI runner does (MasterRunner / WorkerRunner in sagemaker_training/mpi.py), so Horovod-style scripts written for
AWS's containers run unchanged.

Keys. AWS's framework images bake one SSH keypair into the image and trust it everywhere. Ours carry none:
every host generates its own sshd host key at start, and algo-1 generates the job's user keypair. Nothing is
shared between a job's hosts but their private network, so the public key travels over it: algo-1 serves it
(public half only) on a TCP port, and each worker fetches it from the host named algo-1 and authorizes it only for
connections from algo-1's address. The private key never leaves algo-1, and nothing secret is in the image or
in /opt/ml. The trust anchor is the name algo-1 on the job's network, the same one mpirun and the toolkit already
trust; host keys are accepted on first use within the job (the toolkit's images turn host checking off).

Environment. sshd sessions do not inherit a container's environment, so each host's sshd sets its own
environment (the image's ENV, /opt/ml paths, PYTHONPATH) for the processes mpirun starts there, as the toolkit's
workers do by writing /etc/environment; mpirun then forwards the SM_* variables, PATH and LD_LIBRARY_PATH with
`-x`, with the toolkit's options. A rank's non-zero exit aborts the job (orte_abort_on_non_zero_status); the
failure file names that rank and its host.
"""

import collections
import importlib.util
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import time

from imagekit_runtime.config import C, log

RUN_DIR = C["mpi_run_dir"]
USER_KEY = os.path.join(RUN_DIR, "id_ed25519")
HOST_KEY = os.path.join(RUN_DIR, "ssh_host_ed25519_key")
AUTHORIZED_KEYS = os.path.join(RUN_DIR, "authorized_keys")
SSHD_CONFIG = os.path.join(RUN_DIR, "sshd_config")
SSH_CONFIG = os.path.join(RUN_DIR, "ssh_config")
DONE_FILE = os.path.join(RUN_DIR, "done")  # algo-1 writes mpirun's exit code here on every worker
PUBLIC_KEY = re.compile(r"^ssh-ed25519 [A-Za-z0-9+/]+={0,2}( [\w@.-]+)?$")
TAG = re.compile(r"^\[(\d+),(\d+)\]<(stdout|stderr)>:?")
INNER_TAG = re.compile(r"\[\d+,\d+\]<(?:stdout|stderr)>:?")  # a tag glued to a line that had no newline
# How mpirun names the first rank that failed: a non-zero exit, MPI_Abort (what `python -m mpi4py` calls on an
# uncaught exception), or a signal.
FAILED_RANK = (
    re.compile(r"Process name:\s*\[\[\d+,\d+\],(?P<rank>\d+)\]\s*Exit code:\s*(?P<code>-?\d+)"),
    re.compile(r"MPI_ABORT was invoked on rank (?P<rank>\d+) in communicator \S+\s+with errorcode (?P<code>-?\d+)"),
    re.compile(r"process rank (?P<rank>\d+) with PID \d+ on node \S+ exited on signal (?P<signal>\d+)"),
)
KEPT_OUT_OF_SSHD = {"HOME", "PWD", "OLDPWD", "SHLVL", "_", "TERM"}
TAIL_LINES = 40


class MPISettings:
    """Processes per host, total processes and custom options: hyperparameters first (what an SDK estimator's
    distribution= writes), then the spec, then the toolkit's defaults (one process per GPU, or one)."""

    def __init__(self, env, framework, config):
        default = env["num_gpus"] or env["num_neurons"] or 1
        self.processes_per_host = _count(C["hp_mpi_processes_per_host"], framework.get(C["hp_mpi_processes_per_host"])
                                         or config.get("processes_per_host") or default)
        total = framework.get(C["hp_mpi_num_processes"])
        self.num_processes = _count(C["hp_mpi_num_processes"], total) if total else None
        options = framework.get(C["hp_mpi_custom_options"])
        self.custom_options = str(options if options is not None else config.get("custom_mpi_options") or "")


def _count(name, value):
    """A process count as a positive whole number, or the error every host of the job reports before it starts."""
    try:
        count = int(value)
    except (TypeError, ValueError):
        count = 0
    if count < 1 or isinstance(value, float) and value != count:
        raise RuntimeError(f"{name} must be a positive whole number of processes, not {value!r}")
    return count


def _custom_options(text):
    """The toolkit's parse: --NCCL_DEBUG (default INFO) is its own; every other word goes to mpirun as given."""
    words, nccl_debug, rest = text.split(), "INFO", []
    index = 0
    while index < len(words):
        word = words[index]
        if word == "--NCCL_DEBUG" and index + 1 < len(words):
            nccl_debug, index = words[index + 1], index + 2
            continue
        if word.startswith("--NCCL_DEBUG="):
            nccl_debug = word.split("=", 1)[1]
        else:
            rest.append(word)
        index += 1
    return nccl_debug, rest


def mpirun_command(env, settings, forwarded, program):
    """mpirun's argv on algo-1, option for option the toolkit's MasterRunner._create_command (without its
    gethostname LD_PRELOAD: our containers' host names already are the job's host names)."""
    hosts, interface = env["distribution_hosts"] or env["hosts"], env["network_interface_name"]
    per_host = settings.processes_per_host
    host_list = hosts if per_host == 1 else [f"{host}:{per_host}" for host in hosts]
    nccl_debug, additional = _custom_options(settings.custom_options)
    command = ["mpirun", "--host", ",".join(host_list), "-np", str(settings.num_processes or per_host * len(hosts)),
               "--allow-run-as-root", "--display-map", "--tag-output",
               "-mca", "btl_tcp_if_include", interface, "-mca", "oob_tcp_if_include", interface,
               "-mca", "plm_rsh_no_tree_spawn", "1", "-bind-to", "none", "-map-by", "slot",
               "-mca", "pml", "ob1", "-mca", "btl", "^openib", "-mca", "orte_abort_on_non_zero_status", "1",
               "-mca", "btl_vader_single_copy_mechanism", "none",
               "-x", "NCCL_MIN_NRINGS=4", "-x", f"NCCL_SOCKET_IFNAME={interface}", "-x", f"NCCL_DEBUG={nccl_debug}",
               "-x", "LD_LIBRARY_PATH", "-x", "PATH", *additional]
    instance_type = env["current_instance_type"]
    if instance_type in C["efa_nccl_instance_types"]:
        command += ["-x", "FI_PROVIDER=efa", "-x", "NCCL_PROTO=simple"]
    if instance_type in C["efa_rdma_instance_types"]:
        command += ["-x", "FI_EFA_USE_DEVICE_RDMA=1"]
    for credential in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        if credential in os.environ:
            command += ["-x", credential]
    for name in forwarded:
        command += ["-x", name]
    return command + program


def rank_program(kind, target, args):
    """What each rank runs, as the toolkit's runner builds it: Python under `python -m mpi4py` (so an uncaught
    exception aborts every rank) when mpi4py is there, any other entry point through /bin/sh -c."""
    if kind == "module" or target.endswith(".py"):
        launcher = [sys.executable, "-m", "mpi4py"] if _has_mpi4py() else [sys.executable]
        if launcher == [sys.executable]:
            log("mpi4py is not importable: ranks run plain python (the toolkit runs `python -m mpi4py`)")
        return [*launcher, *(["-m", target] if kind == "module" else [target]), *args]
    return ["/bin/sh", "-c", " ".join([f"./{shlex.quote(target)}", *map(shlex.quote, args)])]


def _has_mpi4py():
    try:
        return importlib.util.find_spec("mpi4py") is not None
    except (ImportError, ValueError):
        return False


# --- keys and sshd -----------------------------------------------------------------------------------------------

def _run_quietly(argv):
    done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(argv)} failed: {done.stdout.strip()}")


def _private_file(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def _setenv_line(environment):
    """One sshd_config SetEnv line (sshd keeps only the first) giving remote ranks this host's environment;
    values sshd cannot quote are left out."""
    words = [f'"{name}={value}"' for name, value in sorted(environment.items())
             if name not in KEPT_OUT_OF_SSHD and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name)
             and not any(character in value for character in '"\\\n')]
    return [f"SetEnv {' '.join(words)}"] if words else []


def start_sshd(environment):
    """A fresh host key, sshd on the job's port with key-only root login and *environment* for its sessions."""
    sshd = C["sshd"]
    if not os.path.exists(sshd):
        raise RuntimeError(f"{sshd} is not in this image; MPI needs openssh-server (apt-get install openssh-server, "
                           "or `distribution: mpi` in imagekit.yaml, which installs it)")
    os.makedirs(RUN_DIR, mode=0o700, exist_ok=True)
    os.chmod(RUN_DIR, 0o700)
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # Debian's sshd privilege-separation directory
    if not os.path.exists(HOST_KEY):
        _run_quietly(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", HOST_KEY])
    if not os.path.exists(AUTHORIZED_KEYS):
        _private_file(AUTHORIZED_KEYS, "")
    config = [f"Port {C['ssh_port']}", f"HostKey {HOST_KEY}", f"AuthorizedKeysFile {AUTHORIZED_KEYS}",
              f"PidFile {os.path.join(RUN_DIR, 'sshd.pid')}", "PermitRootLogin prohibit-password",
              "PubkeyAuthentication yes", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
              "UsePAM no", "StrictModes yes", "AllowAgentForwarding no", "AllowTcpForwarding no",
              "X11Forwarding no", "PermitTunnel no", "MaxStartups 100:30:200", "LogLevel ERROR",
              *_setenv_line(environment)]
    _private_file(SSHD_CONFIG, "\n".join(config) + "\n")
    return subprocess.Popen([sshd, "-D", "-e", "-f", SSHD_CONFIG])


def make_user_key(host):
    """algo-1's keypair for this job and the client config every ssh the launcher runs uses; algo-1 (*host*)
    trusts it too, in case mpirun reaches its own host over ssh."""
    os.makedirs(RUN_DIR, mode=0o700, exist_ok=True)
    if not os.path.exists(USER_KEY):
        _run_quietly(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "imagekit-mpi", "-f", USER_KEY])
    _private_file(SSH_CONFIG, "\n".join([
        "Host *", f"  Port {C['ssh_port']}", "  User root", f"  IdentityFile {USER_KEY}", "  IdentitiesOnly yes",
        f"  UserKnownHostsFile {os.path.join(RUN_DIR, 'known_hosts')}", "  StrictHostKeyChecking accept-new",
        "  BatchMode yes", "  ConnectTimeout 10", "  LogLevel ERROR"]) + "\n")
    with open(USER_KEY + ".pub", encoding="utf-8") as handle:
        public = handle.read().strip()
    authorize(public, ["127.0.0.1", *_addresses(host)])
    return public


def authorize(public_key, addresses):
    """Trust *public_key* for root logins from *addresses* only."""
    if not PUBLIC_KEY.match(public_key):
        raise RuntimeError("the job's public key from the launcher host is not an ssh-ed25519 key")
    restrictions = f'from="{",".join(addresses)}",no-agent-forwarding,no-port-forwarding,no-X11-forwarding'
    with open(AUTHORIZED_KEYS, "a", encoding="utf-8") as handle:
        handle.write(f"{restrictions} {public_key}\n")


def serve_public_key(public_key):
    """Hand the public key to every worker that asks, until the process ends (daemon thread)."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("0.0.0.0", C["mpi_key_port"]))
    server.listen(64)

    def answer():
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            with connection:
                try:
                    connection.sendall(public_key.encode() + b"\n")
                except OSError:
                    pass

    threading.Thread(target=answer, daemon=True).start()
    return server


def fetch_public_key(master, deadline_s):
    """The launcher's public key, from the host named *master*, retried until it answers."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            with socket.create_connection((master, C["mpi_key_port"]), timeout=5) as connection:
                data = connection.makefile("rb").readline(4096)
            return data.decode("ascii", "replace").strip()
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the MPI launcher on {master} did not answer within {deadline_s:.0f} s") \
                    from None
            time.sleep(1)


def _addresses(host):
    try:
        return sorted({info[4][0] for info in socket.getaddrinfo(host, None, socket.AF_INET)})
    except OSError:
        return []


def ssh(host, *command, timeout=30):
    return subprocess.run(["ssh", "-F", SSH_CONFIG, host, *command], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=timeout)


def wait_for_workers(workers, deadline_s):
    """Until each worker's sshd lets the job's key in (the key has reached it), like MasterRunner._wait_for_workers."""
    deadline = time.monotonic() + deadline_s
    for host in workers:
        while True:
            try:
                if ssh(host, "true", timeout=20).returncode == 0:
                    break
            except subprocess.TimeoutExpired:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"MPI worker {host} did not accept SSH logins within {deadline_s:.0f} s")
            time.sleep(1)
        log(f"MPI worker {host} available for communication")


# --- running mpirun and naming the rank that failed ------------------------------------------------------------

class RankLog:
    """mpirun's tagged output, retagged as the toolkit does ([1,mpirank:R,HOST]<stream>), with each rank's last
    stderr lines and mpirun's own tail kept for the failure file."""

    def __init__(self, hosts, processes_per_host):
        self.hosts, self.per_host = hosts, processes_per_host
        self.ranks = collections.defaultdict(lambda: collections.deque(maxlen=TAIL_LINES))
        self.launcher = collections.deque(maxlen=TAIL_LINES)
        self.lock = threading.Lock()

    def host_of(self, rank):
        index = rank // self.per_host
        return self.hosts[index] if index < len(self.hosts) else f"host #{index + 1}"

    def copy(self, stream, sink):
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            tag = TAG.match(line)
            with self.lock:
                if tag:
                    rank = int(tag.group(2))
                    text = INNER_TAG.sub("", line[tag.end():])
                    line = f"[{tag.group(1)},mpirank:{rank},{self.host_of(rank)}]<{tag.group(3)}>:{text}"
                    if tag.group(3) == "stderr":
                        self.ranks[rank].append(text)
                else:
                    self.launcher.append(line)
                sink.write(line + "\n")
                sink.flush()

    def failed_rank(self):
        """(rank, how it ended) of the rank mpirun reported as the first to fail, or None."""
        text = "\n".join(self.launcher)
        for pattern in FAILED_RANK:
            found = pattern.search(text)
            if found:
                ended = f"signal {found['signal']}" if "signal" in pattern.groupindex else f"exit code {found['code']}"
                return int(found["rank"]), ended
        return None

    def failure(self, exit_code, command):
        """The failure file: which rank on which host failed first, its last error line, then its stderr."""
        failed = self.failed_rank()
        if failed:
            rank, ended = failed
            lines = [line for line in self.ranks.get(rank, ()) if line.strip()]
            head = C["mpi_rank_failure"].format(rank=rank, host=self.host_of(rank), ended=ended)
            head += f": {lines[-1].strip()}" if lines else ""
        else:
            lines = [line for line in self.launcher if line.strip() and not set(line.strip()) <= {"-", "="}]
            head = f"mpirun exited with code {exit_code}: {lines[-1].strip() if lines else 'no output'}"
        text = f"{head}\nExitCode {exit_code}\n" + "\n".join(lines[-TAIL_LINES:]) + f"\nCommand {' '.join(command)!r}"
        return text[: C["failure_max_chars"]]


def _sshd_environment(child_env):
    return {name: value for name, value in child_env.items() if not name.startswith("OMPI_")}


def run_master(env, settings, command, child_env, run):
    """algo-1: sshd, the job's key served to workers, wait for their sshd, *command* (mpirun), tell workers it is
    done.

    Returns (exit code, failure text or None). *run* runs (argv, env, RankLog) and returns the exit code.
    """
    hosts = env["distribution_hosts"] or env["hosts"]
    sshd = start_sshd(_sshd_environment(child_env))
    key_server = serve_public_key(make_user_key(env["current_host"]))
    workers = [host for host in hosts if host != env["current_host"]]
    code, stopped = 1, False
    try:
        log(f"waiting for the MPI workers {', '.join(workers) or '(none)'} to accept the job's key")
        wait_for_workers(workers, C["mpi_master_wait_s"])
        ranks = RankLog(hosts, settings.processes_per_host)
        mpirun_env = {**child_env, "OMPI_MCA_plm_rsh_args": f"-F {SSH_CONFIG}"}
        log(f"running {' '.join(command)}")
        code = run(command, mpirun_env, ranks)
        return code, None if code == 0 else ranks.failure(code, command)
    except SystemExit:  # stopped by a signal (StopTrainingJob): the platform stops the workers as well
        stopped = True
        raise
    finally:
        for host in [] if stopped else workers:  # the toolkit's status file, with the outcome in it
            for _ in range(5):
                try:
                    if ssh(host, f"echo {int(code)} > {DONE_FILE}", timeout=20).returncode == 0:
                        break
                except subprocess.TimeoutExpired:
                    pass
                time.sleep(1)
        key_server.close()
        sshd.terminate()


def run_worker(env, child_env):
    """A worker: sshd trusting algo-1's key, then wait until algo-1 says mpirun is done (exit 0, as the toolkit's
    workers do: algo-1 reports the job's outcome) or goes away without saying so (exit 1)."""
    master = env["master_hostname"]
    sshd = start_sshd(_sshd_environment(child_env))
    try:
        key = fetch_public_key(master, C["mpi_master_wait_s"])
        authorize(key, _addresses(master) or [master])
        log(f"trusting the MPI launcher on {master}; waiting for it to finish")
        misses = 0
        while not os.path.exists(DONE_FILE):
            try:
                socket.create_connection((master, C["mpi_key_port"]), timeout=5).close()
                misses = 0
            except OSError:
                misses += 1
                if misses >= 5:
                    return 1, f"the MPI launcher on {master} went away before telling {env['current_host']} " \
                              "that mpirun had finished (see its failure reason)"
            time.sleep(1)
        with open(DONE_FILE, encoding="utf-8") as handle:
            outcome = handle.read().strip()
        log(f"the MPI launcher on {master} finished (mpirun exit code {outcome or '?'})")
        return 0, None
    finally:
        sshd.terminate()


def require_tools():
    """mpirun, ssh and ssh-keygen on PATH (sshd is checked where it starts)."""
    missing = [tool for tool in ("mpirun", "ssh", "ssh-keygen") if shutil.which(tool) is None]
    if missing:
        raise RuntimeError(f"{', '.join(missing)} not found in this image; MPI needs openmpi-bin and openssh-client "
                           "(`distribution: mpi` in imagekit.yaml installs them)")
