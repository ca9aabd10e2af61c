"""Inline suppression comments for Dockerfiles.

    # imagekit ignore=IK202,IK301 -- reason     the next instruction
    # imagekit stage ignore=IK109 -- reason     a stage: the one the next FROM starts, else the current one
    # imagekit global ignore=IK208 -- reason    the whole file
    # imagekit profile=serve                    choose the profile instead of inferring it

Findings about something *missing* are reported on the stage's FROM line, so an ignore above that FROM
silences them. A pragma that silences nothing, names an unknown rule or cannot be read is reported (IK299).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from imagekit.dockerfile.model import Dockerfile
from imagekit.lint.core import PROFILES, Finding, Problem, canonical

# Linear: every repetition is followed by a character it cannot match (padded pragmas took seconds with a
# lazy group before an optional tail).
_PRAGMA = re.compile(r"imagekit\s+(?:(stage|global)\s+)?([A-Za-z][\w-]*)\s*=(.*)", re.I | re.S)
_MENTION = re.compile(r"imagekit\b", re.I)
_CODE = re.compile(r"[A-Za-z0-9_]+")
_KEYS = ("ignore", "profile")
_USAGE = "expected `# imagekit [stage|global] ignore=IK123[,IK124] -- reason` or `# imagekit profile=serve`"


@dataclass
class Pragma:
    scope: str  # "line", "stage" or "global"
    codes: tuple[str, ...]  # current ids (an old id is redirected)
    line: int
    first: int  # lines covered, inclusive
    last: int
    reason: str = ""
    used: set[str] = field(default_factory=set)
    written: tuple[str, ...] = ()  # the ids as the comment spells them, for messages

    def shown(self, code: str) -> str:
        """*code* as the user wrote it: "IK523 (now IK107)" for a redirected old id."""
        old = next((w for w, c in zip(self.written, self.codes, strict=False) if c == code and w != code), None)
        return f"{old} (now {code})" if old else code

    def covers(self, finding: Finding) -> bool:
        line = finding.line or 0
        return finding.rule in self.codes and (self.scope == "global" or self.first <= line <= self.last)


@dataclass
class Pragmas:
    pragmas: list[Pragma]
    profile: str | None  # from `# imagekit profile=...`
    problems: list[Problem]  # unreadable pragmas


def read_pragmas(df: Dockerfile) -> Pragmas:
    result = Pragmas([], None, [])
    instructions = sorted(df.instructions, key=lambda i: i.line)
    last_line = max(len(df.lines), 1)
    for comment in df.comments:
        text = comment.text.strip()
        if not _MENTION.match(text):
            continue
        match = _PRAGMA.match(text)
        problem = _problem(text, match)
        if problem:
            result.problems.append(Problem(problem, comment.line, 1))
            continue
        assert match is not None
        if match.group(2).lower() == "profile":
            result.profile = match.group(3).strip().lower()
            continue
        scope = (match.group(1) or "line").lower()
        codes_text, _, reason = match.group(3).partition("--")
        written = tuple(c.upper() for c in codes_text.replace(",", " ").split())
        nxt = next((i for i in instructions if i.line > comment.line), None)
        if scope == "global":
            first, last = 1, last_line
        elif scope == "stage":
            first, last = _stage_range(df, comment.line, nxt.line if nxt and nxt.keyword == "FROM" else None, last_line)
        else:
            first, last = (nxt.line, nxt.end_line) if nxt else (0, -1)
        result.pragmas.append(Pragma(scope, tuple(map(canonical, written)), comment.line, first, last, reason.strip(),
                                     written=written))
    return result


def _problem(text: str, match: re.Match[str] | None) -> str:
    """Why a `# imagekit ...` comment is not a pragma we can apply ("" when it is): never silently ignored."""
    shown = repr(text if len(text) <= 80 else text[:77] + "...")
    if match is None:
        return f"Cannot read the pragma {shown}: {_USAGE}."
    import difflib  # only for a pragma that is wrong: not on every lint's import path

    scope, key, value = match.group(1), match.group(2).lower(), match.group(3)
    if key not in _KEYS:
        near = difflib.get_close_matches(key, _KEYS, n=1)
        return (f"The pragma {shown} has an unknown key {key!r}" + (f" (did you mean {near[0]!r}?)" if near else "")
                + f"; {_USAGE}.")
    if key == "profile":
        profile = value.strip().lower()
        if scope or profile not in (*PROFILES, "auto"):
            near = difflib.get_close_matches(profile, PROFILES, n=1)
            return (f"The pragma {shown} names no profile imagekit knows" + (f" (did you mean {near[0]!r}?)" if near
                                                                             else "")
                    + f"; use one of {', '.join(PROFILES)} or auto, without stage/global.")
        return ""
    codes = value.partition("--")[0].replace(",", " ").split()
    if not codes or not all(_CODE.fullmatch(code) for code in codes):
        return f"Cannot read the pragma {shown}: {_USAGE}."
    return ""


def _stage_range(df: Dockerfile, comment_line: int, next_from: int | None, last_line: int) -> tuple[int, int]:
    starts = [stage.line for stage in df.stages]
    start = next_from if next_from is not None else max((s for s in starts if s < comment_line), default=1)
    later = [s for s in starts if s > start]
    return start, (later[0] - 1 if later else last_line)


def apply_pragmas(findings: list[Finding], pragmas: Pragmas, *, known: set[str],
                  ran: set[str]) -> tuple[list[Finding], list[Problem]]:
    """Drop suppressed findings; return the rest plus problems about useless or unknown pragmas."""
    kept = []
    for finding in findings:
        hit = next((p for p in pragmas.pragmas if p.covers(finding)), None)
        if hit is None:
            kept.append(finding)
        else:
            hit.used.add(finding.rule)
    problems = list(pragmas.problems)
    for pragma in pragmas.pragmas:
        for code in pragma.codes:
            if code not in known:
                problems.append(Problem(f"The pragma names {code}, which is not an imagekit rule.", pragma.line, 1,
                                        fix="Correct the rule id (see `imagekit rules`) or remove it."))
            elif code in ran and code not in pragma.used:
                problems.append(Problem(f"The pragma ignores {pragma.shown(code)}, but {code} reports nothing here.",
                                        pragma.line, 1, fix="Remove the stale ignore."))
    return kept, problems
