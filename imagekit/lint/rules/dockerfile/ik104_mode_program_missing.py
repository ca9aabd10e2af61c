"""IK104 (formerly also IK113): nothing provides the `train`/`serve` program SageMaker runs, or it is copied into a
directory that is not on PATH. The image implementation (formerly IK501) checks what the built image runs."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Iterator

from imagekit import contract
from imagekit.dockerfile.shell import Command
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import (
    SAGEMAKER_PROFILES,
    DockerfileContext,
    base_may_differ,
    commands,
    copy_destination,
    copy_paths,
    path_directories,
    pip_install_args,
    pip_requirements,
)
from imagekit.lint.rules.dockerfile._ik104_requirements import (
    OPAQUE_REQUIREMENT,
    listed_packages,
    package_name,
    requirement_files,
)


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    final = ctx.dockerfile.final_stage
    if not final or final.entrypoint is not None or base_may_differ(final):
        return  # an ENTRYPOINT receives the mode as its argument; unknown and managed bases may ship their own
    yield from _missing(ctx)
    yield from _off_path(ctx)


def modes_not_on_path(ctx: DockerfileContext) -> list[str]:
    """The modes whose program `docker run IMAGE MODE` would not find on PATH, as far as the Dockerfile shows (an
    unknown base or an opaque install may provide it). IK102 asks this about an init ENTRYPOINT, which runs the
    mode from PATH as well."""
    final = ctx.dockerfile.final_stage
    if not final or base_may_differ(final):
        return []
    instructions, on_path = final.all_instructions(), path_directories(final)
    return _one_is_enough(ctx, [mode for mode in ctx.modes if not _provides(ctx, instructions, mode, on_path)
                                or _off_path_copy(instructions, mode, on_path)])


def _one_is_enough(ctx: DockerfileContext, missing: list[str]) -> list[str]:
    """When train and serve were both possible (the profile was inferred), one of them is enough."""
    return [] if len(ctx.modes) == 2 and len(missing) == 1 else missing


def _missing(ctx: DockerfileContext) -> Iterator[Problem]:
    """Nothing in the Dockerfile provides the program at all."""
    final = ctx.dockerfile.final_stage
    instructions, on_path = final.all_instructions(), path_directories(final)
    missing = _one_is_enough(ctx, [mode for mode in ctx.modes if not _provides(ctx, instructions, mode, on_path)])
    if missing:
        names = " or ".join(f"`{mode}`" for mode in missing)
        read = sorted({file for ins in instructions for cmd in commands(ins)
                       for file in requirement_files(pip_install_args(cmd) or [])})
        listed = f", and {', '.join(read)} (read from the build context) lists no package that installs one" \
            if read else ""
        yield Problem(f"Nothing in this Dockerfile provides {names}: there is no ENTRYPOINT, so SageMaker runs "
                      f"{names} from PATH, and no instruction adds a file of that name{listed} (the base image "
                      f"{final.external_base or 'scratch'} is not checked).", final.line, 1)


def _off_path(ctx: DockerfileContext) -> Iterator[Problem]:
    """The program is copied in, but into a directory PATH does not list (and no RUN links it onto PATH)."""
    final = ctx.dockerfile.final_stage
    instructions, on_path = final.all_instructions(), path_directories(final)
    for mode in ctx.modes:
        copy = _off_path_copy(instructions, mode, on_path)
        if copy:
            ins, directory = copy
            yield Problem(f"`{mode}` is copied to {directory}, which is not on PATH (no ENV PATH adds it), so "
                          f"`docker run IMAGE {mode}` fails with `executable file not found`.", ins.line, ins.column)


def _off_path_copy(instructions: list, mode: str, on_path: set[str]) -> tuple | None:
    """(the last COPY/ADD, its directory) when every copy of *mode* lands off PATH and no RUN places it on PATH."""
    copies = [(ins, directory) for ins in instructions for directory in _copied_to(ins, mode)]
    if not copies or any(directory in on_path for _, directory in copies) \
            or _placed_on_path(instructions, mode, on_path):
        return None
    return copies[-1]


def _names(cmd: Command) -> Iterator[str]:
    """The last path component of each word, assignment value and redirection target of a RUN command: a RUN
    that writes, links, moves or chmods a file called `serve` names it somewhere there."""
    for word in (*cmd.argv, *cmd.assignments, *cmd.redirects):
        yield posixpath.basename(word.rpartition("=")[2])


def _provides(ctx: DockerfileContext, instructions: list, mode: str, path_dirs: set[str]) -> bool:
    """Some instruction adds a file called *mode*, copies into a PATH directory (or a tree holding one), installs
    a package that ships it (by name, or listed in a requirements file read from the build context), or installs
    something whose programs the Dockerfile cannot show (an unreadable requirements file, a local wheel, a
    project)."""
    context: list[Path | None] = []  # read once, when a requirements file needs it
    for index, ins in enumerate(instructions):
        if ins.keyword in ("COPY", "ADD"):
            if _copied_to(ins, mode) or _copies_onto_path(ins, path_dirs):
                return True
        elif ins.keyword == "RUN":
            for cmd in commands(ins):
                if mode in _names(cmd) or _opaque_install(cmd):
                    return True
                args = pip_install_args(cmd) or []
                installed = {package_name(r) for r in pip_requirements(args)}
                for file in requirement_files(args):
                    context = context or [_build_context(ctx)]
                    listed = listed_packages(file, ins, instructions[:index], context[0])
                    if listed is None:
                        return True  # not in the build context (or not a plain list): it may provide anything
                    installed |= listed
                if installed & set(contract.MODE_PROGRAM_PACKAGES[mode]):
                    return True
    return False


def _build_context(ctx: DockerfileContext) -> Path | None:
    """The directory `docker build` would send: the Dockerfile's own. None for text that is not that file's (a
    `lint_text` under a default name, stdin): its neighbours are not its build context."""
    df = ctx.dockerfile
    try:
        text = Path(df.path).read_bytes().decode("utf-8-sig", "replace")
    except OSError:
        return None
    same = text.replace("\r\n", "\n").removesuffix("\n").split("\n") == [line.rstrip("\r") for line in df.lines]
    return Path(df.path).parent if same else None


def _copies_onto_path(ins, path_dirs: set[str]) -> bool:
    """A COPY/ADD into a PATH directory, or of a directory tree into a parent of one (`COPY --from=build /opt/venv
    /opt/venv` with /opt/venv/bin on PATH, `COPY rootfs/ /`)."""
    dest = copy_destination(ins)
    if dest is None:
        return False
    if dest in path_dirs:
        return True
    parent = dest.rstrip("/") + "/"
    trees = [p for p in copy_paths(ins)[:-1]
             if p.endswith("/") or p in (".", "..") or "." not in posixpath.basename(p)]
    return bool(trees) and any(d.startswith(parent) for d in path_dirs)


# pip options that install a project directory (its programs are in files the Dockerfile does not show).
_OPAQUE_OPTION = re.compile(r"^(?:-e|--editable|--requirements-from-script)(?:=|$)|^-e\S")
# Project managers that install what a lock file or project file lists.
_PROJECT_INSTALLS = {"uv": "sync", "poetry": "install", "pipenv": "install", "pdm": "install"}


def _opaque_install(cmd: Command) -> bool:
    """An install whose console scripts (a toolkit's `train`, a framework container package's `serve`) cannot be
    read from the Dockerfile: project and conda environment files, local wheels and sdists, setup.py."""
    args = pip_install_args(cmd)
    if args is not None:
        return any(_OPAQUE_OPTION.match(word) for word in args) \
            or any(OPAQUE_REQUIREMENT.search(r) for r in pip_requirements(args))
    words = cmd.argv
    if _PROJECT_INSTALLS.get(cmd.program) in words[1:2]:
        return True
    if cmd.program in ("conda", "mamba", "micromamba"):
        return any(w in ("-f", "--file") or w.startswith("--file=") for w in words)
    return "setup.py" in map(posixpath.basename, words) and "install" in words


_PLACERS = ("ln", "cp", "mv", "install")  # commands that can put a program into a PATH directory


def _copied_to(ins, mode: str) -> list[str]:
    """Directories a COPY/ADD puts a file named *mode* into: a source of that name, or one source copied to a
    destination of that name (`COPY train.py /opt/program/train`)."""
    if ins.keyword not in ("COPY", "ADD"):
        return []
    parts = copy_paths(ins)
    dest = copy_destination(ins)
    if dest is None or len(parts) < 2:
        return []
    named = any(posixpath.basename(p.rstrip("/")) == mode for p in parts[:-1])
    one_file = len(parts) == 2 and not parts[-1].endswith("/")
    if posixpath.basename(dest) == mode and (named or one_file):
        return [posixpath.dirname(dest)]
    return [dest] if named else []


def _placed_on_path(instructions, mode: str, on_path: set[str]) -> bool:
    """A RUN links, copies or moves the program into a PATH directory (ln -s /opt/program/serve /usr/bin/)."""
    for ins in instructions:
        for cmd in commands(ins):
            if cmd.program in _PLACERS and len(cmd.argv) > 2:
                target = cmd.argv[-1].rstrip("/") or "/"
                if target in on_path or (posixpath.basename(target) == mode
                                         and posixpath.dirname(target) in on_path):
                    return True
    return False


RULE = Rule(
    code="IK104",
    name="mode-program-missing",
    severity=Severity.WARNING,
    profiles=SAGEMAKER_PROFILES,
    target="dockerfile",
    summary="The program SageMaker starts (`train`/`serve` on PATH, or the ENTRYPOINT) is missing or not executable.",
    rationale="SageMaker runs `docker run IMAGE train` and `docker run IMAGE serve`: CMD is replaced, ENTRYPOINT "
    "kept. Without an ENTRYPOINT the name is looked up on PATH only. If the program is missing, not executable, "
    "or copied where PATH does not look (the classic BYOC /opt/program without `ENV PATH=/opt/program:$PATH` on "
    "its own line, see IK219), the job fails at once with `executable file not found` or `exec format error`, "
    "after the instance was paid for. A Dockerfile is checked when it has no ENTRYPOINT: something must add a "
    "file of that name, into a directory on PATH (the base image is not read, so SageMaker-managed and unknown "
    "bases are trusted; the finding is on the final FROM line, where an ignore pragma can accept the base's "
    "program). A built image is checked for what actually runs: the ENTRYPOINT's program, or `train`/`serve` on "
    "the image's PATH, resolved through symlinks and layers, a regular file executable by the image's user "
    "(who must exist in /etc/passwd); there it is an error, since nothing is left to guess. Installing a package "
    "provides the program only if the package ships it as a console script: `train` comes with "
    f"{', '.join(contract.MODE_PROGRAM_PACKAGES[contract.TRAIN_COMMAND])}; `serve` with "
    f"{', '.join(contract.MODE_PROGRAM_PACKAGES[contract.SERVE_COMMAND])} (sagemaker-inference and "
    "multi-model-server ship none). A `pip install -r FILE` is judged by what FILE lists when FILE is in the build "
    "context (the Dockerfile's directory) and a COPY/ADD or bind mount shows where it came from; a requirements "
    "file the Dockerfile cannot show (made by a RUN, from another stage, a variable, a URL) and a local wheel, "
    "project (`pip install .`, `-e`, setup.py) or lock file (uv, poetry, pipenv, pdm, conda `-f`) may provide "
    "anything and are trusted.",
    fix="Add an exec-form ENTRYPOINT, or COPY an executable `train`/`serve` into a directory on PATH (or add "
    "that directory to PATH: ENV PATH=\"/opt/program:${PATH}\").",
    check=check,
    example_bad='# imagekit profile=serve\nFROM python:3.11-slim\nCOPY app.py /opt/app/\n'
    'CMD ["python", "/opt/app/app.py"]\n',
    example_good='# imagekit profile=serve\nFROM python:3.11-slim\nCOPY --chmod=755 serve /usr/local/bin/serve\n',
)
