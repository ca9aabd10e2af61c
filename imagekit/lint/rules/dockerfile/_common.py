"""What Dockerfile rules share: the context they receive and small readers for RUN commands and images."""

from __future__ import annotations

import fnmatch
import posixpath
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping

from imagekit import contract
from imagekit.dockerfile.expand import Expander
from imagekit.dockerfile.shell import Command, split_commands
from imagekit.lint.core import PROFILES

if TYPE_CHECKING:  # annotations only: the image linter imports these rules without the Dockerfile model
    from imagekit.dockerfile.model import Dockerfile, Instruction, Stage

ALL_PROFILES = PROFILES
SAGEMAKER_PROFILES = (contract.TRAIN_COMMAND, contract.SERVE_COMMAND)
APT_PROGRAMS = ("apt-get", "apt", "aptitude")
RPM_PROGRAMS = ("yum", "dnf", "microdnf", "tdnf")


@dataclass(frozen=True)
class DockerfileContext:
    """The read-only view a Dockerfile rule's check receives."""

    dockerfile: Dockerfile
    profiles: frozenset[str]
    options: Mapping[str, Any]
    trusted_registries: tuple[str, ...] = ()

    @property
    def modes(self) -> tuple[str, ...]:
        """The SageMaker modes (train/serve) being checked."""
        return tuple(m for m in SAGEMAKER_PROFILES if m in self.profiles)


def commands(ins: Instruction) -> list[Command]:
    """The simple commands a RUN executes (exec form is one command).

    A program named by a build arg or ENV (``ARG PIP=pip3`` ... ``RUN ${PIP} install x``) is expanded, as
    the shell will: ARG and ENV values are environment variables of the RUN.
    """
    if ins.keyword != "RUN":
        return []
    if ins.exec_form is not None:
        return [Command(tuple(ins.exec_form), "")] if ins.exec_form else []
    return [_expand_program(cmd, ins) for script in ins.shell_scripts() for cmd in split_commands(script)]


def _expand_program(cmd: Command, ins: Instruction) -> Command:
    if not cmd.argv[0].startswith("$"):
        return cmd
    words = Expander(ins.variables).expand(cmd.argv[0]).split()
    return replace(cmd, argv=(*words, *cmd.argv[1:])) if words else cmd


class _KeepUnknown(Expander):
    """BuildKit's expansion, except that a variable with no value stays as written (``$APP_DIR``): a path
    that depends on a build-time value must not be judged as the empty string."""

    def _lookup(self, name: str) -> str:
        value = self.variables.get(name)
        return "${" + name + "}" if value is None else value


_REFERENCE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


class _Verbatim(Expander):
    """BuildKit's word splitting and quote removal with every variable reference left as written; records the
    names referenced (text in single quotes references nothing, as in BuildKit)."""

    def __init__(self) -> None:
        super().__init__({})
        self.referenced: list[str] = []

    def _variable(self, text: str, start: int) -> tuple[str, int]:
        _value, end = super()._variable(text, start)
        match = _REFERENCE.match(text, start)
        if match:
            self.referenced.append(match.group(1))
        return text[start:end], end


def env_pairs(ins: Instruction) -> list[tuple[str, str, tuple[str, ...]]]:
    """``(name, value as written, variables the value references)`` of ``ENV a=1 b=$a`` in order (the legacy
    one-pair ``ENV NAME value`` form too)."""
    raw_words = _Verbatim()._words(ins.text, split=True, unquote=False)
    pairs = []
    for index, raw in enumerate(raw_words):
        reader = _Verbatim()
        word = "".join(reader.words(raw))
        if index == 0 and "=" not in word:
            rest = _Verbatim()
            return [(word, " ".join(rest.words(" ".join(raw_words[1:]))), tuple(rest.referenced))]
        if "=" in word:
            name, value = word.split("=", 1)
            pairs.append((name, value, tuple(reader.referenced)))
    return pairs


def arguments(ins: Instruction) -> list[str]:
    """The words of an instruction that is not a shell command (COPY, ADD, EXPOSE, ARG, VOLUME...), unquoted
    and expanded as BuildKit does, a variable without a value left as written (`$APP_DIR`)."""
    if ins.exec_form is not None:
        return [_KeepUnknown(ins.variables).expand(word) for word in ins.exec_form]
    return _KeepUnknown(ins.variables).words(ins.text) if ins.text else []


def copy_paths(ins: Instruction) -> list[str]:
    """Sources then destination of a COPY/ADD, unquoted and expanded (heredoc markers included)."""
    return arguments(ins)


def referenced_variables(ins: Instruction) -> list[str]:
    """The names of the variables an instruction's arguments reference (`$A`, `${A:-x}`), as written."""
    reader = _Verbatim()
    for word in ins.exec_form if ins.exec_form is not None else [ins.text]:
        reader.words(word)
    return reader.referenced


def argv(ins: Instruction) -> list[str]:
    """The words an ENTRYPOINT or CMD runs: the exec form as written, else the shell form split as sh does
    (quotes removed, wrappers such as `exec` dropped; `a && b` gives a's words, then b's)."""
    if ins.exec_form is not None:
        return list(ins.exec_form)
    return [word for cmd in split_commands(ins.text) for word in cmd.argv]


def mounts(ins: Instruction) -> list[dict[str, str]]:
    """The ``RUN --mount`` options as dicts (``type=cache,target=/root/.cache/pip`` -> {"type": "cache", ...});
    a bare key (``readonly``) maps to "true", and a mount without a type is a bind mount, as in BuildKit."""
    found = []
    for value in ins.flags.get("mount", []):
        options: dict[str, str] = {"type": "bind"}
        for item in value.split(","):
            key, eq, option = item.partition("=")
            options[key.strip().lower()] = option.strip() if eq else "true"
        if "dst" in options or "destination" in options:
            options.setdefault("target", options.get("dst") or options.get("destination", ""))
        found.append(options)
    return found


def environment(ins: Instruction, cmds: list[Command], index: int) -> dict[str, str]:
    """The variables the command ``cmds[index]`` of a RUN sees: ARG/ENV values, then what ``export NAME=value``
    earlier in the same RUN set, then its own ``NAME=value`` prefix."""
    env = dict(ins.variables)
    for cmd in cmds[:index]:
        if cmd.program == "export":
            env.update(word.split("=", 1) for word in cmd.argv[1:] if "=" in word)
    env.update(word.split("=", 1) for word in cmds[index].assignments)
    return env


_HOME = re.compile(r"^(~|\$HOME|\$\{HOME\})(?=/|$)")


def removes(cmds: Iterable[Command], directory: str) -> bool:
    """Some command deletes *directory* or files in it: ``rm`` of it, a parent or its contents (``~`` and $HOME
    read as /root), or ``find DIR ... -delete``."""
    for cmd in cmds:
        if cmd.program == "rm":
            targets = [word for word in cmd.argv[1:] if not word.startswith("-")]
        elif cmd.program == "find" and cmd.has("-delete"):
            targets = cmd.argv[1:2]
        else:
            continue
        for target in targets:
            path = _HOME.sub("/root", target).rstrip("*").rstrip("/")
            if path and (directory == path or directory.startswith(path + "/") or path.startswith(directory)):
                return True
    return False


def truthy(value: str | None) -> bool:
    """How pip and uv read a boolean environment variable."""
    return (value or "").strip().lower() not in ("", "0", "false", "no", "off")


def copy_destination(ins: Instruction) -> str | None:
    """The absolute, normalised destination of a COPY/ADD (None when it has no words).

    posixpath keeps a leading ``//`` (POSIX leaves it implementation-defined); Docker treats it as ``/``.
    """
    parts = copy_paths(ins)
    if not parts:
        return None
    return "/" + posixpath.normpath(posixpath.join(ins.workdir or "/", parts[-1])).lstrip("/")


_MANAGED_BASES = re.compile(r"\.dkr\.ecr\.|sagemaker|deep-learning-containers", re.I)


def base_may_differ(stage: Stage) -> bool:
    """The image at the root of the stage is unknown (an ARG without default) or one we cannot reason about
    (an ECR or SageMaker-managed base may ship its own programs and PATH)."""
    return not stage.lineage()[-1].base_known or bool(_MANAGED_BASES.search(stage.external_base))


STANDARD_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")


def path_directories(stage: Stage) -> set[str]:
    """Directories a program name is looked up in when the image runs: the standard PATH plus the stage's ENV
    PATH (the base image's own PATH entries are not known here)."""
    return set(STANDARD_PATH) | {d.rstrip("/") or "/" for d in stage.env.get("PATH", "").split(":") if d}


def with_triggers(stage: Stage) -> Iterator[Instruction]:
    """The stage's instructions, each ONBUILD followed by the instruction it registers (judged like any other:
    it runs in every image built FROM this one)."""
    for ins in stage.instructions:
        yield ins
        if ins.trigger is not None:
            yield ins.trigger


def runs(stages: Iterable[Stage]) -> Iterator[tuple[Instruction, list[Command]]]:
    for ins in own_instructions(stages, "RUN"):
        yield ins, commands(ins)


def own_instructions(stages: Iterable[Stage], *keywords: str) -> Iterator[Instruction]:
    for stage in stages:
        for ins in with_triggers(stage):
            if ins.keyword in keywords:
                yield ins


# Options of apt-get/yum/dnf/apk that take the next word as their value.
_INSTALLER_VALUE_OPTIONS = frozenset({"-t", "--target-release", "-o", "--option", "-c", "--config", "--virtual",
                                      "--setopt", "--releasever", "--installroot", "--repo", "--repoid",
                                      "--enablerepo", "--disablerepo", "-x", "--exclude", "--forcearch",
                                      "--repofrompath", "--downloaddir", "--destdir", "--repository", "-X"})


def package_manager_installs(cmd: Command) -> tuple[str, list[str]] | None:
    """(manager, package words) for apt-get/apt/aptitude/yum/dnf/microdnf install and apk add; options dropped."""
    program, argv = cmd.program, cmd.argv
    if program in APT_PROGRAMS + RPM_PROGRAMS and "install" in argv:
        args = argv[argv.index("install") + 1:]
    elif program in ("dnf", "yum") and "in" in argv:  # dnf's short alias
        args = argv[argv.index("in") + 1:]
    elif program == "apk" and "add" in argv:
        args = argv[argv.index("add") + 1:]
    else:
        return None
    packages, skip = [], False
    for word in args:
        if skip:
            skip = False
        elif word.startswith("-"):
            skip = word in _INSTALLER_VALUE_OPTIONS
        else:
            packages.append(word)
    return program, packages


def unpinned_installs(stages: Iterable[Stage], programs: tuple[str, ...],
                      pinned: Callable[[str], bool]) -> Iterator[tuple[Instruction, str, list[str]]]:
    """(RUN, package manager, packages not *pinned*) for every install by one of *programs* in *stages*."""
    for ins, cmds in runs(stages):
        for cmd in cmds:
            install = package_manager_installs(cmd)
            if install and install[0] in programs:
                loose = [package for package in install[1] if not pinned(package)]
                if loose:
                    yield ins, install[0], loose


def pip_install_args(cmd: Command) -> list[str] | None:
    """The arguments of ``pip install``/``python -m pip install``/``uv pip install``/``pipx install``, else None.

    pip's general options may come before ``install`` (``pip -q --no-cache-dir install x``); they apply to the
    install as they would after it, so they are returned with the words after ``install``.
    """
    argv = list(cmd.argv)
    program = cmd.program
    if re.fullmatch(r"python[\d.]*", program) and argv[1:3] == ["-m", "pip"]:
        argv = argv[2:]
    elif program == "uv" and argv[1:2] == ["pip"]:
        argv = argv[1:]
    elif not re.fullmatch(r"pip[\d.]*|pipx", program):
        return None
    i = 1
    while i < len(argv) and argv[i].startswith("-"):
        i += 2 if argv[i] in _PIP_GENERAL_VALUE_OPTIONS else 1
    if i >= len(argv) or argv[i] != "install":
        return None
    return argv[1:i] + argv[i + 1:]


# pip's general options that take a value (pip 26's cmdoptions.general_group); pip accepts them before or after
# the command.
_PIP_GENERAL_VALUE_OPTIONS = {"--python", "--log", "--log-file", "--local-log", "--keyring-provider", "--proxy",
                              "--retries", "--timeout", "--default-timeout", "--exists-action", "--trusted-host",
                              "--cert", "--client-cert", "--cache-dir", "--use-feature", "--use-deprecated",
                              "--resume-retries"}
# Every option of `pip install` that takes a value (read from pip 26's InstallCommand parser), plus uv pip's and
# pipx install's own: their values are not requirements.
_VALUE_OPTIONS = _PIP_GENERAL_VALUE_OPTIONS | {
    "-r", "--requirement", "-c", "--constraint", "--build-constraint", "-e", "--editable", "-i", "--index-url",
    "--extra-index-url", "--pypi-url", "-f", "--find-links", "--target", "-t", "--prefix", "--root", "--platform",
    "--python-version", "--implementation", "--abi", "--src", "--source", "--source-dir", "--source-directory",
    "--upgrade-strategy", "--progress-bar", "--config-settings", "-C", "--only-binary", "--no-binary",
    "--root-user-action", "--report", "--group", "--requirements-from-script", "--all-releases", "--only-final",
    "--refresh-package", "--uploaded-prior-to",
    "--index-strategy", "--extra", "-p",  # uv pip
    "--suffix", "--pip-args", "--preinstall"}  # pipx install


def pip_requirements(args: list[str]) -> list[str]:
    """Requirement words of a pip install (options and their values dropped)."""
    reqs, skip = [], False
    for word in args:
        if skip:
            skip = False
        elif word.startswith("-"):
            skip = word in _VALUE_OPTIONS
        else:
            reqs.append(word)
    return reqs


@dataclass(frozen=True)
class ImageRef:
    registry: str
    repository: str
    tag: str | None
    digest: str | None


def parse_image(ref: str) -> ImageRef:
    """Split ``[registry/]repo[:tag][@digest]`` (Docker's rules for what counts as a registry)."""
    name, _, digest = ref.partition("@")
    registry, slash, rest = name.partition("/")
    if not slash or not ("." in registry or ":" in registry or registry == "localhost"):
        registry, rest = "docker.io", name
    repo, colon, tag = rest.rpartition(":") if ":" in rest else (rest, "", "")
    return ImageRef(registry, repo if colon else rest, tag if colon else None, digest or None)


def is_scratch(image: str) -> bool:
    return image.strip().lower() == "scratch"


def registry_trusted(registry: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatch(registry, pattern) for pattern in patterns)
