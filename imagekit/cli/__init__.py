"""The ``imagekit`` command line: a thin typer layer over the Python API.

Each ``imagekit/cli/<area>.py`` module registers its commands on ``app`` and imports the API it calls
inside the command body, so ``imagekit lint`` never pays for docker, jinja2 or jsonschema imports.
"""

from __future__ import annotations

import sys
import textwrap

import typer

from imagekit import __version__
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
    sys.stderr.write(f"imagekit: error: {text}\n")


# Register the command modules (order is the order of `imagekit --help`, so isort must not sort them).
from imagekit.cli import generate, lint, smoke, setup  # noqa: E402,F401  # isort: skip


def main() -> None:
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
