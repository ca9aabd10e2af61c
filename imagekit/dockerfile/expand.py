"""Word splitting and variable expansion with BuildKit's rules for ENV, ARG, LABEL, FROM, COPY, WORKDIR...

Supports ``$V``, ``${V}``, ``${V:-word}``, ``${V-word}``, ``${V:+word}``, ``${V+word}``, single and double
quotes and the escape character. Unknown variables expand to "" as in Docker, but callers can ask which
names were missing (a ``FROM ${BASE}`` without a declared BASE is a finding, not a guess).
"""

from __future__ import annotations

from typing import Mapping

_NAME_START = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_NAME_CHARS = _NAME_START | set("0123456789")


class Expander:
    """Expands one text against *variables*; records names that were referenced but unset."""

    def __init__(self, variables: Mapping[str, str], escape: str = "\\") -> None:
        self.variables = variables
        self.escape = escape
        self.missing: list[str] = []
        self._unquote = False

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
                inner = Expander(self.variables, self.escape)
                word = "".join(inner._words(rest[len(op):], split=False, unquote=self._unquote))
                value = self.variables.get(name)
                is_set = value is not None and (value != "" or ":" not in op)
                if op.endswith("-"):
                    return value if is_set else word  # type: ignore[return-value]
                return word if is_set else ""
        return self._lookup(name)  # ${V#pat}, ${V%pat} and friends: BuildKit rejects most; keep the value

    def _lookup(self, name: str) -> str:
        value = self.variables.get(name)
        if value is None:
            self.missing.append(name)
            return ""
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


def key_values(text: str, variables: Mapping[str, str], escape: str = "\\") -> list[tuple[str, str]]:
    """Parse ``ENV``/``LABEL``/``ARG`` arguments: ``k=v k2="v 2"`` or the legacy ``KEY value`` form."""
    expander = Expander(variables, escape)
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
