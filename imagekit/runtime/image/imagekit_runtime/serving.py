"""`serve`: the SageMaker inference HTTP contract on SAGEMAKER_BIND_TO_PORT or 8080, standard library only.

A pre-fork server: the master binds the port and forks SAGEMAKER_MODEL_SERVER_WORKERS workers (default
`serve.workers` from the spec, else one per CPU like the toolkit's model server); each loads the model in the
background and answers /ping with 200 only once it has (with SAGEMAKER_MULTI_MODEL=true: one worker, and the multi-
model API of /models instead of the model in /opt/ml/model). /invocations runs the handler; bodies over
SAGEMAKER_MAX_PAYLOAD_IN_MB (6 MB) get 413 and are never handed to the handler; custom attributes are echoed;
unknown headers are ignored. SIGTERM stops accepting, lets in-flight requests finish and exits well within the
platform's 30 s grace. A worker that cannot load the model stops the container (exit 1) so the failure shows at
once instead of as a ping timeout; a worker that dies once it has loaded (a crash in the user's code, os._exit, a
signal) is replaced.

How a worker ended is never read from its exit status, which the user's code can choose too (os._exit(3)): each
worker publishes its state (loading, ready, could not load) and its requests in flight on a shared-memory board
the master reads after reaping it.
"""

import http.server
import json
import mmap
import os
import signal
import socket
import struct
import sys
import threading
import time
import traceback
import urllib.parse

from imagekit_runtime.config import CONFIG, C, log, usable_cpus
from imagekit_runtime.handlers import Handler, HandlerError, choose_accept, error_answer
from imagekit_runtime.shipped import pip_install

STATE_LOADING, STATE_READY, STATE_LOAD_FAILED = 0, 1, 2  # a worker's state on the board
IDLE_CONNECTION_S = 5.0  # keep-alive connections idle this long are closed, so a drain never waits on them
DRAIN_MARGIN_S = 5.0
DRAIN_LIMIT_FACTOR = 4  # bodies up to 4x the limit are read and dropped so the client gets its 413 cleanly
LOADING = object()  # multi-model mode: a model whose model_fn is still running
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
HEALTHY = b'{\n  "status": "Healthy"\n}\n'


def _env_int(name, default):
    value = os.environ.get(name, "")
    try:
        return int(value) if value.strip() else default
    except ValueError:
        log(f"ignoring {name}={value!r}: not an integer")
        return default


def multi_model_mode():
    """SageMaker sets SAGEMAKER_MULTI_MODEL=true on multi-model endpoints (images with the multi-models label)."""
    return os.environ.get(C["env_multi_model"], "") == C["capability_true"]


class Board:
    """Shared memory, inherited by the forked workers: per slot, a worker's state and its requests in flight.

    Only the worker in a slot writes it (under its lock); the master reads it once that worker has exited.
    """

    SLOT = struct.Struct("=ii")

    def __init__(self, slots):
        self.memory = mmap.mmap(-1, self.SLOT.size * slots)  # anonymous and MAP_SHARED: the children share it

    def write(self, slot, state, in_flight=0):
        self.SLOT.pack_into(self.memory, slot * self.SLOT.size, state, in_flight)

    def read(self, slot):
        return self.SLOT.unpack_from(self.memory, slot * self.SLOT.size)


def execution_parameters(workers):
    """What a batch transform job asks on GET /execution-parameters: the job's settings when it gave them (the
    platform passes them as SAGEMAKER_* variables), else the spec's serve.transform, else MULTI_RECORD, 6 MB and
    one request per worker — no more than keeps requests in flight times MaxPayloadInMB within the job's 100 MB."""
    spec = CONFIG.get("transform") or {}
    strategy = C["batch_strategy_values"].get(spec.get("batch_strategy"), C["batch_strategy"])
    payload = payload_limit_mb()
    per_worker = max(1, min(workers, C["transform_max_concurrent_payload_mb"] // payload)) if payload else workers
    return {
        "MaxConcurrentTransforms": _env_int(C["env_max_concurrent_transforms"],
                                            spec.get("max_concurrent_transforms") or per_worker),
        "BatchStrategy": os.environ.get(C["env_batch_strategy"]) or strategy,
        "MaxPayloadInMB": payload,
    }


def payload_limit_mb():
    """The request body limit in MB: SAGEMAKER_MAX_PAYLOAD_IN_MB, else serve.transform's, else 6 (0: none)."""
    spec = CONFIG.get("transform") or {}
    return _env_int(C["env_max_payload_mb"], spec.get("max_payload_mb", C["max_payload_mb"]))


class Worker:
    """One worker's handler and model(s); *ready* is set once model_fn has returned (or, for MME, once the
    handler is imported: models then come and go through the /models API)."""

    def __init__(self, multi_model=False, board=None, slot=0):
        self.ready = threading.Event()
        self.board, self.slot = board or Board(1), slot
        self.state, self.in_flight = STATE_LOADING, 0
        self.state_lock = threading.Lock()
        self.handler = self.model = self.context = None
        self.stopping = False
        self.multi_model = multi_model
        self.models = {}  # multi-model mode: name -> (url, model, its handler context)
        self.models_lock = threading.Lock()
        self.max_payload = (payload_limit_mb() or C["transform_max_payload_mb"]) * 1024 * 1024  # 0: no limit
        self.default_accept = os.environ.get(C["env_default_accept"]) or C["default_accept"]

    def _publish(self, state=None, busy=0):
        with self.state_lock:
            self.state = self.state if state is None else state
            self.in_flight += busy
            self.board.write(self.slot, self.state, self.in_flight)

    def busy(self, delta):
        """Count a request in (+1) or out (-1), so the master can tell a crash mid-request from one between them."""
        self._publish(busy=delta)

    def load(self):
        try:
            self.handler = Handler(CONFIG.get("handler"))
            started = time.monotonic()
            if not self.multi_model:
                self.model, self.context = self.handler.load(C["model_dir"])
        except BaseException:
            traceback.print_exc()
            log(f"worker {os.getpid()} could not load the model; stopping the container")
            self._publish(STATE_LOAD_FAILED)
            sys.stderr.flush()
            os._exit(1)  # the status is not what tells the master: the board says STATE_LOAD_FAILED
        self._publish(STATE_READY)
        if self.multi_model:
            log(f"multi-model mode: {self.handler.name} imported; models load through POST {C['models_route']}")
        else:
            log(f"worker {os.getpid()} loaded the model with {self.handler.name}.model_fn in "
                f"{time.monotonic() - started:.1f} s")
        self.ready.set()


class RequestHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "imagekit-serve"
    timeout = IDLE_CONNECTION_S

    @property
    def worker(self):
        return self.server.worker

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        if os.environ.get("IMAGEKIT_ACCESS_LOG"):
            super().log_message(format, *args)

    def _answer(self, status, body=b"", content_type="text/plain", extra=()):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        if self.worker.stopping:
            self.close_connection = True
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def _discard(self, length):
        while length > 0:
            chunk = self.rfile.read(min(length, 1 << 16))
            if not chunk:
                break
            length -= len(chunk)

    def _json(self, status, document):
        self._answer(status, json.dumps(document), "application/json")

    def _model_error(self, status, kind, message):
        """A /models API error in the toolkit's model server's shape: {"code", "type", "message"}."""
        self._json(status, {"code": status, "type": kind, "message": message})

    def _not_found(self, name):
        self._model_error(404, "ModelNotFoundException", f"Model not found: {name}")

    def _model_name(self, path, suffix=""):
        """The <name> of /models/<name>[suffix], or None."""
        prefix = C["models_route"] + "/"
        if not (path.startswith(prefix) and path.endswith(suffix)):
            return None
        name = urllib.parse.unquote(path[len(prefix):len(path) - len(suffix)])
        return name if name and "/" not in name else None

    def do_GET(self):
        path = self.path.split("?")[0]
        if self.worker.multi_model and path == C["models_route"]:
            with self.worker.models_lock:
                listed = [{"modelName": n, "modelUrl": u} for n, (u, model, _) in sorted(self.worker.models.items())
                          if model is not LOADING]
            return self._json(200, {"models": listed})
        name = self._model_name(path) if self.worker.multi_model else None
        if name is not None:
            with self.worker.models_lock:
                entry = self.worker.models.get(name)
            if entry is None or entry[1] is LOADING:
                return self._not_found(name)
            return self._json(200, {"modelName": name, "modelUrl": entry[0]})
        if path == C["ping_route"]:
            if self.worker.ready.is_set():  # the toolkit's model server answers with this body
                self._answer(200, HEALTHY, "application/json")
            else:
                self._answer(503, b"loading the model\n")
        elif path == C["execution_parameters_route"]:
            self._answer(200, json.dumps(execution_parameters(self.server.workers)), "application/json")
        else:
            self._answer(404, f"no route {path}\n")

    def do_POST(self):
        self.worker.busy(+1)
        try:
            self._post()
        finally:
            self.worker.busy(-1)

    def _post(self):
        path = self.path.split("?")[0]
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self.close_connection = True
            return self._answer(411, b"send the body with a Content-Length\n")
        if int(length) > self.worker.max_payload:
            message = f"payload of {length} bytes is over the {self.worker.max_payload} byte limit\n"
            if int(length) > DRAIN_LIMIT_FACTOR * self.worker.max_payload:
                self.close_connection = True  # far too big to read: answer and hang up
                return self._answer(413, message, extra=[("Connection", "close")])
            self._discard(int(length))  # a client still sending its body would see a reset, not the 413
            return self._answer(413, message)
        body = self.rfile.read(int(length))
        if not self.worker.ready.wait(timeout=C["invocation_timeout_s"]):  # another worker answered /ping first
            return self._answer(503, b"the model is still loading\n")
        if self.worker.multi_model:
            return self._multi_model_post(path, body)
        if path != C["invocations_route"]:
            return self._answer(404, f"no route {path}\n")
        self._invoke(self.worker.model, body, self.worker.context)

    def do_DELETE(self):
        name = self._model_name(self.path.split("?")[0]) if self.worker.multi_model else None
        if name is None:
            return self._answer(404, f"no route {self.path}\n")
        with self.worker.models_lock:
            entry = self.worker.models.pop(name, None)
        if entry is None:
            return self._not_found(name)
        log(f"unloaded model {name}")
        self._json(200, {"status": f'Model "{name}" unregistered'})  # the toolkit's model server's words

    def _multi_model_post(self, path, body):
        """POST /models loads a model (409 if loaded, 404 if its url is no directory, 507 out of memory);
        POST /models/<name>/invoke runs it. Answers and error shapes are the toolkit's model server's."""
        if path == C["models_route"]:
            try:
                request = json.loads(body)
                name, url = request["model_name"], request["url"]
                if not (isinstance(name, str) and isinstance(url, str)):
                    raise TypeError("model_name and url must be strings")
            except (ValueError, TypeError, KeyError):
                return self._model_error(400, "BadRequestException", 'expected {"model_name": ..., "url": ...}')
            if not os.path.isdir(url):
                return self._model_error(404, "ModelNotFoundException", f"Model not found in model store: {url}")
            with self.worker.models_lock:  # a placeholder claims the name while model_fn runs unlocked
                if name in self.worker.models:
                    return self._model_error(409, "ConflictStatusException", f"Model {name} is already registered.")
                self.worker.models[name] = (url, LOADING, None)
            try:
                model, context = self.worker.handler.load(url, name)
            except BaseException as error:  # the user's model_fn
                with self.worker.models_lock:
                    del self.worker.models[name]
                if isinstance(error, MemoryError):
                    return self._model_error(507, "OutOfMemoryException", f"out of memory loading {name}")
                traceback.print_exc()
                return self._model_error(500, "InternalServerException", f"{type(error).__name__}: {error}")
            with self.worker.models_lock:
                self.worker.models[name] = (url, model, context)
            log(f"loaded model {name} from {url}")
            return self._json(200, {"status": "Workers scaled"})  # the toolkit's model server's words
        name = self._model_name(path, "/invoke")
        if name is None:
            return self._model_error(400, "BadRequestException",
                                     f"no route {path} in multi-model mode: use {C['models_route']}/NAME/invoke")
        with self.worker.models_lock:
            entry = self.worker.models.get(name)
        if entry is None or entry[1] is LOADING:
            return self._not_found(name)
        self._invoke(entry[1], body, entry[2])

    def _invoke(self, model, body, context=None):
        content_type = self.headers.get("Content-Type") or C["default_accept"]
        accept = choose_accept(self.headers.get("Accept"), self.worker.default_accept)
        attributes = self.headers.get(C["header_custom_attributes"])
        extra = [(C["header_custom_attributes"], attributes)] if attributes else []
        try:
            data, kind = self.worker.handler.invoke(model, body, content_type, accept, context)
        except Exception as error:  # ours or the user's code: answer and keep serving, like the toolkit
            status, message = error_answer(error)
            if not isinstance(error, HandlerError):
                traceback.print_exc()
            elif status >= 500:
                log(f"POST {self.path} answered {status}: {message}")
            return self._answer(status, f"{message}\n", extra=extra)
        self._answer(200, data, kind, extra=extra)


class Server(http.server.ThreadingHTTPServer):
    """Serves on a socket the master already bound; request threads are joined on close (the drain)."""

    daemon_threads = False

    def __init__(self, sock, worker, workers):
        super().__init__(sock.getsockname()[:2], RequestHandler, bind_and_activate=False)
        self.socket.close()
        self.socket, self.worker, self.workers = sock, worker, workers


def run_worker(sock, workers, board=None, slot=0):
    worker = Worker(multi_model=multi_model_mode(), board=board, slot=slot)
    server = Server(sock, worker, workers)

    def stop(_signum, _frame):
        worker.stopping = True
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Thread(target=worker.load, daemon=True).start()
    server.serve_forever(poll_interval=0.2)
    server.server_close()  # joins in-flight request threads
    return 0


def _ended(code):
    """How a worker's exit status reads in the log: "exited with code 1", "was killed by SIGKILL"."""
    if code >= 0:
        return f"exited with code {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    return f"was killed by {name}" + (" (out of memory?)" if -code == signal.SIGKILL else "")


def _default_workers():
    """The toolkit's model server: one worker per GPU when there are GPUs (each loads the model onto its own),
    else one per CPU. Eight copies of a model on one GPU would run it out of memory."""
    try:
        gpus = [name for name in os.listdir("/dev") if name.startswith("nvidia") and name[6:].isdigit()]
    except OSError:
        gpus = []
    return len(gpus) or usable_cpus()




def main():
    port = _env_int(C["env_bind_to_port"], C["port"])
    # Like the toolkit's model server: one worker per CPU unless the spec or SAGEMAKER_MODEL_SERVER_WORKERS says.
    workers = max(1, _env_int(C["env_workers"], CONFIG.get("serve_workers") or _default_workers()))
    if multi_model_mode() and workers > 1:
        log(f"multi-model mode: 1 worker instead of {workers}, so every request sees the models loaded")
        workers = 1
    requirements = os.path.join(C["model_code_dir"], C["requirements_file"])
    if not multi_model_mode() and os.path.isfile(requirements):  # shipped in model.tar.gz, installed at start
        try:
            pip_install(C["model_code_dir"], "-r", requirements)
        except RuntimeError as error:
            log(f"{error}; stopping the container")
            return 1
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("0.0.0.0", port))
    except OSError as error:
        log(f"cannot listen on port {port}: {error}")
        return 1
    sock.listen(128)
    # Every worker polls this socket; the ones that lose the race for a connection must get EAGAIN from accept(),
    # not block in it (a worker blocked there never saw SIGTERM's shutdown and held the drain for 25 s).
    sock.setblocking(False)
    log(f"serving on port {port} with {workers} worker(s)")
    board = Board(workers)
    children, free_slots, state = {}, list(range(workers)), {"stopping": False, "failed": False}  # pid -> slot

    def spawn():
        slot = free_slots.pop()
        board.write(slot, STATE_LOADING)
        sys.stdout.flush()
        sys.stderr.flush()
        # A stop signal reaching a new worker before it has its own handler must stop it, not run the master's
        # handler in it (which left it serving until the drain alarm): blocked across fork, default until then.
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        pid = os.fork()
        if pid == 0:
            for signum in STOP_SIGNALS:
                signal.signal(signum, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
            code = 1
            try:
                code = run_worker(sock, workers, board, slot)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        children[pid] = slot  # before unblocking, so a pending stop reaches this worker too
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)

    def shutdown():
        state["stopping"] = True
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        signal.alarm(int(C["serve_stop_grace_s"] - DRAIN_MARGIN_S))

    def stop(signum, _frame):
        if not state["stopping"]:
            log(f"received {signal.Signals(signum).name}; draining in-flight requests")
        shutdown()

    def overdue(_signum, _frame):
        log("workers did not drain in time; killing them")
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGALRM, overdue)
    for _ in range(workers):
        spawn()
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        if pid not in children:
            continue  # an orphan re-parented to us as PID 1: reaped, nothing else to do
        slot = children.pop(pid)
        free_slots.append(slot)
        worker_state, in_flight = board.read(slot)
        if state["stopping"]:
            continue
        ended = _ended(os.waitstatus_to_exitcode(status))
        if worker_state == STATE_LOAD_FAILED:  # the worker logged the traceback and why
            state["failed"] = True
            shutdown()
        elif worker_state == STATE_LOADING:  # died inside model_fn (or a hook) without raising: retrying would loop
            log(f"worker {pid} {ended} while loading the model; stopping the container")
            state["failed"] = True
            shutdown()
        else:
            during = f"during {in_flight} request(s), which got no response" if in_flight else "between requests"
            log(f"worker {pid} {ended} {during}; starting a new worker to replace it")
            spawn()
    sock.close()
    return 1 if state["failed"] else 0
