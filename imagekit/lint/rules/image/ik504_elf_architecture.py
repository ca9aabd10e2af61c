"""IK504: the binary SageMaker starts is built for another CPU than the image says."""

from __future__ import annotations

import struct
from typing import Iterator

from imagekit.image.example import AMD64, ARM64, ImageExample, elf
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.image._common import SAGEMAKER_PROFILES, ImageContext, interpreter, shebang, started_programs

# e_machine values from the ELF specification, by OCI architecture name.
ELF_MACHINES = {"amd64": 62, "arm64": 183, "386": 3, "arm": 40, "ppc64le": 21, "s390x": 22, "riscv64": 243}


def check(ctx: ImageContext) -> Iterator[Problem]:
    expected = ELF_MACHINES.get(ctx.image.architecture)
    if expected is None:
        return
    for mode, path, entry in started_programs(ctx):
        words = shebang(entry)
        if words:  # a script: the binary that really runs is its interpreter
            _, path, entry, _ = interpreter(ctx.image, words)
            if entry is None:
                continue  # IK502's case
        machine = elf_machine(entry.head)
        if machine is not None and machine != expected:
            actual = next((arch for arch, number in ELF_MACHINES.items() if number == machine), f"machine {machine}")
            yield Problem(f"{path} (run by `{mode}`) is an ELF binary for {actual}, but the image is "
                          f"{ctx.image.architecture}: it fails with `exec format error`.", path=path)


def elf_machine(head: bytes) -> int | None:
    """e_machine of an ELF header, or None for anything else."""
    if len(head) < 20 or not head.startswith(b"\x7fELF"):
        return None
    return struct.unpack("<H" if head[5] == 1 else ">H", head[18:20])[0]


RULE = Rule(
    code="IK504",
    name="elf-architecture-mismatch",
    severity=Severity.ERROR,
    profiles=SAGEMAKER_PROFILES,
    target="image",
    summary="The ELF binary SageMaker starts (or its script's interpreter) targets another CPU than the image config.",
    rationale="Binaries copied from a developer's arm64 laptop into an amd64 image (or the reverse) build fine "
    "and fail at start with `exec format error`.",
    fix="Build or download the binary for the image's platform (use --platform and TARGETARCH in the Dockerfile).",
    check=check,
    example_bad=ImageExample(config={"Entrypoint": ["/usr/local/bin/server"]},
                             files={"usr/local/bin/server": elf(ARM64)}),
    example_good=ImageExample(config={"Entrypoint": ["/usr/local/bin/server"]},
                              files={"usr/local/bin/server": elf(AMD64)}),
)
