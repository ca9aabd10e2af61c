"""The normalised Dockerfile model the rules read: stages of instructions with 1-based positions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

KNOWN_INSTRUCTIONS = frozenset(
    "ADD ARG CMD COPY ENTRYPOINT ENV EXPOSE FROM HEALTHCHECK LABEL MAINTAINER ONBUILD RUN SHELL "
    "STOPSIGNAL USER VOLUME WORKDIR".split()
)
DEFAULT_SHELL: tuple[str, ...] = ("/bin/sh", "-c")
MAX_LINE_BYTES = 65535  # BuildKit's longest physical line, line end excluded (bufio.MaxScanTokenSize - 1)
# Build args BuildKit defines itself (they have values even without an ARG line).
AUTOMATIC_ARGS = frozenset(
    "BUILDPLATFORM BUILDOS BUILDARCH BUILDVARIANT TARGETPLATFORM TARGETOS TARGETARCH TARGETVARIANT "
    "TARGETSTAGE BUILDKIT_SYNTAX".split()
)


@dataclass(frozen=True)
class Heredoc:
    """``<<EOF`` ... ``EOF``: the body is what BuildKit feeds to the command or writes to the file."""

    marker: str
    body: str
    line: int  # first body line, 1-based
    strip_tabs: bool  # <<-EOF
    quoted: bool  # <<"EOF" / <<'EOF': no expansion in the body


@dataclass
class Instruction:
    keyword: str  # upper case; may be unknown (a syntax error is reported for it)
    line: int  # 1-based first line
    end_line: int  # 1-based last line (heredoc bodies included)
    column: int  # 1-based column of the keyword
    source: str  # the original text, continuation lines and heredoc bodies included
    text: str  # the arguments with continuations joined and flags removed
    flags: dict[str, list[str]] = field(default_factory=dict)  # --mount=a --mount=b -> {"mount": [a, b]}
    exec_form: list[str] | None = None  # JSON-array form of RUN/CMD/ENTRYPOINT/SHELL/COPY/ADD/VOLUME
    heredocs: list[Heredoc] = field(default_factory=list)
    stage: int = -1  # index of the stage; -1 for global ARGs
    variables: Mapping[str, str] = field(default_factory=dict)  # ARG/ENV visible to this instruction
    expanded: str = ""  # ``text`` with variables expanded, for instructions Docker expands
    workdir: str | None = None  # the WORKDIR in effect when it runs (None: the base image's)
    shell: tuple[str, ...] = DEFAULT_SHELL  # the SHELL in effect for shell-form commands
    trigger: "Instruction | None" = None  # ONBUILD: the instruction it registers for images built FROM this one

    def flag(self, name: str) -> str | None:
        values = self.flags.get(name)
        return values[-1] if values else None

    @property
    def is_exec_form(self) -> bool:
        return self.exec_form is not None

    def shell_scripts(self) -> list[str]:
        """The shell text a RUN executes: its command line plus the bodies of heredocs fed to a shell."""
        if self.keyword != "RUN" or self.exec_form is not None:
            return []
        scripts = [self.text]
        if self.heredocs and _heredoc_is_script(self.text):
            scripts.extend(doc.body for doc in self.heredocs)
        return scripts


def _heredoc_is_script(command: str) -> bool:
    """``RUN <<EOF`` and ``RUN <<EOF bash`` run the body as shell; ``RUN python3 <<EOF`` does not."""
    head = command.strip()
    if head.startswith("<<"):
        rest = head.split(None, 1)
        return len(rest) == 1 or rest[1].split()[0].rsplit("/", 1)[-1] in ("sh", "bash", "ash", "dash", "zsh")
    first = head.split()[0].rsplit("/", 1)[-1] if head.split() else ""
    return first in ("sh", "bash", "ash", "dash", "zsh")


@dataclass
class Stage:
    index: int
    name: str | None  # lower-cased ``AS`` name
    from_instruction: Instruction
    base: str  # the FROM image with build args expanded ("" when it expanded to nothing)
    parent: "Stage | None"  # the earlier stage this one is built FROM, if any
    platform: str | None
    unresolved: tuple[str, ...] = ()  # build args the FROM line uses that have no value
    base_known: bool = True  # False when the FROM line uses any arg without a static value (incl. TARGETOS...)
    instructions: list[Instruction] = field(default_factory=list)  # FROM excluded
    # Effective image config at the end of the stage, inherited through ``FROM <stage>``:
    env: dict[str, str] = field(default_factory=dict)
    user: str | None = None
    user_instruction: Instruction | None = None
    workdir: str | None = None
    entrypoint: Instruction | None = None
    cmd: Instruction | None = None
    shell: tuple[str, ...] = DEFAULT_SHELL
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def line(self) -> int:
        return self.from_instruction.line

    def lineage(self) -> list["Stage"]:
        """This stage and the stages it is built FROM, nearest first."""
        chain: list[Stage] = []
        stage: Stage | None = self
        while stage is not None and stage not in chain:
            chain.append(stage)
            stage = stage.parent
        return chain

    @property
    def external_base(self) -> str:
        """The image at the root of the lineage (what the registry provides)."""
        return self.lineage()[-1].base

    def all_instructions(self) -> list[Instruction]:
        """Instructions of this stage and its ancestors, in build order."""
        return [i for stage in reversed(self.lineage()) for i in stage.instructions]


@dataclass(frozen=True)
class Comment:
    line: int
    text: str  # without the leading '#'


@dataclass(frozen=True)
class SyntaxProblem:
    """Why BuildKit would refuse this file, and where."""

    message: str
    line: int
    column: int = 1


@dataclass
class Dockerfile:
    path: str
    lines: list[str]  # decoded source lines (no line endings); lines[0] is line 1
    escape: str
    directives: dict[str, str]
    global_args: dict[str, str | None]  # ARGs before the first FROM (None: no default)
    global_instructions: list[Instruction]
    stages: list[Stage]
    comments: list[Comment]
    empty_continuation_lines: list[int]
    error: SyntaxProblem | None = None
    target: str | None = None  # `docker build --target`: the stage that becomes the image

    @property
    def final_stage(self) -> Stage | None:
        """The stage the build produces: the ``target`` stage if set, else the last one."""
        if self.target:
            return self.stage_by_ref(self.target)
        return self.stages[-1] if self.stages else None

    @property
    def instructions(self) -> list[Instruction]:
        return self.global_instructions + [
            i for stage in self.stages for i in (stage.from_instruction, *stage.instructions)
        ]

    def stage_by_ref(self, ref: str) -> Stage | None:
        """A stage named by ``COPY --from`` / ``FROM``: its name (case-insensitive) or its index."""
        ref = ref.lower()
        for stage in self.stages:
            if stage.name == ref or (ref.isascii() and ref.isdigit() and len(ref) < 9 and int(ref) == stage.index):
                return stage
        return None

    def final_image_stages(self) -> list[Stage]:
        """Stages whose layers end up in the final image (the final stage and what it is built FROM)."""
        final = self.final_stage
        return final.lineage() if final else []
