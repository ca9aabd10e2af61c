"""IK211: a piped RUN without pipefail."""

from __future__ import annotations

from typing import Iterator

from imagekit.dockerfile.shell import SHELLS, split_commands
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import ALL_PROFILES, DockerfileContext, commands, own_instructions


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    for ins in own_instructions(ctx.dockerfile.stages, "RUN"):
        shell, scripts = _shell_and_scripts(ins)
        if not shell or shell[0].rsplit("/", 1)[-1] not in SHELLS:
            continue
        cmds = commands(ins) if ins.exec_form is None else [c for s in scripts for c in split_commands(s)]
        if "pipefail" in shell or any(c.program == "set" and "pipefail" in c.argv for c in cmds):
            continue  # SHELL ["/bin/bash", "-o", "pipefail", "-c"], or `set -o pipefail` / `set -euxo pipefail`
        piped = next((c for c in cmds if c.piped), None)
        if piped is not None:
            yield Problem(f"`{' '.join(piped.argv[:2])} ... | ...` runs without pipefail: if a command before the "
                          "pipe fails, the RUN still succeeds when the last one does.", ins.line, ins.column)


def _shell_and_scripts(ins) -> tuple[tuple[str, ...], list[str]]:
    """The shell (with its options) and the scripts it runs: SHELL for shell form; for exec form
    ``["sh", "-c", "a | b"]`` the shell is everything before the script."""
    if ins.exec_form is None:
        return ins.shell, ins.shell_scripts()
    argv = ins.exec_form
    if "-c" in argv[1:-1]:
        script = argv.index("-c", 1) + 1
        return tuple(argv[:script]), [argv[script]]
    return (), []


RULE = Rule(
    code="IK211",
    name="pipe-without-pipefail",
    severity=Severity.WARNING,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="A RUN pipes commands without `pipefail`, hiding failures of all but the last.",
    rationale="`curl -fsSL $URL | tar -xz` succeeds even when the download fails, leaving a broken or empty "
    "model directory in the image. Debian's /bin/sh (dash) has no pipefail, so switch to bash. Unlike hadolint "
    "(DL4006), a RUN that runs `set -o pipefail` itself is not reported: under bash it works, and under dash the "
    "`set` fails the build loudly; nor is an exec-form `RUN [\"bash\", \"-o\", \"pipefail\", \"-c\", ...]` "
    "or a SHELL with combined flags such as `-eo pipefail`.",
    fix='Add SHELL ["/bin/bash", "-o", "pipefail", "-c"] before the RUN (or `set -o pipefail` in a bash RUN).',
    check=check,
    example_bad="FROM debian:12\nRUN curl -fsSL https://example.com/m.tgz | tar -xz -C /opt\n",
    example_good='FROM debian:12\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\n'
    "RUN curl -fsSL https://example.com/m.tgz | tar -xz -C /opt\n",
)
