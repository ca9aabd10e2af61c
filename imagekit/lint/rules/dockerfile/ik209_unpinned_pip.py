"""IK209: pip packages installed without a version."""

from __future__ import annotations

import re
from typing import Iterator

from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import (
    ALL_PROFILES,
    DockerfileContext,
    pip_install_args,
    pip_requirements,
    runs,
)

_NOT_A_NAME = re.compile(r"[/\\$]|^\.|\.(whl|zip|tar\.gz|tgz)$|^[a-z+]+://|@", re.I)
_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?$")
_VCS = re.compile(r"^(?:[^@\s]+\s*@\s*)?(git|hg|svn|bzr)\+[a-z]+://", re.I)
_SEPARATORS = re.compile(r"[-_.]+")


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    tooling = {_project(name) for name in ctx.options.get("ignore-packages", ())}
    for ins, cmds in runs(ctx.dockerfile.final_image_stages()):
        if "PIP_CONSTRAINT" in ins.variables:
            continue
        for cmd in cmds:
            args = pip_install_args(cmd)
            if args is None or {"-c", "--constraint"} & set(args) or any(a.startswith("--constraint=") for a in args):
                continue
            loose = []
            for req in pip_requirements(args):
                match = _NAME.match(req)
                if match and not _NOT_A_NAME.search(req) and _project(match.group(1)) not in tooling:
                    loose.append(req)
                elif _VCS.match(req) and not _vcs_ref(req):
                    loose.append(req)
            if loose:
                yield Problem(f"pip installs {', '.join(loose)} without a version; the next build may get a "
                              "different release.", ins.line, ins.column)


def _project(name: str) -> str:
    """A name as pip compares them (PEP 503): `Flask`, `flask` and `ruamel_yaml`/`ruamel.yaml` are one project."""
    return _SEPARATORS.sub("-", name).lower()


def _vcs_ref(requirement: str) -> str:
    """The ``@ref`` of a VCS URL (``git+https://host/org/repo@v1.0#egg=x``); "" when it names none."""
    from urllib.parse import urlsplit

    url = requirement[_VCS.match(requirement).start(1):]
    path = urlsplit(url.split("+", 1)[1]).path  # the user part of git+ssh://git@host is not a ref
    return path.rpartition("@")[2] if "@" in path else ""


RULE = Rule(
    code="IK209",
    name="unpinned-pip-package",
    severity=Severity.WARNING,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="pip installs a package by bare name (no ==, ~=, >= or constraints file) in the final image.",
    rationale="torch, transformers and friends change behaviour between releases; an unpinned install makes "
    "two builds of one Dockerfile train or serve differently. A VCS URL without @ref (git+https://.../repo) "
    "is as loose as a bare name (the user in git+ssh://git@host is not a ref; hadolint takes it for one), and "
    "the values of pip's options (--report x.json, --group dev) are not packages. Paths, wheels, other URLs, "
    "requirement files and installs with a constraints "
    "file (-c or PIP_CONSTRAINT) are not reported; nor are builder stages (hadolint reports every stage), "
    "since only the final image's packages ship.",
    fix="Pin versions (torch==2.3.1), or install from a locked requirements file.",
    check=check,
    example_bad="FROM python:3.11-slim\nRUN pip install --no-cache-dir torch\n",
    example_good="FROM python:3.11-slim\nRUN pip install --no-cache-dir torch==2.3.1\n",
    options={"ignore-packages": ("pip", "setuptools", "wheel", "uv")},
)
