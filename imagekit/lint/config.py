"""Lint configuration: ``[tool.imagekit.lint]`` in pyproject.toml or ``lint:`` in .imagekit.yaml.

The nearest file walking up from the linted file's directory wins (in one directory .imagekit.yaml beats
pyproject.toml). Command-line flags override it. Only the file that exists is parsed, so the fast path
imports neither a YAML nor a TOML parser when there is no config.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from imagekit.contract import Limits
from imagekit.errors import ImagekitError, LimitExceeded
from imagekit.lint.core import PROFILES, Rule, Severity, canonical, rules_named
from imagekit.safe_io import read_regular
from imagekit.sizes import parse_size

YAML_NAMES = (".imagekit.yaml", ".imagekit.yml")
PROFILE_CHOICES = ("auto", *PROFILES)
FAIL_ON_CHOICES = ("error", "warning", "info", "style", "none")
_CODE = re.compile(r"^IK\d{3}$")
_KEYS = {"ignore", "severity", "trusted-registries", "profile", "fail-on", "options"}


@dataclass(frozen=True)
class LintConfig:
    """Everything policy-like; rules never see it except their own options."""

    severity: Mapping[str, Severity] = field(default_factory=dict)  # per-rule overrides
    ignored: frozenset[str] = frozenset()
    trusted_registries: tuple[str, ...] = ()  # globs such as "*.dkr.ecr.*.amazonaws.com"; empty: all trusted
    profile: str = "auto"
    fail_on: Severity | None = Severity.WARNING  # None: never fail
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # per-rule options
    source: str | None = None  # the file it came from, for messages

    def severity_of(self, rule: Rule) -> Severity:
        return self.severity.get(rule.code, rule.severity)

    def options_for(self, rule: Rule) -> dict[str, Any]:
        """The rule's option defaults with the config's values on top; a misspelt option is an error."""
        given = self.options.get(rule.code, {})
        where = f"{self.source or 'lint config'}: options.{rule.code}"
        unknown = sorted(set(given) - set(rule.options))
        if unknown:
            takes = ", ".join(rule.options) if rule.options else "no options"
            raise ImagekitError(f"{where}: unknown option(s) {', '.join(unknown)}.",
                                f"{rule.code} takes: {takes} (see docs/rules.md).")
        return {**rule.options, **{name: _option_value(value, rule.options[name], f"{where}.{name}")
                                   for name, value in given.items()}}

    def with_overrides(self, *, ignore: tuple[str, ...] = (), severity: Mapping[str, str] | None = None,
                       profile: str | None = None, fail_on: str | None = None) -> "LintConfig":
        """A copy with command-line flags applied on top (flags add ignores and override the rest)."""
        overrides = dict(self.severity)
        for code, level in (severity or {}).items():
            overrides[_code(code, "--severity")] = Severity.parse(level)
        ignored = {_code(c, "--ignore") for c in ignore}
        _require_rules(ignored, "--ignore")
        _require_rules(set(overrides) - set(self.severity), "--severity")
        return replace(
            self,
            ignored=self.ignored | ignored,
            severity=overrides,
            profile=_choice(profile, PROFILE_CHOICES, "--profile") if profile is not None else self.profile,
            fail_on=parse_fail_on(fail_on) if fail_on is not None else self.fail_on,
        )


def parse_fail_on(text: str) -> Severity | None:
    return None if _choice(text, FAIL_ON_CHOICES, "fail-on") == "none" else Severity.parse(text)


def load_config(start_dir: str | Path, explicit_path: str | Path | None = None) -> LintConfig:
    """The explicit file if given, else the nearest config above *start_dir*, else the defaults."""
    if explicit_path is not None:
        path = Path(explicit_path)
        if not path.is_file():
            raise ImagekitError(f"Config file {path} does not exist.", "Check the --config path.")
        data = _read(path)
        if data is None:
            raise ImagekitError(f"{path} has no imagekit lint settings.",
                                "Put them under [tool.imagekit.lint] (pyproject.toml) or lint: (.imagekit.yaml).")
        return _from_mapping(data, str(path))
    directory = Path(start_dir).resolve()
    for candidate_dir in (directory, *directory.parents):
        for name in (*YAML_NAMES, "pyproject.toml"):
            path = candidate_dir / name
            if path.is_file():
                data = _read(path)
                if data is not None:
                    return _from_mapping(data, str(path))
    return LintConfig()


def _read(path: Path) -> Mapping[str, Any] | None:
    """The lint section of *path*, or None when the file has none."""
    try:
        text = read_regular(path, "lint config", "YAML_BYTES").decode("utf-8", errors="replace")
    except OSError as error:
        raise ImagekitError(f"Cannot read the lint config {path}: {error.strerror or error}.",
                            "Check its permissions, or pass another file with --config.") from None
    if path.suffix == ".toml":
        if "imagekit" not in text.lower():
            return None  # cheap: no TOML parse for unrelated pyproject files
        document = _imagekit_table(_parse_toml(text, path), path)
        where = "[tool.imagekit]"
    else:
        document = _parse_yaml(text, path)
        where = "the top level"
    if document is None:
        return None
    if not isinstance(document, Mapping):
        raise ImagekitError(f"{path}: {where} must be a mapping with a `lint` key, not a "
                            f"{type(document).__name__}.", "See docs/lint.md for the layout.")
    misspelt = sorted(set(document) - {"lint"})
    if misspelt:  # a typo such as `lnt:` would otherwise leave the file silently unused
        raise ImagekitError(f"{path}: unknown key(s) {', '.join(map(str, misspelt))} in {where}.",
                            "imagekit reads only `lint` there; see docs/lint.md.")
    section = document.get("lint")
    if section is None:
        return None
    if not isinstance(section, Mapping):
        raise ImagekitError(f"{path}: the lint settings must be a table/mapping.", "See docs/lint.md.")
    return section


def _imagekit_table(data: Mapping[str, Any], path: Path) -> Any:
    """[tool.imagekit] of a pyproject.toml; a near miss ([tool.imagekit-lint], [tools.imagekit.lint],
    [imagekit.lint], `tool = "imagekit"`) is an error, since a silently unused config is worse than none."""
    tool = data.get("tool", {})
    if not isinstance(tool, Mapping):
        raise ImagekitError(f"{path}: `tool` must be a table ([tool.imagekit.lint]), not a {type(tool).__name__}.",
                            "Write the settings under [tool.imagekit.lint]; see docs/lint.md.")
    near = [f"[{name}]" for name in data if name != "tool" and _mentions_imagekit(name, data[name])]
    near += [f"[tool.{name}]" for name in tool if name != "imagekit" and _mentions_imagekit(name, tool[name])]
    if near:
        raise ImagekitError(f"{path}: {', '.join(near)} is not read by imagekit (did you mean [tool.imagekit.lint]?).",
                            "Rename the table to [tool.imagekit.lint]; see docs/lint.md.")
    return tool.get("imagekit")


def _mentions_imagekit(name: str, value: Any) -> bool:
    squeezed = re.sub(r"[^a-z]", "", name.lower())
    return "imagekit" in squeezed or squeezed in ("tool", "tools") and isinstance(value, Mapping) and any(
        "imagekit" in re.sub(r"[^a-z]", "", str(key).lower()) for key in value)


def _parse_toml(text: str, path: Path) -> dict[str, Any]:
    try:
        import tomllib  # Python >= 3.11
    except ImportError:  # pragma: no cover - Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ImportError:
            raise ImagekitError(f"Reading {path} on Python 3.10 needs the tomli package.",
                                "pip install tomli, or move the settings to .imagekit.yaml.") from None
    from imagekit.documents import check_document

    try:
        document = tomllib.loads(text)
    except RecursionError:
        raise LimitExceeded(str(path), "the nesting of this TOML file", "DOCUMENT_DEPTH",
                            Limits.DOCUMENT_DEPTH) from None
    except (tomllib.TOMLDecodeError, ValueError) as error:  # ValueError: an integer of thousands of digits
        raise ImagekitError(f"{path} is not valid TOML: {error}.", "Fix the file or pass --config.") from None
    check_document(document, str(path))
    return document


def _parse_yaml(text: str, path: Path) -> Any:
    from ruamel.yaml.error import YAMLError

    from imagekit.documents import load_yaml

    try:
        return load_yaml(text, path, "safe")
    except (YAMLError, ValueError) as error:  # ValueError: an integer of thousands of digits
        raise ImagekitError(f"{path} is not valid YAML: {error}.", "Fix the file or pass --config.") from None


def _from_mapping(data: Mapping[str, Any], source: str) -> LintConfig:
    try:
        return _with_known_rules(_validated(data, source))
    except ImagekitError as error:
        if error.message.startswith(source):
            raise
        raise ImagekitError(f"{source}: {error.message}", error.hint) from None


def _validated(data: Mapping[str, Any], source: str) -> LintConfig:
    unknown = set(data) - _KEYS
    if unknown:
        raise ImagekitError(f"{source}: unknown lint setting(s) {', '.join(sorted(unknown))}.",
                            f"Known settings: {', '.join(sorted(_KEYS))}.")
    where = f"{source}: "
    ignored = frozenset(_code(c, where + "ignore") for c in _list(data.get("ignore", []), where + "ignore"))
    severity_table = data.get("severity", {})
    if not isinstance(severity_table, Mapping):
        raise ImagekitError(f"{where}severity must map rule ids to levels.", 'e.g. severity = { IK202 = "error" }')
    severity = {_code(code, where + "severity"): Severity.parse(str(level)) for code, level in severity_table.items()}
    options = data.get("options", {})
    if not isinstance(options, Mapping) or not all(isinstance(v, Mapping) for v in options.values()):
        raise ImagekitError(f"{where}options must map rule ids to tables of options.", "See docs/lint.md.")
    return LintConfig(
        severity=severity,
        ignored=ignored,
        trusted_registries=tuple(_list(data.get("trusted-registries", []), where + "trusted-registries")),
        profile=_choice(_text(data.get("profile", "auto"), where + "profile"), PROFILE_CHOICES, where + "profile"),
        fail_on=parse_fail_on(_text(data["fail-on"], where + "fail-on")) if "fail-on" in data else Severity.WARNING,
        options={_code(code, where + "options"): dict(value) for code, value in options.items()},
        source=source,
    )


def _with_known_rules(config: LintConfig) -> LintConfig:
    """*config* after checking every rule id and option it names: a typo would silently do nothing, and
    a rule that does not run on this file would never look at its options."""
    where = f"{config.source}: "
    _require_rules(set(config.ignored), where + "ignore")
    _require_rules(set(config.severity), where + "severity")
    for rule in _require_rules(set(config.options), where + "options"):
        config.options_for(rule)
    return config


def _require_rules(codes: set[str], what: str) -> list[Rule]:
    """The rules with these ids; an id no rule has is an error."""
    found = rules_named(codes)
    unknown = codes - set(found)
    if unknown:
        raise ImagekitError(f"{what}: there is no rule {', '.join(sorted(unknown))}.",
                            "`imagekit rules` lists every rule id.")
    return list(found.values())


def _option_value(value: Any, default: Any, what: str) -> Any:
    """A configured option checked against the type of its default; byte counts may be written as 2GB."""
    if isinstance(default, (tuple, list)):
        return tuple(_list(list(value) if isinstance(value, tuple) else value, what))
    if default is None or isinstance(default, int):
        if value is None and default is None:  # the rule's own "not set" (e.g. no size budget)
            return None
        whole = (isinstance(value, int) and not isinstance(value, bool)
                 or isinstance(value, float) and value.is_integer())
        if whole and value >= 0:
            return int(value)  # TOML and YAML read 1e9 as a float
        if isinstance(value, str):
            try:
                return parse_size(value.strip())
            except ImagekitError:
                pass
        raise ImagekitError(f"{what}: {value!r} is not a byte count.", "Write a whole number of bytes or a size "
                            "such as 500MB or 2GiB.")
    return value


def _text(value: Any, what: str) -> str:
    """A setting that must be written out: `fail-on:` with no value is a mistake, not "never fail"."""
    if not isinstance(value, str):
        raise ImagekitError(f"{what} needs a text value, not {'nothing' if value is None else repr(value)}.",
                            "See docs/lint.md for the choices.")
    return value


def _list(value: Any, what: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ImagekitError(f"{what} must be a list of strings.", "See docs/lint.md.")
    return value


def _code(code: str, what: str) -> str:
    """The rule id as the linters know it: upper-cased, an old id redirected to the current one."""
    normalised = str(code).strip().upper()
    if not _CODE.match(normalised):
        raise ImagekitError(f"{what}: {code!r} is not a rule id.", "Rule ids look like IK101; see `imagekit rules`.")
    return canonical(normalised)


def _choice(value: str, choices: tuple[str, ...], what: str) -> str:
    normalised = value.strip().lower()
    if normalised not in choices:
        raise ImagekitError(f"{what}: {value!r} is not one of {', '.join(choices)}.", "")
    return normalised
