"""The ``imagekit`` command line: a thin typer layer over the Python API.

Each ``imagekit/cli/<area>.py`` module registers its commands on ``app`` and imports the API it calls
inside the command body, so ``imagekit lint`` never pays for docker, jinja2 or jsonschema imports.
"""

from __future__ import annotations

import errno
import itertools
import os
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
    add_completion=True,
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
    if sys.stderr is not None:  # started with stderr closed: the exit code is all we can give
        try:
            sys.stderr.write(f"imagekit: error: {text}\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass


# Register the command modules (order is the order of `imagekit --help`, so isort must not sort them).
from imagekit.cli import generate, lint, smoke, setup  # noqa: E402,F401  # isort: skip
from imagekit.cli import ship  # noqa: E402,F401  # isort: skip


def main() -> None:
    """Run the command; SIGINT, SIGTERM and SIGHUP end it like Ctrl-C, cleaned up, with the shell's exit status."""
    signum = None
    try:
        with interrupts.handled():
            try:
                _run()
            except (SystemExit, KeyboardInterrupt):
                if interrupts.received() is None:
                    raise
            signum = interrupts.received()
            if signum is not None:  # also when the command caught the interrupt and ended normally (endpoint)
                _finish_interrupted(signum)
    finally:
        if signum is not None:
            interrupts.ignore_late_signals()


def _run() -> None:
    if sys.stdout is None:  # started with stdout closed (`>&-`): say so when a command writes, not a traceback
        sys.stdout = _ClosedOutput()
    for stream in (sys.stdout, sys.stderr):  # file names that are not UTF-8 are still printed, escaped
        if stream is not None and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        app(prog_name="imagekit")
    except ImagekitError as error:
        report_error(error)
        sys.exit(error.exit_code)
    except BrokenPipeError:  # `imagekit lint ... | head`: whoever read the output has gone
        _silence_stdout()
        report_error(ImagekitError("The output pipe closed before imagekit finished writing.",
                                   "Read the whole output, or write it to a file with --output."))
        sys.exit(2)
    except OSError as error:  # the Docker SDK's HTTP errors are OSErrors too (requests): not the OS's doing
        report_error(_engine_error(error) if _from_engine_client(error) else os_error(error))
        sys.exit(2)
    except RecursionError:
        report_error(ImagekitError("The input is nested too deeply to read.", "See docs/limits.md."))
        sys.exit(2)
    except MemoryError:
        report_error(ImagekitError("imagekit ran out of memory reading the input.",
                                   "See docs/limits.md; if the input is genuine, report the case."))
        sys.exit(2)
    except Exception as error:  # the Docker SDK's errors, without importing it on the lint path
        if not _from_engine_client(error):
            raise
        report_error(_engine_error(error))
        sys.exit(2)


def _from_engine_client(error: BaseException) -> bool:
    return type(error).__module__.startswith(("docker.", "requests.", "urllib3."))


def _engine_error(error: BaseException) -> ImagekitError:
    """The engine's own words (an API error's explanation, not the SDK's text with the request URL)."""
    said = getattr(error, "explanation", None) or error
    return ImagekitError(f"The Docker engine refused the request: {said}.",
                         "Check `imagekit doctor` and the engine log.")


def _finish_interrupted(signum: int) -> None:
    """Last sweep for what this process made in the instant before a run's own cleanup could see it, then say
    what was stopped and what was removed, and exit 128 + the signal."""
    if "imagekit.engine" in sys.modules:
        from imagekit import engine
        from imagekit.smoke.common import remove_leftover_workdirs

        try:
            if engine.connected():
                engine.cleanup_this_process()
        except Exception as error:  # noqa: BLE001 - the engine going down too (systemd stopping both)
            interrupts.say(f"imagekit: could not sweep the engine ({error}); run `imagekit smoke --cleanup` "
                           "once it answers again.")
        interrupts.count_removed("work dirs", remove_leftover_workdirs(this_process=True))
    words = list(itertools.takewhile(lambda word: not word.startswith("-"), sys.argv[1:4]))  # command [IMAGE]
    name = signal.Signals(signum).name
    interrupts.say(f"imagekit: `{' '.join(['imagekit', *words])}` stopped by {name}; removed "
                   f"{interrupts.summary()}.")
    sys.exit(interrupts.exit_status(signum))


_OS_HINTS = {
    errno.ENOSPC: "Free some disk space (or point TMPDIR / the output elsewhere) and run it again.",
    errno.EDQUOT: "Free some disk space (or point TMPDIR / the output elsewhere) and run it again.",
    errno.EACCES: "Check the file's permissions and the user imagekit runs as.",
    errno.EPERM: "Check the file's permissions and the user imagekit runs as.",
    errno.ENAMETOOLONG: "Use a shorter path.",
    errno.EROFS: "Write to a writable location instead.",
    errno.ENOENT: "Check the path.",
    errno.EISDIR: "Name a file, not a directory.",
    errno.ENOTDIR: "A part of the path is a file, not a directory; check the path.",
}


def os_error(error: OSError) -> ImagekitError:
    """An operating-system failure nothing more specific caught, as one paragraph naming the file."""
    name = str(error.filename or "")
    where = f" on {name if len(name) <= 200 else name[:100] + '...' + name[-60:]}" if name else ""
    return ImagekitError(f"The operating system refused{where}: {error.strerror or error}.",
                         _OS_HINTS.get(error.errno or 0, "Check the paths and permissions involved."))


class _ClosedOutput:
    """Stands in for a closed stdout: the first write becomes one paragraph and exit 2."""

    def write(self, _text: str) -> int:
        raise ImagekitError("Standard output is closed, so imagekit cannot print its result.",
                            "Run it with an open stdout, or write the report to a file with --output.")

    def flush(self) -> None:
        pass


def _silence_stdout() -> None:
    """Point stdout at /dev/null so Python's own flush at exit does not fail on the closed pipe again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, AttributeError, ValueError):
        pass
