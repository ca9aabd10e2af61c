"""dockerfile-parse plus the one normalisation layer that makes its output match BuildKit.

dockerfile-parse splits lines, joins continuations, finds comments and the escape directive and gives
positions. Around it we add what it lacks (see shared/reference/linters.md §6): BOM/UTF-16/32 and CRLF
decoding, heredoc bodies (RUN/COPY/ADD, ``<<-``, quoted markers), empty lines inside a continuation,
instruction flags, exec-vs-shell form decoded like BuildKit, stages with inheritance, BuildKit's ARG
scoping and ``${V:-x}`` expansion, and a located syntax problem where BuildKit would refuse the file.
"""

from __future__ import annotations

import io
import json
import posixpath
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from dockerfile_parse import DockerfileParser

from imagekit.contract import Limits
from imagekit.dockerfile.expand import Expander, ExpansionBudget, Scope, key_values
from imagekit.dockerfile.model import (
    AUTOMATIC_ARGS,
    DEFAULT_SHELL,
    KNOWN_INSTRUCTIONS,
    MAX_LINE_BYTES,
    Comment,
    Dockerfile,
    Heredoc,
    Instruction,
    Stage,
    SyntaxProblem,
)
from imagekit.dockerfile.refusals import dispatch_refusal, refusal, stage_problem, trigger_refusal
from imagekit.dockerfile.source import decode, overlong_crlf_line, unreadable
from imagekit.errors import ImagekitError, LimitExceeded
from imagekit.safe_io import read_regular

_DIRECTIVE = re.compile(r"^\s*#\s*([a-zA-Z][a-zA-Z0-9_-]*)\s*=\s*(.*?)\s*$")
_DIRECTIVE_NAMES = frozenset({"syntax", "escape", "check"})
_HEREDOC = re.compile(r"(?:^|\s)\d*<<(-?)([\"']?)([^\s<>\"'|;&()]+)\2")
_FLAG = re.compile(r"--([A-Za-z][\w-]*)(?:=(\S*))?(?=\s|$)")
_FLAG_INSTRUCTIONS = frozenset({"FROM", "RUN", "COPY", "ADD", "HEALTHCHECK"})
_JSON_INSTRUCTIONS = frozenset({"RUN", "CMD", "ENTRYPOINT", "SHELL", "COPY", "ADD", "VOLUME"})
_HEREDOC_INSTRUCTIONS = frozenset({"RUN", "COPY", "ADD"})
_EXPANDED = frozenset({"ADD", "COPY", "ENV", "EXPOSE", "LABEL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR", "ARG"})
_NOT_TRIGGERS = frozenset({"ONBUILD", "FROM", "MAINTAINER"})  # BuildKit refuses these after ONBUILD


def load(path: str | Path, display_name: str | None = None) -> Dockerfile:
    """Read and parse a Dockerfile (``-`` is standard input); an unreadable file is an ImagekitError (exit 2)."""
    name = display_name or str(path)
    try:
        if str(path) == "-":
            data = sys.stdin.buffer.read(Limits.DOCKERFILE_BYTES + 1)
            if len(data) > Limits.DOCKERFILE_BYTES:
                raise LimitExceeded(name, "the size of the Dockerfile", "DOCKERFILE_BYTES", Limits.DOCKERFILE_BYTES)
        else:
            data = read_regular(Path(path), "Dockerfile", "DOCKERFILE_BYTES")
    except OSError as error:
        raise ImagekitError(f"Cannot read Dockerfile {path}: {error.strerror or error}.",
                            "Check the path and its permissions.") from None
    except (ValueError, AttributeError):  # standard input closed (or None when Python started without it)
        raise ImagekitError("Cannot read the Dockerfile from standard input: it is closed.",
                            "Pass a file name, or pipe the Dockerfile in.") from None
    dockerfile = parse(decode(data), name)
    overlong = overlong_crlf_line(data, MAX_LINE_BYTES)
    if overlong and (dockerfile.error is None or dockerfile.error.line >= overlong[0]):
        dockerfile.error = SyntaxProblem(_too_long(overlong[1], dockerfile.escape), overlong[0])
    dockerfile.error = unreadable(data) or dockerfile.error  # nothing else matters if BuildKit cannot read it
    return dockerfile


def parse(text: str, path: str = "Dockerfile") -> Dockerfile:
    """Parse decoded text into stages. Never raises: problems BuildKit would refuse go to ``.error``."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    too_long = _check_size(path, lines)
    readable = lines[:too_long]  # BuildKit stops reading at a line over its limit
    directives, repeated = _directives(readable)
    escape = directives.get("escape") or "\\"
    valid_escape = escape in ("\\", "`")
    if not valid_escape:
        escape = "\\"
    scan = _prescan(readable, escape)
    if len(scan.starts) > Limits.DOCKERFILE_INSTRUCTIONS:
        raise LimitExceeded(path, "the number of instructions", "DOCKERFILE_INSTRUCTIONS",
                            Limits.DOCKERFILE_INSTRUCTIONS)
    builder = _Builder(path, lines, escape, directives, scan)
    if not valid_escape:  # directives are the first lines of the file, one a line
        builder.fail(f"Invalid escape token {directives['escape']!r}: the escape directive takes \\ or `.",
                     list(directives).index("escape") + 1)
    if repeated is not None:
        builder.fail(f"Only one {_DIRECTIVE.match(lines[repeated - 1]).group(1)} parser directive can be used.",
                     repeated)
    if too_long is not None:
        builder.fail(_too_long(len(lines[too_long].encode("utf-8", "surrogatepass")), escape), too_long + 1)
    return builder.build()


def _too_long(size: int, escape: str) -> str:
    return (f"This line is {size:,} bytes long; BuildKit refuses lines over {MAX_LINE_BYTES:,} bytes (\"dockerfile "
            f"line greater than max allowed size\", a CRLF line end's CR included). Split it with {escape} "
            "continuations.")


def _check_size(path: str, lines: list[str]) -> int | None:
    """The file within budget, checked in linear time before anything else looks at the text. Returns the
    0-based index of the first line longer than BuildKit reads (it reads no further; no word of a shorter
    line can exceed DOCKERFILE_WORD_CHARS)."""
    if sum(map(len, lines)) > Limits.DOCKERFILE_BYTES:
        raise LimitExceeded(path, "the size of the Dockerfile", "DOCKERFILE_BYTES", Limits.DOCKERFILE_BYTES)
    for index, line in enumerate(lines):
        if len(line) > MAX_LINE_BYTES // 4 and len(line.encode("utf-8", "surrogatepass")) > MAX_LINE_BYTES:
            return index
    return None


def _check_words(text: str, where: str) -> None:
    if len(text) > Limits.DOCKERFILE_WORD_CHARS and max(map(len, text.split())) > Limits.DOCKERFILE_WORD_CHARS:
        raise LimitExceeded(where, "the length of one word", "DOCKERFILE_WORD_CHARS", Limits.DOCKERFILE_WORD_CHARS)


def _directives(lines: list[str]) -> tuple[dict[str, str], int | None]:
    """BuildKit's parser directives: the leading `# name=value` lines whose name it knows, in any order; the
    first other line ends them. Returns them and the 1-based line of a repeated one (BuildKit refuses that)."""
    found: dict[str, str] = {}
    for number, line in enumerate(lines, 1):
        match = _DIRECTIVE.match(line)
        if not match or match.group(1).lower() not in _DIRECTIVE_NAMES:
            break
        if match.group(1).lower() in found:
            return found, number
        found[match.group(1).lower()] = match.group(2)
    return found, None


@dataclass
class _Scan:
    """What the pre-pass learnt before dockerfile-parse sees the (masked) text."""

    prepared: list[str]
    starts: list[int] = field(default_factory=list)  # 0-based first line of every instruction
    heredocs: dict[int, tuple[list[Heredoc], int]] = field(default_factory=dict)  # start -> (docs, end line)
    empty_continuations: list[int] = field(default_factory=list)  # 1-based
    error: SyntaxProblem | None = None


def _prescan(lines: list[str], escape: str) -> _Scan:
    """Find instruction starts, heredoc bodies and empty continuation lines.

    Heredoc bodies are blanked and empty continuation lines turned into comments in the text handed to
    dockerfile-parse, so its instruction splitting matches BuildKit's; line numbers never move.
    """
    scan = _Scan(prepared=list(lines))
    in_continuation = False
    start = 0
    parts: list[str] = []
    i, n = 0, len(lines)
    while i < n:
        stripped = lines[i].strip()
        if in_continuation and not stripped:
            scan.empty_continuations.append(i + 1)
            scan.prepared[i] = "#"
            i += 1
            continue
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        if not in_continuation:
            start, parts = i, []
            scan.starts.append(i)
        body = lines[i].rstrip()
        if body.endswith(escape):
            parts.append(body[:-1])
            in_continuation = True
            i += 1
            continue
        parts.append(body)
        in_continuation = False
        i += 1
        joined = " ".join(parts)
        if "<<" in joined and joined.split(None, 1)[0].upper() in _HEREDOC_INSTRUCTIONS:
            i = _read_heredocs(lines, joined, start, i, scan)
    return scan


def _read_heredocs(lines: list[str], command: str, start: int, i: int, scan: _Scan) -> int:
    docs: list[Heredoc] = []
    for match in _HEREDOC.finditer(command):
        strip_tabs, quoted, marker = match.group(1) == "-", bool(match.group(2)), match.group(3)
        body: list[str] = []
        first = i
        while i < len(lines):
            candidate = lines[i].lstrip("\t") if strip_tabs else lines[i]
            i += 1
            if candidate.rstrip() == marker:
                break
            body.append(candidate)
        else:
            if scan.error is None:
                scan.error = SyntaxProblem(f"The heredoc <<{marker} is never closed: no line reads {marker!r}.",
                                           start + 1)
        docs.append(Heredoc(marker, "\n".join(body) + ("\n" if body else ""), first + 1, strip_tabs, quoted))
        for k in range(first, i):
            scan.prepared[k] = ""
    if docs:
        scan.heredocs[start] = (docs, i)
    return i


class _Builder:
    """Turns dockerfile-parse's flat structure into stages, tracking variables like BuildKit."""

    def __init__(self, path: str, lines: list[str], escape: str, directives: dict[str, str], scan: _Scan) -> None:
        self.df = Dockerfile(path=path, lines=lines, escape=escape, directives=directives, global_args={},
                             global_instructions=[], stages=[], comments=[],
                             empty_continuation_lines=scan.empty_continuations, error=scan.error)
        self.scan = scan
        self.stage: Stage | None = None
        self.budget = ExpansionBudget(path)
        self.global_scope = Scope()
        self.scope = self.global_scope
        self.inherited_left = Limits.DOCKERFILE_INHERITED_VARIABLES
        self.cmd_set = False

    def fail(self, message: str, line: int, column: int = 1) -> None:
        if self.df.error is None or line < self.df.error.line:
            self.df.error = SyntaxProblem(message, line, column)

    def build(self) -> Dockerfile:
        # The trailing blank line closes a continuation left open at end of file, as BuildKit does.
        directive_lines = len(self.df.directives)
        for index, name in enumerate(self.df.directives):  # dockerfile-parse knows only escape and syntax
            if name != "escape":
                self.scan.prepared[index] = "# syntax=directive"
        prepared = "\n".join(self.scan.prepared) + "\n\n"
        parser = DockerfileParser(fileobj=io.BytesIO(prepared.encode("utf-8")))
        seen_starts = set()
        empty = set(self.scan.empty_continuations)
        dispatch_problems: list[tuple[Instruction, str]] = []
        for entry in parser.structure:
            line = entry["startline"] + 1
            if entry["instruction"] == "COMMENT":
                if line not in empty and line > directive_lines:
                    self.df.comments.append(Comment(line, entry["value"]))
                continue
            seen_starts.add(entry["startline"])
            ins = self.instruction(entry)
            known = ins.keyword in KNOWN_INSTRUCTIONS
            reason = refusal(ins, entry["value"], self.df.escape) if known else None
            if reason:
                self.fail(reason, ins.line, ins.column)
            self.add(ins)
            reason = dispatch_refusal(ins, entry["value"], self.df.escape) if known else None
            if reason:
                dispatch_problems.append((ins, reason))
        needed = _needed_stages(self.df)
        for ins, reason in dispatch_problems:  # a global ARG's (stage -1) is ignored by Docker 20.10's BuildKit
            if ins.stage in needed:
                self.fail(reason, ins.line, ins.column)
        for start in self.scan.starts:
            if start not in seen_starts:
                word = self.df.lines[start].split()[0]
                self.fail(f"{word} needs arguments." if word.upper() in KNOWN_INSTRUCTIONS
                          else f"Unknown instruction {word!r} (a typo, or a missing {self.df.escape} at the end of "
                          "the line before?).", start + 1, _column(self.df.lines[start]))
        if not self.df.stages and self.df.error is None:
            self.fail("The Dockerfile has no FROM instruction, so there is nothing to build.",
                      (self.scan.starts[0] + 1) if self.scan.starts else 1)
        return self.df

    def instruction(self, entry: dict) -> Instruction:
        start = entry["startline"]
        docs, end = self.scan.heredocs.get(start, ([], min(entry["endline"] + 1, len(self.df.lines))))
        keyword = entry["instruction"].upper()
        text = entry["value"]
        _check_words(text, f"{self.df.path}:{start + 1}")  # continuation lines join words across lines
        flags: dict[str, list[str]] = {}
        if keyword in _FLAG_INSTRUCTIONS:
            text = text.lstrip()
            while text.startswith("--"):
                match = _FLAG.match(text)
                if not match:
                    break
                flags.setdefault(match.group(1).lower(), []).append(match.group(2) or "")
                text = text[match.end():].lstrip()
        instruction = Instruction(keyword=keyword, line=start + 1, end_line=end, column=_column(self.df.lines[start]),
                                  source="\n".join(self.df.lines[start:end]), text=text.strip(), flags=flags,
                                  heredocs=docs)
        if keyword in _JSON_INSTRUCTIONS and instruction.text.startswith("["):
            try:
                decoded = json.loads(instruction.text)
            except (ValueError, RecursionError):
                decoded = None  # not JSON (or nested past any command): BuildKit falls back to shell form
            if isinstance(decoded, list):
                if all(isinstance(arg, str) for arg in decoded):
                    instruction.exec_form = decoded
                else:
                    self.fail(f"{keyword} has a JSON array whose items are not all strings.", instruction.line)
        return instruction

    def add(self, ins: Instruction) -> None:
        if ins.keyword not in KNOWN_INSTRUCTIONS:
            word = self.df.lines[ins.line - 1].split()[0]
            self.fail(f"Unknown instruction {word!r} (a typo, or a missing {self.df.escape} at the end of the line "
                      "before?).", ins.line, ins.column)
        if ins.keyword == "FROM":
            self.start_stage(ins)
            return
        if self.stage is None:
            ins.variables = self.scope.view()
            ins.expanded = ins.text
            self.df.global_instructions.append(ins)
            if ins.keyword == "ARG":
                for name, value in self.args(ins, ins.variables):
                    self.df.global_args[name] = value if value is not None else self.df.global_args.get(name)
                    self.scope.set_arg(name, self.df.global_args[name])
            else:
                self.fail(f"{ins.keyword} before the first FROM: only ARG may come before FROM.", ins.line, ins.column)
            return
        stage = self.stage
        ins.stage = stage.index
        variables = ins.variables = self.scope.view()
        ins.expanded = (Expander(variables, self.df.escape, self.budget).expand(ins.text)
                        if ins.keyword in _EXPANDED else ins.text)
        ins.workdir, ins.shell = stage.workdir, stage.shell
        stage.instructions.append(ins)
        keyword = ins.keyword
        if keyword == "ARG":
            for name, value in self.args(ins, variables):
                self.scope.set_arg(name, value if value is not None else self.df.global_args.get(name))
        elif keyword == "ENV":
            pairs = key_values(ins.text, variables, self.df.escape, self.budget)
            stage.env.update(pairs)
            for name, value in pairs:
                self.scope.set_env(name, value)
        elif keyword == "LABEL":
            stage.labels.update(key_values(ins.text, variables, self.df.escape, self.budget))
        elif keyword == "USER":
            stage.user, stage.user_instruction = ins.expanded.strip(), ins
        elif keyword == "WORKDIR":
            stage.workdir = posixpath.join(stage.workdir or "", ins.expanded.strip())
        elif keyword == "ENTRYPOINT":
            stage.entrypoint = ins
            if not self.cmd_set:
                stage.cmd = None  # Docker resets an inherited CMD when ENTRYPOINT is set
        elif keyword == "CMD":
            stage.cmd, self.cmd_set = ins, True
        elif keyword == "ONBUILD":
            self.add_trigger(ins)
        elif keyword == "SHELL":
            if ins.exec_form:
                stage.shell = tuple(ins.exec_form)
            elif ins.exec_form == []:
                self.fail("SHELL requires at least one argument: the JSON list is empty (e.g. SHELL [\"/bin/bash\", "
                          "\"-c\"]).", ins.line, ins.column)
            else:
                self.fail("SHELL needs the JSON form, e.g. SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"].",
                          ins.line, ins.column)

    def add_trigger(self, ins: Instruction) -> None:
        """Parse an ONBUILD's instruction like any other, so rules can judge what child builds will run."""
        if not ins.text.strip():
            return  # refused as ONBUILD without arguments
        word, rest = (ins.text.split(None, 1) + [""])[:2]
        keyword = word.upper()
        if keyword in _NOT_TRIGGERS:
            self.fail(f"ONBUILD {keyword} is not allowed: BuildKit refuses {keyword} as an ONBUILD trigger.",
                      ins.line, ins.column)
            return
        reason = trigger_refusal(keyword, rest.strip(), self.df.escape)
        if reason:
            self.fail(f"ONBUILD {keyword}: {reason}", ins.line, ins.column)
        if keyword not in KNOWN_INSTRUCTIONS or not rest.strip():
            return  # BuildKit stores such a trigger as text; it fails only in the child build
        trigger = self.instruction({"startline": ins.line - 1, "endline": ins.end_line - 1, "instruction": keyword,
                                    "value": rest})
        trigger.column, trigger.heredocs, trigger.stage = ins.column, [], ins.stage
        trigger.variables, trigger.workdir, trigger.shell = ins.variables, ins.workdir, ins.shell
        trigger.expanded = (Expander(ins.variables, self.df.escape, self.budget).expand(trigger.text)
                            if keyword in _EXPANDED else trigger.text)
        ins.trigger = trigger

    def args(self, ins: Instruction, variables: Mapping[str, str]) -> list[tuple[str, str | None]]:
        result: list[tuple[str, str | None]] = []
        for word in Expander(variables, self.df.escape, self.budget).words(ins.text):
            name, eq, value = word.partition("=")
            result.append((name, value if eq else None))
        return result

    def start_stage(self, ins: Instruction) -> None:
        if len(self.df.stages) >= Limits.DOCKERFILE_STAGES:
            raise LimitExceeded(self.df.path, "the number of stages", "DOCKERFILE_STAGES", Limits.DOCKERFILE_STAGES)
        global_values = self.global_scope.view()
        expander = Expander(global_values, self.df.escape, self.budget)
        ins.variables = global_values
        words = expander.words(ins.text)
        if len(words) not in (1, 3) or (len(words) == 3 and words[1].lower() != "as"):
            self.fail("FROM takes an image and optionally `AS name`.", ins.line, ins.column)
        base = words[0] if words else ""
        ins.expanded = " ".join(words)
        name = words[2].lower() if len(words) == 3 else None
        parent = next((s for s in reversed(self.df.stages) if s.name and s.name == base.lower()), None)
        reason = stage_problem(name, None if parent or "$" in ins.text.split()[0] else base) if words else None
        if reason:
            self.fail(reason, ins.line, ins.column)
        base_known, unresolved = not expander.missing, tuple(
            n for n in dict.fromkeys(expander.missing) if n not in AUTOMATIC_ARGS)
        platform = ins.flag("platform")
        stage = Stage(index=len(self.df.stages), name=name, from_instruction=ins, base=base, parent=parent,
                      platform=expander.expand(platform) if platform else None,
                      unresolved=unresolved, base_known=base_known)
        if parent is not None:
            self.inherited_left -= len(parent.env) + len(parent.labels)
            if self.inherited_left < 0:
                raise LimitExceeded(self.df.path, "the ENV and LABEL entries stages inherit from other stages",
                                    "DOCKERFILE_INHERITED_VARIABLES", Limits.DOCKERFILE_INHERITED_VARIABLES)
            stage.env = dict(parent.env)
            stage.labels = dict(parent.labels)
            stage.user, stage.user_instruction = parent.user, parent.user_instruction
            stage.workdir, stage.entrypoint, stage.cmd = parent.workdir, parent.entrypoint, parent.cmd
            stage.shell = parent.shell
        else:
            stage.shell = DEFAULT_SHELL
        ins.stage = stage.index
        self.df.stages.append(stage)
        self.stage, self.scope, self.cmd_set = stage, Scope(parent.env if parent else None), False


def _needed_stages(dockerfile: Dockerfile) -> set[int]:
    """The stages a default build runs: the last one and, transitively, the stages it is built FROM, copies from
    or mounts from (BuildKit expands words only in those)."""
    needed: set[int] = set()
    todo = dockerfile.stages[-1:]
    while todo:
        stage = todo.pop()
        if stage.index in needed:
            continue
        needed.add(stage.index)
        refs = [field.split("=", 1)[1] for ins in stage.instructions for value in ins.flags.get("mount", [])
                for field in value.split(",") if field.strip().lower().startswith("from=")]
        refs += [ref for ins in stage.instructions for ref in ins.flags.get("from", [])]
        todo += [found for found in (stage.parent, *map(dockerfile.stage_by_ref, refs)) if found is not None]
    return needed


def _column(line: str) -> int:
    return len(line) - len(line.lstrip()) + 1
