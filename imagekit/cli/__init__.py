"""The ``imagekit`` command line: a thin typer layer over the Python API.

Each ``imagekit/cli/<area>.py`` module registers its commands on ``app`` and imports the API it calls
inside the command body, so ``imagekit lint`` never pays for docker, jinja2 or jsonschema imports.
"""

from __future__ import annotations

import itertools
import signal
import sys
import textwrap

import typer

from imagekit import __version__, interrupts
from imagekit.errors import ImagekitError

app = typer.Typer(
    name="imagekit",
    help="Generate, lint and smoke-test Amazon SageMaker bring-your-own-container images.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"imagekit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Generate, lint and smoke-test Amazon SageMaker bring-your-own-container images."""


def report_error(error: ImagekitError) -> None:
    """One paragraph on stderr: what is wrong, then what to do."""
    text = textwrap.fill(str(error), width=100, break_long_words=False, break_on_hyphens=False)
    sys.stderr.write(f"imagekit: error: {text}\n")


# Register the command modules (order is the order of `imagekit --help`, so isort must not sort them).
from imagekit.cli import generate, lint, smoke, setup  # noqa: E402,F401  # isort: skip


def main() -> None:
    """Run the command; SIGINT, SIGTERM and SIGHUP end it like Ctrl-C, cleaned up, with the shell's exit status."""
    with interrupts.handled():
        try:
            _run()
        except (SystemExit, KeyboardInterrupt):
            if interrupts.received() is None:
                raise
        signum = interrupts.received()
        if signum is not None:  # also when the command caught the interrupt and ended normally (endpoint)
            _finish_interrupted(signum)


def _run() -> None:
    try:
        app(prog_name="imagekit")
    except ImagekitError as error:
        report_error(error)
        sys.exit(error.exit_code)
    except Exception as error:  # the Docker SDK's errors, without importing it on the lint path
        if not type(error).__module__.startswith(("docker.", "requests.", "urllib3.")):
            raise
        report_error(ImagekitError(f"The Docker engine refused the request: {error}.",
                                   "Check `imagekit doctor` and the engine log."))
        sys.exit(2)


def _finish_interrupted(signum: int) -> None:
    """Last sweep for what this process made in the instant before a run's own cleanup could see it, then say
    what was stopped and what was removed, and exit 128 + the signal."""
    if "imagekit.engine" in sys.modules:
        from imagekit import engine
        from imagekit.smoke.common import remove_leftover_workdirs

        if engine.connected():
            engine.cleanup_this_process()
        interrupts.count_removed("work dirs", remove_leftover_workdirs(this_process=True))
    words = list(itertools.takewhile(lambda word: not word.startswith("-"), sys.argv[1:4]))  # command [IMAGE]
    name = signal.Signals(signum).name
    sys.stderr.write(f"imagekit: `{' '.join(['imagekit', *words])}` stopped by {name}; removed "
                     f"{interrupts.summary()}.\n")
    sys.exit(interrupts.exit_status(signum))
