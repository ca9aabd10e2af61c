"""Instruction arguments BuildKit refuses, with its reason: the checks of its dockerfile frontend
(moby/buildkit frontend/dockerfile/instructions/parse.go, bflag.go, parser/line_parsers.go, shell/lex.go, and
the dispatch-time EXPOSE/STOPSIGNAL/RUN --mount checks of dockerfile2llb), checked against `docker build`.
``refusal`` is what BuildKit refuses in any stage; ``dispatch_refusal`` what it refuses only in a stage it builds.

Values that use a variable are left alone: BuildKit judges them after expansion, with build args this
linter cannot know (an unclosed quote or ``${`` fails whatever their values).
"""

from __future__ import annotations

import ipaddress
import re

from imagekit.dockerfile.model import Instruction

_WHITESPACE = re.compile(r"[\t\v\f\r ]+")  # BuildKit's reWhitespace
# The options each instruction takes, by kind (a repeated one may be given many times).
_STRING, _BOOL, _REPEATED = "string", "bool", "repeated"
_OPTIONS: dict[str, dict[str, str]] = {
    "RUN": {"mount": _REPEATED, "network": _STRING, "security": _STRING, "device": _REPEATED},
    "COPY": {"chown": _STRING, "from": _STRING, "chmod": _STRING, "link": _BOOL, "exclude": _REPEATED,
             "parents": _BOOL},
    "ADD": {"chown": _STRING, "chmod": _STRING, "link": _BOOL, "keep-git-dir": _BOOL, "checksum": _STRING,
            "unpack": _BOOL, "exclude": _REPEATED},
    "FROM": {"platform": _STRING},
    "HEALTHCHECK": {"interval": _STRING, "timeout": _STRING, "start-period": _STRING, "start-interval": _STRING,
                    "retries": _STRING},
}
_FLAGS_DROPPED = frozenset({"ARG", "STOPSIGNAL"})  # BuildKit drops their --words without judging them
_EXACTLY_ONE = frozenset({"USER", "WORKDIR", "MAINTAINER", "STOPSIGNAL"})
_AT_LEAST_ONE = frozenset({"EXPOSE", "VOLUME", "LABEL", "ARG", "ENV", "HEALTHCHECK", "ONBUILD", "SHELL"})
_MOUNT_TYPES = ("bind", "cache", "tmpfs", "secret", "ssh")
_RUN_MODES = {"network": ("default", "none", "host"), "security": ("sandbox", "insecure")}
_PROTOCOLS = ("tcp", "udp", "sctp")
_SIGNALS = frozenset(
    "ABRT ALRM BUS CHLD CLD CONT FPE HUP ILL INT IO IOT KILL PIPE POLL PROF PWR QUIT SEGV STKFLT STOP SYS TERM "
    "TRAP TSTP TTIN TTOU URG USR1 USR2 VTALRM WINCH XCPU XFSZ RTMIN RTMAX".split()
    + [f"RTMIN+{n}" for n in range(1, 16)] + [f"RTMAX-{n}" for n in range(1, 15)]
)
_VARIABLE = re.compile(r"\$[{A-Za-z0-9_]")  # what BuildKit's lexer expands (a lone or trailing $ stays)
_HEREDOC_WORD = re.compile(r"\d*<<-?([\"']?)[^\s<>\"'|;&()]+\1")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def refusal(ins: Instruction, arguments: str, escape: str) -> str | None:
    """Why BuildKit refuses *ins*, whose text after the keyword is *arguments* (BuildKit's words where they
    explain it), or None."""
    flags, args = builder_flags(arguments)
    if ins.keyword == "FROM":
        return _flag_problem(ins.keyword, flags, args)  # its words are judged with the stage (parser)
    if ins.keyword not in _FLAGS_DROPPED:
        reason = _flag_problem(ins.keyword, flags, args)
        if reason:
            return reason
    if not args:
        if ins.keyword in _EXACTLY_ONE:
            return f"{ins.keyword} requires exactly one argument."
        if ins.keyword in _AT_LEAST_ONE:
            return f"{ins.keyword} requires at least one argument."
        if ins.keyword in ("COPY", "ADD"):
            return _no_destination(ins.keyword)
        return None
    check = _CHECKS.get(ins.keyword)
    return check(ins, args, flags, escape) if check else None


def dispatch_refusal(ins: Instruction, arguments: str, escape: str) -> str | None:
    """Why BuildKit refuses *ins* when it builds its stage (it expands words and reads EXPOSE and STOPSIGNAL only
    for the stages the build needs), or None."""
    _, args = builder_flags(arguments)
    if not args:
        return None  # refused at parse time already
    check = _DISPATCH_CHECKS.get(ins.keyword)
    return (check(ins, args, [], escape) if check else None) or _expansion_problem(ins, args, escape)


_STAGE_NAME = re.compile(r"[a-z][a-z0-9_.-]*")
_DOMAIN = re.compile(r"[a-zA-Z0-9.-]+(?::\d+)?|\[[0-9a-fA-F:.]+\](?::\d+)?")


def stage_problem(name: str | None, base: str | None) -> str | None:
    """Why BuildKit refuses a FROM's stage *name* (lower-cased) or its variable-free *base* image reference
    (None when it names an earlier stage or uses a variable), or None."""
    if name is not None and not _STAGE_NAME.fullmatch(name):
        return (f"Invalid name for build stage: {name!r}, name can't start with a number or contain symbols "
                "(use letters, digits, '-', '_' and '.', starting with a letter).")
    if base and base != "scratch":
        repository = base.split("@", 1)[0]
        first, slash, rest = repository.partition("/")
        if slash and (_DOMAIN.fullmatch(first) and ("." in first or ":" in first or first == "localhost")):
            repository = rest  # a registry host may have capitals; the path may not
        repository = repository.rsplit(":", 1)[0] if ":" in repository.rsplit("/", 1)[-1] else repository
        if repository != repository.lower():
            return (f"Invalid image reference {base!r}: repository name must be lowercase (\"invalid reference "
                    "format\").")
    return None


def builder_flags(text: str) -> tuple[list[str], str]:
    """The leading ``--name[=value]`` words and the rest, split where BuildKit splits them (a ``--`` word ends
    the options)."""
    flags: list[str] = []
    rest = text.lstrip()
    while rest.startswith("--"):
        match = re.match(r"(?:[^\s\"']|\"[^\"]*\"|'[^']*')*", rest)
        word = match.group(0) if match else rest
        rest = rest[len(word):].lstrip()
        if word == "--":
            break
        flags.append(word.replace('"', "").replace("'", ""))
    return flags, rest.strip()


def _flag_problem(keyword: str, flags: list[str], args: str) -> str | None:
    if keyword == "HEALTHCHECK" and _WHITESPACE.split(args, 1)[0].upper() == "NONE":
        return None  # HEALTHCHECK NONE never reads its options
    known = _OPTIONS.get(keyword, {})
    seen: set[str] = set()
    for flag in flags:
        name, eq, value = flag[2:].partition("=")
        kind = known.get(name)
        if kind is None:
            offered = ", ".join(f"--{option}" for option in known) or "no options"
            return f"Unknown flag --{name}: {keyword} takes {offered}."
        if name in seen and kind != _REPEATED:
            return f"Duplicate flag --{name}: {keyword} takes it once."
        seen.add(name)
        if kind == _BOOL and (eq and value.lower() not in ("true", "false")):
            return f"--{name} takes true or false, not {value!r}."
        if kind != _BOOL and not eq:
            return f"Missing a value on flag --{name} (write --{name}=VALUE)."
    return None


def _no_destination(keyword: str) -> str:
    return (f"{keyword} requires at least two arguments, but only one was provided: the destination could not be "
            "determined.")


def _copy(ins: Instruction, args: str, flags: list[str], escape: str) -> str | None:
    words = ins.exec_form if ins.exec_form is not None else _WHITESPACE.split(args)
    if len(words) < 2:
        return _no_destination(ins.keyword)
    if ins.heredocs and _HEREDOC_WORD.fullmatch(words[-1]):
        return f"{ins.keyword} cannot accept a heredoc as a destination ({words[-1]}): name a path last."
    for flag in flags:
        if flag.startswith("--from=") and _VARIABLE.search(flag):
            return (f"{flag}: variable expansion is not supported for --from. Define a stage with `ARG` before the "
                    "first FROM and `FROM ${VAR} AS name`, then copy --from=name.")
    return None


def _volume(ins: Instruction, args: str, flags: list[str], escape: str) -> str | None:
    paths = ins.exec_form if ins.exec_form is not None else _WHITESPACE.split(args)
    if not paths:
        return "VOLUME requires at least one argument."
    if any(not path.strip() for path in paths):
        return "VOLUME specified can not be an empty string."
    return None


def _name_values(ins: Instruction, args: str, flags: list[str], escape: str) -> str | None:
    return trigger_refusal(ins.keyword, args, escape) or (f"{ins.keyword} requires at least one argument."
                                                          if not _words(args, escape) else None)


def trigger_refusal(keyword: str, args: str, escape: str) -> str | None:
    """What BuildKit's line parser refuses in an ENV or LABEL, also as an ONBUILD trigger (it parses those at
    once): `NAME value` (legacy, one pair) or any number of `NAME=value` words."""
    if keyword not in ("ENV", "LABEL"):
        return None
    words = _words(args, escape)
    if not words:
        return None
    if "=" not in words[0]:
        if len(_WHITESPACE.split(args, 1)) < 2:
            return f"{keyword} must have two arguments (a name and a value: {keyword} NAME=value)."
        return None
    for word in words:
        if "=" not in word:
            return f"Syntax error - can't find = in {word!r}. Must be of the form: name=value."
        if not word.split("=", 1)[0]:
            return f"{keyword} names can not be blank ({word!r})."
    return None


def _arg(ins: Instruction, args: str, flags: list[str], escape: str) -> str | None:
    for word in _words(args, escape):
        if "=" in word and not word.split("=", 1)[0]:
            return f"ARG names can not be blank ({word!r})."
    return None


def _healthcheck(ins: Instruction, args: str, flags: list[str], escape: str) -> str | None:
    kind, command = (_WHITESPACE.split(args, 1) + [""])[:2]
    kind = kind.upper()
    if kind == "NONE":
        return "HEALTHCHECK NONE takes no arguments." if command else None
    if kind != "CMD":
        return f"Unknown type {kind!r} in HEALTHCHECK (try CMD)."
    if not command or command.replace(" ", "") == "[]":
        return "Missing command after HEALTHCHECK CMD."
    for flag in flags:  # not expanded: BuildKit reads "$I" as it is
        name, _, value = flag[2:].partition("=")
        if name == "retries":
            if value and not (re.fullmatch(r"[+-]?\d+", value) and 0 <= int(value) < 1 << 31):  # "" is "not set"
                return f"--retries={value} is not a count of retries (a whole number, 0 or more)."
        else:
            seconds = _duration(value)
            if seconds is None:
                return f"--{name}={value} is not a duration (write e.g. 30s or 1m30s)."
            if seconds != 0 and seconds < 1e-3:  # BuildKit: 0 means "default", anything else is at least 1ms
                return f"--{name}={value}: an interval cannot be less than 1ms (nor negative)."
    return None


def _duration(text: str) -> float | None:
    """Go's time.ParseDuration: ``1h30m``, ``.5s``, ``-2ms`` or ``0``; None when it refuses the text."""
    sign, body = (-1, text[1:]) if text[:1] == "-" else (1, text[1:] if text[:1] == "+" else text)
    if body == "0" or text == "":
        return 0.0
    total, position = 0.0, 0
    for match in _DURATION_PART.finditer(body):
        if match.start() != position:
            return None
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        position = match.end()
    return sign * total if body and position == len(body) else None


def _expose(ins: Instruction, args: str, flags: list[str], escape: str) -> str | None:
    for spec in _WHITESPACE.split(_unquoted(args)):
        if "$" not in spec:
            reason = _port_problem(spec)
            if reason:
                return f"EXPOSE {spec}: {reason}."
    return None


def _port_problem(spec: str) -> str | None:
    """BuildKit's port spec `[[ip:]hostPort:]containerPort[-end][/proto]`, as EXPOSE reads it (an IPv6 address
    keeps its colons, with or without brackets)."""
    parts = spec.split(":")
    ip, host, container = ":".join(parts[:-2]), (parts[-2] if len(parts) > 1 else ""), parts[-1]
    port, _, protocol = container.partition("/")
    if not port:
        return "no port specified"
    if protocol.lower() not in ("", *_PROTOCOLS):
        return f"invalid protocol {protocol!r} (tcp, udp or sctp)"
    if ip and not _is_ip(ip.removeprefix("[").removesuffix("]")):
        return f"invalid IP address {ip!r}"
    ranges: dict[str, tuple[int, int] | None] = {}
    for label, ports in (("container port", port), ("host port", host)):
        ranges[label] = _port_range(ports) if ports else (0, 0)
        if ranges[label] is None:
            return f"invalid {label} {ports!r} (a number from 0 to 65535, or a range like 8000-8010)"
    (low, high), (host_low, host_high) = ranges["container port"], ranges["host port"]
    if host and high != low and high - low != host_high - host_low:
        return f"the container ports {port} and the host ports {host} are ranges of different lengths"
    return None


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _port_range(text: str) -> tuple[int, int] | None:
    start, dash, end = text.partition("-")
    numbers = [start] + ([end] if dash and end != start else [])
    if not all(n.isascii() and n.isdigit() and len(n) < 9 and int(n) <= 65535 for n in numbers):
        return None
    low, high = int(numbers[0]), int(numbers[-1])
    return (low, high) if low <= high else None


def _stopsignal(ins: Instruction, args: str, flags: list[str], escape: str) -> str | None:
    args = _unquoted(args)
    if "$" in args:
        return None
    if re.fullmatch(r"[+-]?\d+", args):
        return f"Invalid signal: {args} (a signal number is not 0)." if int(args) == 0 else None
    name = args.upper().removeprefix("SIG")
    if name not in _SIGNALS:
        return f"Invalid signal: {args} (use a name like SIGTERM or SIGINT, or a number)."
    return None


def _unquoted(text: str) -> str:
    """EXPOSE and STOPSIGNAL words as BuildKit expands them: quotes removed."""
    return text.replace('"', "").replace("'", "")


def _run(ins: Instruction, args: str, flags: list[str], escape: str) -> str | None:
    for flag in flags:
        name, _, value = flag[2:].partition("=")
        allowed = _RUN_MODES.get(name)  # read as written: BuildKit does not expand these two
        if allowed and value not in allowed:
            return f"Invalid --{name} mode {value!r}: RUN takes --{name}={' or '.join(allowed)}."
        if name == "mount" and re.search(r"(?:^|,)\s*from=[^,]*\$[^,]", value):
            return (f"--mount={value}: 'from' doesn't support variable expansion; define a stage (FROM ... AS name) "
                    "and mount from=name.")
        for field in value.split(",") if name == "mount" and "$" not in value else ():
            key, eq, kind = field.partition("=")
            if eq and key.strip().lower() == "type" and kind.lower() not in _MOUNT_TYPES:
                return f"Unsupported mount type {kind!r}: --mount takes type={', '.join(_MOUNT_TYPES)}."
    return None


def _expansion_problem(ins: Instruction, args: str, escape: str) -> str | None:
    """BuildKit expands the words of these instructions with its shell lexer whatever the build args, and
    refuses an unclosed quote or ``${`` there (RUN, CMD and ENTRYPOINT go to the shell untouched)."""
    keyword = ins.keyword
    if keyword in ("WORKDIR", "USER", "STOPSIGNAL"):
        words = [args]
    elif keyword in ("COPY", "ADD", "EXPOSE", "VOLUME") and ins.exec_form is None:
        words = _WHITESPACE.split(args)
    elif keyword in ("ENV", "LABEL", "ARG"):
        name_values = _words(args, escape)
        if keyword != "ARG" and name_values and "=" not in name_values[0]:
            words = _WHITESPACE.split(args, 1)  # legacy `ENV NAME value`: the value is one word
        else:  # BuildKit splits each word at its first "=" before expanding name and value
            words = [part for word in name_values for part in word.split("=", 1)]
    else:
        return None
    for word in words:
        missing = _unclosed(word, escape)
        if missing:
            shown = word if len(word) <= 60 else word[:57] + "..."
            return (f"Unclosed {missing} in {shown!r}: BuildKit stops with {_UNCLOSED[missing]}. Close it, or escape "
                    f"it with {escape}.")
    return None


_UNCLOSED = {'"': '"unexpected end of statement while looking for matching double-quote"',
             "'": '"unexpected end of statement while looking for matching single-quote"',
             "${": "\"missing ':' in substitution\" (newer BuildKit: \"syntax error: missing '}'\")"}


def _unclosed(text: str, escape: str) -> str:
    """What BuildKit's shell lexer (frontend/dockerfile/shell/lex.go) finds unclosed at the end of *text*: "" or
    ``"``, ``'`` or ``${`` (an unclosed ``${`` wins over a quote inside it, as there). Iterative: a line may
    open thousands of ``${``."""
    open_: list[str] = []  # the ``"`` and ``${`` still open, innermost last
    i = 0
    while i < len(text):
        ch, inner = text[i], (open_[-1] if open_ else "")
        if inner == '"' and ch == '"' or inner == "${" and ch == "}":
            open_.pop()
            i += 1
        elif ch == "$" and text[i + 1:i + 2] == "{":
            i += 2
            while i < len(text) and (text[i].isalnum() or text[i] == "_"):
                i += 1
            i += 2 if text[i:i + 1] == ":" else 0  # the modifier is taken as it is
            open_.append("${")
        elif inner == '"':
            i += 2 if ch == escape and text[i + 1:i + 2] in ('"', "$", escape) else 1
        elif ch == "'":
            close = text.find("'", i + 1)
            if close < 0:
                return "${" if "${" in open_ else "'"
            i = close + 1
        elif ch == '"':
            open_.append('"')
            i += 1
        else:
            i += 2 if ch == escape else 1
    return "${" if "${" in open_ else "".join(open_[-1:])


def _words(text: str, escape: str) -> list[str]:
    """BuildKit's parseWords: whitespace-separated words, quotes kept, the escape character protecting the next
    character (not inside single quotes)."""
    words: list[str] = []
    word: list[str] = []
    quote = ""
    blank_ok = False
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = ""
            elif ch == escape and quote != "'" and i + 1 < len(text):
                word.append(ch)
                i += 1
                ch = text[i]
            word.append(ch)
        elif ch.isspace():
            if word or blank_ok:
                words.append("".join(word))
            word, blank_ok = [], False
        else:
            if ch in "'\"":
                quote, blank_ok = ch, True
            elif ch == escape and i + 1 < len(text):
                word.append(ch)
                i += 1
                ch = text[i]
            word.append(ch)
        i += 1
    if word or blank_ok:
        words.append("".join(word))
    return words


_CHECKS = {"COPY": _copy, "ADD": _copy, "VOLUME": _volume, "ENV": _name_values, "LABEL": _name_values,
           "ARG": _arg, "HEALTHCHECK": _healthcheck, "RUN": _run}
_DISPATCH_CHECKS = {"EXPOSE": _expose, "STOPSIGNAL": _stopsignal}
