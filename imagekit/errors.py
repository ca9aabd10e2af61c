"""One error type for everything a user can get wrong; the CLI turns it into one paragraph and exit code 2."""

from __future__ import annotations


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
