"""`imagekit run IMAGE train|serve|shell`: the container a smoke run would start, with this terminal attached.

For debugging a failing image by hand: the same /opt/ml tree, config files, environment and port as
``imagekit smoke`` (built by the same code), a TTY when there is one, and everything removed on exit, Ctrl-C
included.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

from imagekit import contract, engine
from imagekit.errors import ImagekitError
from imagekit.smoke import hardware
from imagekit.smoke.common import environment, finish_run, run_workdir
from imagekit.smoke.layout import unpack_model
from imagekit.smoke.serving import _model_dir
from imagekit.smoke.training import job_channels, training_host

MODES = (contract.TRAIN_COMMAND, contract.SERVE_COMMAND, "shell")
# bash when the image has it, else sh: a shell is for poking around, not part of the contract
SHELL = ["/bin/sh", "-c", "command -v bash >/dev/null 2>&1 && exec bash || exec sh"]


def run(image: str, mode: str, *, data: dict[str, str | Path] | None = None,
        hyperparameters: dict[str, str] | None = None, model: str | Path | None = None,
        env: dict[str, str] | None = None, instance_type: str | None = None, port: int = contract.SERVING_PORT,
        pass_aws_credentials: bool = False) -> int:
    """Run *mode* in *image* attached to this terminal; returns the container's exit code.

    Every mode gets the instance type's limits and GPUs; train and shell get a one-host training job's tree
    (channels from *data*, *hyperparameters*); serve gets *model* read-only at /opt/ml/model, as hosting mounts
    it; serve and shell publish the serving port on 127.0.0.1:*port* (so a server started by hand in the shell
    answers there too).
    """
    if mode not in MODES:
        raise ImagekitError(f"`imagekit run` runs one of {', '.join(MODES)}, not {mode!r}.",
                            f"For example: imagekit run {image} serve --model model.tar.gz")
    channels = job_channels(data, hyperparameters)
    engine.require_image(image)
    if mode != contract.TRAIN_COMMAND:
        _check_port_free(port)
    tty = sys.stdin.isatty() and sys.stdout.isatty()
    run_id = engine.new_run_id()
    work = run_workdir("run")
    try:
        if mode == contract.SERVE_COMMAND:
            options = {"environment": environment({}, env, pass_aws_credentials),
                       "volumes": {str(_model_dir(work, model)): {"bind": str(contract.MODEL_DIR), "mode": "ro"}},
                       **hardware.place(instance_type).options}
        else:
            host = contract.host_name(1)
            options = training_host(run_id, work, host, [host], channels=channels,
                                    hyperparameters=hyperparameters or {}, env=env,
                                    instance_type=instance_type or contract.DEFAULT_INSTANCE_TYPE,
                                    pass_aws_credentials=pass_aws_credentials)
            if model is not None:
                unpack_model(Path(model), work / host / "model")
        if mode != contract.TRAIN_COMMAND:
            options["ports"] = {f"{contract.SERVING_PORT}/tcp": ("127.0.0.1", port)}
        if mode == "shell":
            options["entrypoint"] = SHELL
        command = None if mode == "shell" else [mode]
        container = engine.create_container(run_id, image, command, name=f"imagekit-{run_id}-{mode}", tty=tty,
                                            stdin_open=True, **options)
        sys.stderr.write(_banner(image, mode, work, port, tty))
        sys.stderr.flush()
        return engine.run_attached(container)
    finally:
        finish_run(run_id, work, contract.TRAIN_STOP_GRACE_S if mode == contract.TRAIN_COMMAND else
                   contract.SERVE_STOP_GRACE_S)


def _check_port_free(port: int) -> None:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise ImagekitError(f"Port {port} on 127.0.0.1 is taken, so the container's {contract.SERVING_PORT} "
                                "cannot be published there.", "Pass another one with --port.") from None


def _banner(image: str, mode: str, work: Path, port: int, tty: bool) -> str:
    lines = [f"imagekit run: {image} {mode}, /opt/ml as SageMaker lays it out (host side: {work})"]
    if mode != contract.TRAIN_COMMAND:
        lines.append(f"  http://127.0.0.1:{port}{contract.PING_ROUTE} and {contract.INVOCATIONS_ROUTE} reach the "
                     f"container's port {contract.SERVING_PORT}")
    lines.append("  the container and its files are removed when it exits (Ctrl-C too"
                 + ("; Ctrl-P Ctrl-Q leaves a process that ignores Ctrl-C)" if tty else ")"))
    return "\n".join(lines) + "\n"
