"""IK305: compilers and -dev packages installed in the final stage of a multi-stage build."""

from __future__ import annotations

from typing import Iterator

from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import ALL_PROFILES, DockerfileContext, package_manager_installs, runs


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    df = ctx.dockerfile
    if len(df.stages) == len(df.final_image_stages()):
        return  # no separate builder stage to move the tools to
    tools = set(ctx.options.get("packages", ()))
    for ins, cmds in runs(df.final_image_stages()):
        found = []
        for cmd in cmds:
            install = package_manager_installs(cmd)
            for package in install[1] if install else []:
                name = package.split("=", 1)[0]
                if name in tools or name.endswith(("-dev", "-devel")):
                    found.append(name)
        if found:
            yield Problem(f"The final image installs build tools ({', '.join(found)}); this file already has a "
                          "builder stage where they belong.", ins.line, ins.column)


RULE = Rule(
    code="IK305",
    name="build-tools-in-final-stage",
    severity=Severity.INFO,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="A file with a builder stage still installs compilers or -dev packages in the final image.",
    rationale="The point of a builder stage is to keep gcc, headers and build systems out of the image that "
    "ships: they cost hundreds of MB and widen the attack surface.",
    fix="Install build tools in the builder stage and COPY --from it only the built artifacts.",
    check=check,
    example_bad="FROM python:3.11 AS build\nRUN pip wheel --no-cache-dir -w /w numpy==2.0.0\n"
    "FROM python:3.11-slim\nRUN apt-get update && apt-get install -y --no-install-recommends gcc "
    "&& rm -rf /var/lib/apt/lists/*\n",
    example_good="FROM python:3.11 AS build\nRUN pip wheel --no-cache-dir -w /w numpy==2.0.0\n"
    "FROM python:3.11-slim\nCOPY --from=build /w /w\n",
    options={"packages": ("build-essential", "gcc", "g++", "make", "cmake", "clang", "gfortran", "ninja-build",
                          "autoconf", "automake", "libtool", "gcc-c++")},
)
