"""Word splitting and variable expansion with BuildKit's rules for ENV, ARG, LABEL, FROM, COPY, WORKDIR...

Supports ``$V``, ``${V}``, ``${V:-word}``, ``${V-word}``, ``${V:+word}``, ``${V+word}``, single and double
quotes and the escape character. Unknown variables expand to "" as in Docker, but callers can ask which
names were missing (a ``FROM ${BASE}`` without a declared BASE is a finding, not a guess).
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Iterator, Mapping

from imagekit.contract import Limits
from imagekit.errors import LimitExceeded

_NAME_START = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_NAME_CHARS = _NAME_START | set("0123456789")


class ExpansionBudget:
    """Characters variable expansion may still produce for one file: `ENV A=$A$A` doubles per line, so a few
    hundred bytes could otherwise ask for gigabytes."""

    def __init__(self, where: str = "Dockerfile") -> None:
        self.where, self.left = where, Limits.EXPANSION_CHARS

    def charge(self, produced: int) -> None:
        self.left -= produced
        if self.left < 0:
            raise LimitExceeded(self.where, "the text variable expansion produces", "EXPANSION_CHARS",
                                Limits.EXPANSION_CHARS)


class Scope:
    """The ARG and ENV values of one stage (or of the global ARGs) as they change, shared by every instruction.

    Each instruction keeps a :meth:`view` at the version current when it ran, so memory grows with the number of
    assignments, not with instructions x variables. ENV beats ARG, as in BuildKit; *inherited* is the final ENV of
    the stage this one is built FROM (finished, so never changed again).
    """

    def __init__(self, inherited: Mapping[str, str] | None = None) -> None:
        self.version = 0
        self.inherited: Mapping[str, str] = inherited or {}
        self.env: dict[str, tuple[list[int], list[str | None]]] = {}
        self.args: dict[str, tuple[list[int], list[str | None]]] = {}

    def set_env(self, name: str, value: str) -> None:
        self._set(self.env, name, value)

    def set_arg(self, name: str, value: str | None) -> None:
        self._set(self.args, name, value)

    def _set(self, table: dict[str, tuple[list[int], list[str | None]]], name: str, value: str | None) -> None:
        self.version += 1
        versions, values = table.setdefault(name, ([], []))
        versions.append(self.version)
        values.append(value)

    def view(self) -> "ScopeView":
        return ScopeView(self, self.version)


class ScopeView(Mapping[str, str]):
    """The variables an instruction sees: a read-only mapping over a :class:`Scope` at one version."""

    __slots__ = ("_scope", "_version")

    def __init__(self, scope: Scope, version: int) -> None:
        self._scope, self._version = scope, version

    def _at(self, table: dict[str, tuple[list[int], list[str | None]]], name: str) -> tuple[bool, str | None]:
        history = table.get(name)
        if history is None:
            return False, None
        at = bisect_right(history[0], self._version) - 1
        return (True, history[1][at]) if at >= 0 else (False, None)

    def __getitem__(self, name: str) -> str:
        found, value = self._at(self._scope.env, name)
        if not found and name in self._scope.inherited:
            return self._scope.inherited[name]
        if not found:
            found, value = self._at(self._scope.args, name)
        if value is None:
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        names = dict.fromkeys([*self._scope.env, *self._scope.inherited, *self._scope.args])
        return (name for name in names if name in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None


class Expander:
    """Expands one text against *variables*; records names that were referenced but unset."""

    def __init__(self, variables: Mapping[str, str], escape: str = "\\", budget: ExpansionBudget | None = None,
                 depth: int = 0) -> None:
        self.variables = variables
        self.escape = escape
        self.missing: list[str] = []
        self._unquote = False
        self._budget = budget or ExpansionBudget()
        self._depth = depth
        if depth > Limits.EXPANSION_NESTING:
            raise LimitExceeded(self._budget.where, "the nesting of ${...} expansions", "EXPANSION_NESTING",
                                Limits.EXPANSION_NESTING)

    def expand(self, text: str) -> str:
        """Expand variables only; quotes are kept (used for image references and paths)."""
        return "".join(self._words(text, split=False, unquote=False)) if "$" in text else text

    def words(self, text: str) -> list[str]:
        """Split on unquoted whitespace, remove quotes and expand, like BuildKit's shell lexer."""
        return self._words(text, split=True, unquote=True)

    def _words(self, text: str, *, split: bool, unquote: bool) -> list[str]:
        self._unquote = unquote  # ${V:-"word"} removes the word's quotes when the whole text is unquoted
        words: list[str] = []
        current: list[str] = []
        in_word = False
        quote = ""
        i, n = 0, len(text)
        while i < n:
            ch = text[i]
            if ch == self.escape and quote != "'" and i + 1 < n:
                nxt = text[i + 1]
                if unquote:
                    if quote == '"' and nxt not in ('"', "$", self.escape):
                        current.append(ch)
                    current.append(nxt)
                else:
                    current.append(ch + nxt)
                in_word = True
                i += 2
                continue
            if ch in "'\"" and (not quote or quote == ch):
                quote = "" if quote else ch
                if not unquote:
                    current.append(ch)
                in_word = True
                i += 1
                continue
            if ch == "$" and quote != "'":
                value, i = self._variable(text, i)
                current.append(value)
                in_word = True
                continue
            if split and not quote and ch.isspace():
                if in_word:
                    words.append("".join(current))
                    current, in_word = [], False
                i += 1
                continue
            current.append(ch)
            in_word = True
            i += 1
        if in_word or not split:
            words.append("".join(current))
        return words

    def _variable(self, text: str, start: int) -> tuple[str, int]:
        """Expand the reference at text[start] == '$'; return (value, index after it)."""
        i = start + 1
        if i < len(text) and text[i] == "{":
            end = _matching_brace(text, i)
            if end < 0:
                return text[start:], len(text)
            return self._braced(text[i + 1:end]), end + 1
        j = i
        while j < len(text) and text[j] in _NAME_CHARS and (j > i or text[j] in _NAME_START):
            j += 1
        if j == i:
            return "$", i
        return self._lookup(text[i:j]), j

    def _braced(self, body: str) -> str:
        j = 0
        while j < len(body) and body[j] in _NAME_CHARS:
            j += 1
        name, rest = body[:j], body[j:]
        if not rest:
            return self._lookup(name)
        for op in (":-", ":+", "-", "+"):
            if rest.startswith(op):
                inner = Expander(self.variables, self.escape, self._budget, self._depth + 1)
                word = "".join(inner._words(rest[len(op):], split=False, unquote=self._unquote))
                value = self.variables.get(name)
                is_set = value is not None and (value != "" or ":" not in op)
                chosen = (value if is_set else word) if op.endswith("-") else (word if is_set else "")
                self._budget.charge(len(chosen))  # type: ignore[arg-type]
                return chosen  # type: ignore[return-value]
        return self._lookup(name)  # ${V#pat}, ${V%pat} and friends: BuildKit rejects most; keep the value

    def _lookup(self, name: str) -> str:
        value = self.variables.get(name)
        if value is None:
            self.missing.append(name)
            return ""
        self._budget.charge(len(value))
        return value


def _matching_brace(text: str, open_index: int) -> int:
    depth = 0
    for k in range(open_index, len(text)):
        if text[k] == "{":
            depth += 1
        elif text[k] == "}":
            depth -= 1
            if depth == 0:
                return k
    return -1


def key_values(text: str, variables: Mapping[str, str], escape: str = "\\",
               budget: ExpansionBudget | None = None) -> list[tuple[str, str]]:
    """Parse ``ENV``/``LABEL``/``ARG`` arguments: ``k=v k2="v 2"`` or the legacy ``KEY value`` form."""
    expander = Expander(variables, escape, budget)
    words = expander.words(text)
    if words and "=" not in words[0]:
        key, _, rest = text.strip().partition(" ")
        if not rest.strip():
            return [(key, "")]
        return [(Expander({}, escape).words(key)[0] if key else key, " ".join(expander.words(rest)))]
    pairs = []
    for word in words:
        key, _, value = word.partition("=")
        pairs.append((key, value))
    return pairs
