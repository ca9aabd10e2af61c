"""Just enough shell to read RUN lines: split a script into simple commands and their separators.

This is no ShellCheck: it tokenises like POSIX sh (quotes, ``&&``, ``||``, ``|``, ``;``, newlines), drops
redirections and leading ``VAR=value`` assignments, and never fails (unbalanced quotes fall back to
whitespace splitting), which is what rules about apt, pip, curl and friends need; a redirection's target is
kept apart from the words (`> /usr/local/bin/serve` writes that file). It also knows what
``sh -c SCRIPT [ARG0 ARG...]`` does with the words after the script (both linters judge such ENTRYPOINTs).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

_SEPARATORS = frozenset({"&&", "||", "|", ";", "&", ";;", "(", ")", "|&"})
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_WRAPPERS = frozenset({"sudo", "exec", "time", "nohup", "env", "command", "xargs"})
SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh"})


@dataclass(frozen=True)
class Command:
    argv: tuple[str, ...]  # without leading assignments and wrappers such as sudo/env
    separator: str  # what follows: "&&", "||", "|", ";", "&" or "" at the end
    assignments: tuple[str, ...] = ()
    wrappers: tuple[str, ...] = ()
    redirects: tuple[str, ...] = ()  # targets of `>`, `>>`, `<`... (`2>&1` gives "1")

    @property
    def program(self) -> str:
        return self.argv[0].rsplit("/", 1)[-1] if self.argv else ""

    @property
    def piped(self) -> bool:
        return self.separator in ("|", "|&")

    def has(self, *words: str) -> bool:
        return any(word in self.argv for word in words)


@lru_cache(maxsize=8192)
def split_commands(script: str) -> tuple[Command, ...]:
    """All simple commands of *script*, in order (sub-shells and ``$(...)`` are not entered)."""
    commands: list[Command] = []
    for chunk in re.sub(r"\\\n", " ", script).split("\n"):
        if chunk.strip():
            commands.extend(_split_line(chunk))
    return tuple(commands)


def _tokens(line: str) -> list[str]:
    line = re.sub(r"(?<![\w$])\d+(?=[<>])", "", line)  # 2>&1 -> >&1: file descriptors are not words
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()<>")
    lexer.whitespace_split = True
    try:
        return list(lexer)
    except ValueError:  # unbalanced quotes: good enough for the rules
        return line.split()


def _split_line(line: str) -> list[Command]:
    commands: list[Command] = []
    words: list[str] = []
    redirects: list[str] = []
    redirecting = False
    for token in _tokens(line):
        if redirecting:
            redirecting = False
            redirects.append(token)
            continue
        if token in _SEPARATORS:
            commands.append(_command(words, token, redirects))
            words, redirects = [], []
        elif set(token) <= set("<>&|"):
            redirecting = True  # a redirection: its target is the next token
        else:
            words.append(token)
    if words:
        commands.append(_command(words, "", redirects))
    return [c for c in commands if c.argv]


def _command(words: list[str], separator: str, redirects: list[str]) -> Command:
    i = 0
    assignments: list[str] = []
    wrappers: list[str] = []
    while i < len(words):
        word = words[i]
        if _ASSIGNMENT.match(word):
            assignments.append(word)
        elif word in _WRAPPERS:
            wrappers.append(word)
        elif word.startswith("-") and wrappers:  # options of sudo/env (sudo -E, env -i)
            pass
        else:
            break
        i += 1
    return Command(tuple(words[i:]), separator, tuple(assignments), tuple(wrappers), tuple(redirects))


def shell_c_drops_arguments(argv: Sequence[str]) -> bool:
    """True when *argv* is ``sh -c SCRIPT ...`` whose script never sees a word appended to *argv*.

    ``sh -c SCRIPT`` makes the first word after the script ``$0`` and the rest ``$1``...; so
    ``["sh", "-c", "exec app \"$@\"", "--"]`` passes an appended ``train`` on (it is ``$1``), while
    ``["sh", "-c", "python -m app"]`` loses it. A shell without ``-c`` runs a script file with the arguments.
    """
    script = _c_script_index(argv)
    if script is None:
        return False
    position = len(argv) - script - 1  # the appended word becomes $position
    text = argv[script]
    if position and re.search(r"\$\{?[@*]", text):
        return False
    digit = rf"{position}|\{{{position}(?!\d)" if position < 10 else rf"\{{{position}(?!\d)"  # $10 is ${1}0
    return not re.search(rf"\$({digit})", text)


def shell_c_stays_pid1(argv: Sequence[str]) -> bool:
    """True when *argv* is ``sh -c SCRIPT ...`` whose last command is not ``exec``-ed: the shell stays PID 1
    and SIGTERM never reaches the program. (dash, Debian's sh, does not exec a lone last command by itself.)"""
    script = _c_script_index(argv)
    if script is None:
        return False
    commands = split_commands(argv[script])
    return not commands or "exec" not in commands[-1].wrappers


def _c_script_index(argv: Sequence[str]) -> int | None:
    """Index of the command string of a shell started with ``-c``, else None."""
    if not argv or argv[0].rsplit("/", 1)[-1] not in SHELLS:
        return None
    i, command = 1, False
    while i < len(argv) and argv[i][:1] in ("-", "+") and argv[i] not in ("-", "--"):
        word = argv[i]
        if not word.startswith("--"):
            command = command or "c" in word[1:]
            if word[-1] in "oO":
                i += 1  # -o pipefail, -euo pipefail: the option name follows
        i += 1
    if i < len(argv) and argv[i] == "--":
        i += 1
    return i if command and i < len(argv) else None
