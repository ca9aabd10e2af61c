"""Why a serve container is not answering /ping, or why it died: named from what can be seen, not guessed.

While /ping is polled, the container's listening TCP sockets are read from ``/proc/<pid>/net/tcp{,6}`` of its
main process on the host (all its processes share one network namespace; this needs nothing in the image), or,
when the engine's processes are not visible from here (a remote engine or a VM), with ``cat`` inside the
container; when neither works the diagnosis goes on without sockets. Its log is scanned for worker restarts.
What is found is only ever the *likely* cause: SageMaker polls /ping for the whole start-up window while the
process lives, and a server may bind a side port, answer errors or log a handled exception while it loads and
still get ready in time. So a look never ends the wait; it is shown while waiting and named if the wait fails.
"""

from __future__ import annotations

import io
import ipaddress
import re
import tarfile
import time
from dataclasses import dataclass
from pathlib import PurePosixPath

from imagekit import contract
from imagekit.smoke.common import log_tail
from imagekit.smoke.exit_causes import config_cause

LISTEN_STATE = "0A"  # TCP_LISTEN in /proc/net/tcp
# Log lines of a worker that was killed or died and is being replaced (gunicorn, uvicorn, the imagekit runtime).
WORKER_RESTART = re.compile(r"WORKER TIMEOUT|Worker \(pid:\d+\) was sent SIG|Worker failed to boot|"
                            r"worker \d+ exited with code|Child process \[\d+\] died")
# The last line of a Python traceback or an R error: the cause a user looks for in a log.
ERROR_LINE = re.compile(r"^(?:[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)\b.*|Error(?: in .*)?:.*|"
                        r".*: (?:not found|No such file or directory|Permission denied)\s*)$")
# /ping statuses that mean "not yet" rather than "broken": keep waiting.
NOT_YET = frozenset({429, 502, 503, 504})
LOG_SCAN_LINES = 500  # how much of the log is searched for restarts and errors


@dataclass(frozen=True)
class Listener:
    address: str
    port: int

    @property
    def loopback(self) -> bool:
        return ipaddress.ip_address(self.address).is_loopback

    def __str__(self) -> str:
        return f"[{self.address}]:{self.port}" if ":" in self.address else f"{self.address}:{self.port}"


def _address(hex_address: str) -> str:
    """/proc/net/tcp writes addresses as host-order 32-bit words in hex."""
    raw = bytes.fromhex(hex_address)
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    address = ipaddress.ip_address(words)
    return str(getattr(address, "ipv4_mapped", None) or address)  # a tcp6 socket on an IPv4 address, as IPv4


def parse_proc_net_tcp(text: str) -> set[Listener]:
    """The listening sockets in the text of /proc/net/tcp and /proc/net/tcp6 (headers skipped)."""
    found = set()
    for line in text.splitlines():
        fields = line.split()
        if len(fields) > 3 and fields[3] == LISTEN_STATE and ":" in fields[1]:
            address, _, port = fields[1].partition(":")
            try:
                found.add(Listener(_address(address), int(port, 16)))
            except ValueError:
                continue
    return found


def listening_sockets(container) -> set[Listener] | None:
    """The container's listening TCP sockets, or None when they cannot be read (no fallback worked)."""
    pid = (container.attrs.get("State") or {}).get("Pid") or 0
    if pid:
        try:
            cgroup = open(f"/proc/{pid}/cgroup", encoding="utf-8").read()
            if container.id in cgroup:  # that pid is the container's, not some process of another machine's
                return parse_proc_net_tcp("".join(open(f"/proc/{pid}/net/{name}", encoding="utf-8").read()
                                                  for name in ("tcp", "tcp6")))
        except OSError:
            pass
    try:
        code, output = container.exec_run(["cat", "/proc/net/tcp", "/proc/net/tcp6"], demux=False)
    except Exception:  # noqa: BLE001 - the engine refuses exec for many reasons (stopped, no cat): no sockets then
        return None
    return parse_proc_net_tcp(output.decode("utf-8", "replace")) if code in (0, 1) and output else None


def worker_restarts(logs: str) -> list[str]:
    return [line.strip() for line in logs.splitlines() if WORKER_RESTART.search(line)]


HTML_TITLE = re.compile(rb"<title>(.*?)</title>", re.IGNORECASE | re.DOTALL)
SNIPPET_CHARS = 120


def snippet(body: bytes) -> str:
    """A response body in a few words: an HTML error page by its title, anything else whitespace-collapsed."""
    title = HTML_TITLE.search(body[:4096])
    text = " ".join((title.group(1) if title else body[:1000]).decode("utf-8", "replace").split())
    return text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS - 3] + "..."


def recent_log(container) -> str:
    return container.logs(tail=LOG_SCAN_LINES).decode("utf-8", "replace")


def error_line(logs: str) -> str | None:
    """The last line of the log that reads like an error (a traceback's last line, an R `Error in`)."""
    for line in reversed(logs.splitlines()):
        if ERROR_LINE.match(line.strip()):
            return line.strip()
    return None


NGINX_DEFAULT_CONFIG = "/etc/nginx/nginx.conf"
NGINX_BODY_CAP = re.compile(rb"^\s*client_max_body_size\s+([^;\s]+)\s*;", re.MULTILINE)


def body_cap(container, answer: bytes) -> str:
    """Who refused a body with 413, when it can be seen: nginx's client_max_body_size from the config file its
    running process was started with (read through the engine), or the server named in the answer."""
    configs = []
    try:
        processes = container.top().get("Processes") or []
    except Exception:  # noqa: BLE001 - a container that is gone has no processes to read
        processes = []
    for row in processes:
        argv = (row[-1] if row else "").split()  # "nginx: master process nginx -c X"; workers name no config
        if argv and PurePosixPath(argv[0].rstrip(":")).name == "nginx" and "worker" not in argv:
            configs.append(argv[argv.index("-c") + 1] if "-c" in argv[:-1] else NGINX_DEFAULT_CONFIG)
    found = NGINX_BODY_CAP.search(read_file(container, configs[0]) or b"") if configs else None
    if found:
        return f" (nginx's `client_max_body_size {found.group(1).decode()}` in {configs[0]})"
    return " (nginx's `client_max_body_size`, 1m unless set)" if configs or b"nginx" in answer else ""


@dataclass
class Observation:
    """What one look at a running, not-yet-ready container found: a likely cause, or None (still loading)."""

    cause: str | None  # the full paragraph, named if the wait fails
    summary: str  # one line for the progress indicator (the short cause first when there is one)
    kind: str = "loading"  # what sort of cause


def observe(container, port: int, ping: str, ping_status: int | None, ping_body: bytes, logs: str,
            ping_timed_out: bool = False) -> Observation:
    """Name a likely reason /ping is not 200 from sockets, the last /ping outcome and the log, or say it is still
    loading. *ping_timed_out*: the last /ping was accepted but not answered in time (not refused or hung up on)."""
    listeners = listening_sockets(container)
    seen = f"{ping}; listening: {', '.join(sorted(map(str, listeners))) or 'nothing'}" if listeners is not None \
        else ping

    def likely(short: str, cause: str, kind: str) -> Observation:
        return Observation(cause, f"likely cause: {short}; {seen}", kind)

    restarts = worker_restarts(logs)
    if len(restarts) >= contract.WORKER_RESTART_LOOP:
        return likely(f"workers restarting ({len(restarts)})",
                      f"its workers are restarting in a loop ({len(restarts)} restarts so far, last: "
                      f"{restarts[-1]!r}). A worker killed by the server's own timeout (gunicorn --timeout / "
                      "MODEL_SERVER_TIMEOUT) while loading the model never gets ready: load the model faster, or "
                      "raise that timeout above the load time.", "restarts")
    on_port = {s for s in listeners or () if s.port == port}
    reachable = {s for s in on_port if not s.loopback}
    if on_port and not reachable:
        return likely(f"port {port} bound to loopback only",
                      f"it listens on {', '.join(sorted(map(str, on_port)))} only, the loopback interface: "
                      "SageMaker connects from outside the container and gets no answer. Bind 0.0.0.0 "
                      f"(e.g. nginx `listen {port};`, gunicorn `-b 0.0.0.0:{port}`, flask/uvicorn "
                      f"`host='0.0.0.0'`).", "loopback")
    if reachable and ping_status is None and not ping_timed_out and all(":" in s.address for s in reachable):
        return likely(f"port {port} on IPv6 only",
                      f"it listens on {', '.join(sorted(map(str, reachable)))} only, an IPv6 socket, and /ping over "
                      "IPv4 gets no answer: it listens on IPv6 only (IPV6_V6ONLY, or net.ipv6.bindv6only), and "
                      "SageMaker connects over IPv4. Bind 0.0.0.0, or a dual-stack socket (`::` without "
                      f"IPV6_V6ONLY; e.g. gunicorn `-b 0.0.0.0:{port}`, nginx `listen {port};`).", "ipv6-only")
    # Only reachable ones: a backend on 127.0.0.1 (gunicorn behind nginx) may well be up before the front is.
    others = sorted({s.port for s in listeners or () if s.port != port and not s.loopback})
    if listeners is not None and not on_port and others:
        told = f"{contract.ENV_BIND_TO_PORT}={port}" if port != contract.SERVING_PORT else \
            f"{contract.SERVING_PORT} (or {contract.ENV_BIND_TO_PORT} when the image has the bind-to-port label)"
        ports = ", ".join(map(str, others))
        return likely(f"listening on {ports}, not {port}",
                      f"nothing listens on port {port}, but it listens on {ports}. SageMaker sends /ping and "
                      f"/invocations to port {told}: serve there (a side port such as a metrics or rendezvous "
                      f"port is fine, as long as port {port} answers within the window).", "other-port")
    if ping_status is not None and ping_status not in NOT_YET:
        body = snippet(ping_body)
        found = error_line(logs)
        return likely(f"/ping answers {ping_status}" + (f", the log says: {found[:SNIPPET_CHARS]}" if found else ""),
                      f"/ping answers {ping_status}" + (f" ({body!r})" if body else "") +
                      (f"; the log says: {found}" if found else "") +
                      ". SageMaker needs 200 from /ping (often a model that failed to load: check "
                      f"{contract.MODEL_DIR}).", f"ping-{ping_status}")
    return Observation(None, seen)


def slow_ping(tries: int, answered_after: float) -> str:
    """The last *tries* /pings of the window timed out, and one given longer answered 200 *answered_after* s:
    the server is up, /ping is too slow."""
    limit = contract.PING_TIMEOUT_S
    return (f"/ping takes longer than SageMaker's {limit:g} s per-check timeout: the last {tries} tries each timed "
            f"out after {limit:g} s, and one given longer answered 200 after {answered_after:g} s. A longer "
            "start-up window would not help: make /ping cheap (answer from a flag set once the model is loaded; do "
            "not run the model in it, and do not let it queue behind long requests on a single worker).")


def still_loading(elapsed: float, window: float, last: Observation) -> str:
    platform = contract.STARTUP_HEALTH_TIMEOUT_S
    setting = f"{contract.STARTUP_HEALTH_SETTING} (up to {contract.STARTUP_HEALTH_TIMEOUT_MAX_S:g} s)"
    beyond = f" SageMaker waits {platform:g} s by default; {setting} extends that." if window < platform else \
        f" That is SageMaker's window too ({setting} extends it)."
    return (f"still loading after {elapsed:.0f} s ({last.summary}): no cause found, and /ping never answered 200 "
            f"within the {window:g} s window.{beyond}")


# --- a container that exited -------------------------------------------------------------------------------------


def command_problem(found: "CommandFile | None") -> str | None:
    """What is wrong with the command file itself (CRLF line endings, no execute bit), if anything."""
    if found and found.crlf:
        return (f"{found.path} has Windows (CRLF) line endings, so its `#!` line names an interpreter ending in a "
                "carriage return, which does not exist. Convert it to LF (`dos2unix`, or `sed -i 's/\\r$//'` in "
                "the Dockerfile).")
    if found and not found.executable:
        return f"{found.path} is not executable (mode {found.mode:o}): `chmod +x` it in the Dockerfile."
    return None


def exit_cause(code: int, oom_killed: bool, logs: str, found: "CommandFile | None") -> str:
    """Why a container exited, from its exit code, its log and the command file in the image."""
    problem = command_problem(found)
    if problem:
        return problem
    if "\r" in logs and code in (126, 127):
        return "a script has Windows (CRLF) line endings (the log names a command ending in \\r): convert it to LF."
    if oom_killed:
        return "the kernel killed it for running out of memory (OOMKilled)."
    reasons = {126: "a command it runs is not executable (permission denied)",
               127: "a command it runs was not found (a missing program, or a #! interpreter that does not exist)",
               137: "it was killed (SIGKILL)", 139: "it crashed (segmentation fault)"}
    found = error_line(logs)
    reason = reasons.get(code, "its program failed")
    return reason + (f"; the log says: {found}" if found else ".")


@dataclass(frozen=True)
class CommandFile:
    path: str
    mode: int
    crlf: bool

    @property
    def executable(self) -> bool:
        return bool(self.mode & 0o111)


def read_file(container, path: str, limit: int = 1 << 16) -> bytes | None:
    """The first *limit* bytes of a regular file in the container (running or not), or None."""
    found = _archived(container, path, limit)
    return found[1] if found else None


def _archived(container, path: str, limit: int) -> tuple[tarfile.TarInfo, bytes] | None:
    try:
        stream, _ = container.get_archive(path)
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as archive:
            member = archive.next()
            if member is None or not member.isfile():
                return None
            return member, archive.extractfile(member).read(limit)
    except Exception:  # noqa: BLE001 - NotFound, or a path the engine cannot read
        return None


def config_env(config: dict) -> dict[str, str]:
    """An image's or container's Config.Env ("K=V" strings) as a dict."""
    return dict(item.partition("=")[::2] for item in config.get("Env") or [])


def command_file(container, command: str) -> CommandFile | None:
    """The file the container runs first (ENTRYPOINT's program, else *command* looked up on PATH), read from the
    container's filesystem through the engine, so nothing is needed in the image."""
    config = container.attrs.get("Config") or {}
    program = (config.get("Entrypoint") or [command])[0]
    env = config_env(config)
    candidates = [program] if program.startswith("/") else \
        [str(PurePosixPath(d) / program) for d in env.get("PATH", "/usr/local/bin:/usr/bin:/bin").split(":") if d]
    for path in candidates:
        found = _archived(container, path, 4096)
        if found:
            member, head = found
            crlf = head.startswith(b"#!") and head.split(b"\n", 1)[0].endswith(b"\r")
            return CommandFile(path, member.mode & 0o7777, crlf)
    return None


EXIT_SETTLE_S = 1.0  # after a request was hung up on, how long a dying server may take to be seen as exited


def exit_code(container, settle: float = 0.0) -> int | None:
    """The exit code of a container that has exited (state reloaded from the engine), None while it runs.
    *settle*: keep looking that long (a process that just hung up on a request may still be going down)."""
    deadline = time.monotonic() + settle
    while True:
        container.reload()
        if container.status in ("exited", "dead"):
            return (container.attrs.get("State") or {}).get("ExitCode")
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.1)


def exit_reason(container, command: str) -> str:
    """Why a container that has exited did: from its config, exit code, OOM flag, log and command file."""
    state = container.attrs.get("State") or {}
    code = state.get("ExitCode")
    return config_cause(container, command, code) or \
        exit_cause(code, bool(state.get("OOMKilled")), recent_log(container), command_file(container, command))


def exited(container, command: str, seen: str | None = None, when: str = "before /ping answered 200") -> str:
    """Exit code, cause and log tail of a container that has exited *when*; *seen*: the likely cause observed while
    it ran, if any."""
    code = (container.attrs.get("State") or {}).get("ExitCode")
    before = f" While it ran, smoke saw: {seen}" if seen else ""
    return f"`{command}` exited with code {code} {when}: {exit_reason(container, command)}{before} Log tail:\n" \
        f"{log_tail(container)}"
