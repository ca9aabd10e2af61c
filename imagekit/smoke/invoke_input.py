"""What smoke sends to /invocations: refused up front when InvokeEndpoint itself would refuse it (so a request the
platform never delivers is not reported as working), and what an answer to imagekit's own guessed body proves."""

from __future__ import annotations

from pathlib import Path

from imagekit import contract
from imagekit.errors import ImagekitError

# The answers a handler gives a body or type it does not take: to imagekit's guessed probe that is no failure.
PROBE_REFUSED = frozenset({400, 406, 415, 422})
PROBE_CHECK = "serve.probe"  # a warning (smoke.report.WARNING_CHECKS)


def check_request_options(payloads: list[str | Path] | None, content_type: str | None, accept: str | None) -> None:
    """--payload sizes and the --content-type/--accept values, refused (exit 2) before any container starts."""
    for flag, value in (("--content-type", content_type), ("--accept", accept)):
        if value:
            _check_header_value(flag, value)
    for path in payloads or []:
        size = Path(path).stat().st_size
        if size > contract.MAX_PAYLOAD_BYTES:
            raise ImagekitError(
                f"--payload {path} is {size:,} bytes, over InvokeEndpoint's limit of {contract.MAX_PAYLOAD_BYTES:,} "
                f"bytes ({contract.MAX_PAYLOAD_BYTES / contract.MEGABYTE:g} MB): SageMaker refuses such a request "
                "before it reaches the container, so it cannot be smoke-tested as one.",
                "Send a smaller request, or use Asynchronous Inference (bodies up to "
                f"{contract.ASYNC_MAX_PAYLOAD_BYTES / contract.MEGABYTE / 1024:g} GB) or Batch Transform for large "
                "inputs.")


def _check_header_value(flag: str, value: str) -> None:
    """InvokeEndpoint takes printable ASCII up to MAX_HEADER_VALUE_CHARS; a CR/LF would also split the header."""
    limit = contract.MAX_HEADER_VALUE_CHARS
    bad = next(((index, char) for index, char in enumerate(value) if not " " <= char <= "~"), None)
    if bad is None and len(value) <= limit:
        return
    problem = f"is {len(value)} characters long" if bad is None else \
        f"holds {bad[1]!r} at position {bad[0] + 1}"
    shown = value if len(value) <= 60 else value[:57] + "..."
    raise ImagekitError(f"{flag} {shown!r} {problem}: InvokeEndpoint takes only printable ASCII, at most {limit} "
                        "characters, in ContentType and Accept.",
                        f"Pass a media type such as {flag} text/csv (a value copied from a Windows file or a CI "
                        "variable often ends in a stray \\r).")


def probe_refused(status: int, answer: str, content_type: str | None) -> str:
    """The detail of a refused probe: the handler said no to imagekit's guess, not to a request of the user's."""
    sent = content_type or contract.DEFAULT_CONTENT_TYPE
    return (f"POST {contract.INVOCATIONS_ROUTE} answered {status} to imagekit's own probe body `{{}}` ({sent})"
            f"{f': {answer}' if answer else ''}. That is the handler refusing a body it does not take, which proves "
            "nothing about the image; pass --payload with a request your model accepts (e.g. --payload row.csv "
            "--content-type text/csv) to check /invocations.")
