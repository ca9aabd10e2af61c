"""One error type for everything a user can get wrong; the CLI turns it into one paragraph and exit code 2."""

from __future__ import annotations

from pathlib import Path


class ImagekitError(Exception):
    """A problem with the user's input or environment, explained so they can fix it.

    ``message`` says what is wrong and names the file/line or object; ``hint`` says what to do.
    """

    def __init__(self, message: str, hint: str = "", exit_code: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = exit_code

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip() if self.hint else self.message


class EngineUnavailable(ImagekitError):
    """No Docker engine answers; raised by imagekit.engine.connect()."""


def write_report_file(path: Path, text: str, what: str, flag: str) -> None:
    """Write a report to the file the user named, creating its directory (CI jobs often name a fresh reports/
    directory); an OSError becomes one paragraph and exit 2, after the run rather than as a traceback."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", errors="backslashreplace")  # non-UTF-8 file names
    except OSError as error:
        raise ImagekitError(f"Cannot write {what} to {path}: {error.strerror or error}.",
                            f"Check the {flag} path and its permissions.") from None


class LimitExceeded(ImagekitError):
    """An input beyond one of the budgets in ``contract.Limits``: refused whole rather than half-read."""

    def __init__(self, where: str, what: str, limit: str, value: int) -> None:
        super().__init__(f"{where}: {what} is beyond imagekit's limit {limit} = {value:,} (see docs/limits.md); "
                         "refusing the input rather than exhausting memory or time.",
                         "Real images, Dockerfiles and specs stay far below this; if this input is genuine, "
                         "split it up or report the case.")
        self.limit = limit
