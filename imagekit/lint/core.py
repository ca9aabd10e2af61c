"""The small core both linters share: severities, findings, rule metadata and the rule registry.

A rule is one module under ``imagekit/lint/rules/<target>/`` that defines ``RULE = Rule(...)``. Rules
never see configuration files, pragmas or output formats; the lint drivers apply those centrally.
"""

from __future__ import annotations

import enum
import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

if TYPE_CHECKING:
    from imagekit.image.example import ImageExample

PROFILES = ("train", "serve", "generic")
TARGETS = ("dockerfile", "image")


class Severity(enum.IntEnum):
    """Ordered so that ``finding.severity >= threshold`` means "reaches --fail-on"."""

    STYLE = 1
    INFO = 2
    WARNING = 3
    ERROR = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> "Severity":
        try:
            return cls[text.strip().upper()]
        except KeyError:
            from imagekit.errors import ImagekitError

            choices = ", ".join(s.label for s in cls)
            raise ImagekitError(f"Unknown severity {text!r}.", f"Use one of: {choices}.") from None


@dataclass(frozen=True)
class Problem:
    """What a rule's check yields: the message and where; the driver adds rule id, severity and file."""

    message: str
    line: int | None = None
    column: int | None = None
    path: str | None = None  # a file inside an image (image rules)
    fix: str | None = None  # overrides the rule's generic fix when the check knows better


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    message: str
    file: str
    line: int | None = None
    column: int | None = None
    path: str | None = None
    fix: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rule": self.rule,
            "severity": self.severity.label,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "fix": self.fix,
        }
        if self.path is not None:
            data["path"] = self.path
        return data


Check = Callable[[Any], Iterable[Problem]]


@dataclass(frozen=True)
class Rule:
    """Everything a user or the docs need to know about one rule, plus its check."""

    code: str  # stable id, e.g. "IK101"
    name: str  # kebab-case, states the bad thing: "latest-base-tag"
    severity: Severity
    profiles: tuple[str, ...]  # subset of PROFILES; contract rules are ("train", "serve") or one of them
    target: str  # "dockerfile" or "image"
    summary: str  # one line
    rationale: str  # why it matters
    fix: str  # how to fix it
    check: Check
    example_bad: str | ImageExample = ""  # Dockerfile text, or a tiny image for image rules; run as tests
    example_good: str | ImageExample = ""
    options: Mapping[str, Any] = field(default_factory=dict)  # defaults; config may override

    def applies_to(self, active_profiles: Iterable[str]) -> bool:
        return bool(set(self.profiles) & set(active_profiles))


# Old rule ids -> the id of the rule that now does that check, the way ruff redirects renamed codes: a SageMaker
# check written once per target under two ids became one id with a Dockerfile and an image implementation. Old
# ids keep working in configs, --ignore/--severity, pragmas and `imagekit rules`; findings carry the new id.
REDIRECTS: Mapping[str, str] = {
    "IK505": "IK101",  # shell-form-entrypoint (image)
    "IK510": "IK105",  # sagemaker-program-missing (image; was an error, now the Dockerfile rule's warning)
    "IK511": "IK106",  # content-in-mounted-dir (image)
    "IK520": "IK109",  # non-root-user (image)
    "IK521": "IK108",  # capability-label-invalid (image)
    "IK523": "IK107",  # expose-other-port (image)
    "IK533": "IK110",  # nvidia-driver-library-in-image (image)
    "IK501": "IK104",  # entrypoint-not-found (image; still an error there)
    "IK113": "IK104",  # mode-program-off-path (Dockerfile): the same check, the program copied off PATH
}

_REGISTRY: dict[str, dict[str, Rule]] = {}


def canonical(code: str) -> str:
    """The current id for *code* (itself unless it is a redirected old id)."""
    return REDIRECTS.get(code, code)


def former_ids(code: str) -> list[str]:
    """The old ids that now redirect to *code*, for the docs."""
    return sorted(old for old, new in REDIRECTS.items() if new == code)


def load_rules(target: str) -> dict[str, Rule]:
    """Import every module of ``imagekit.lint.rules.<target>`` and index their RULEs by code.

    Discovery is by import, so adding a rule is adding a module; duplicates and malformed modules fail
    loudly here (and in the registry meta-test) instead of silently shadowing each other.
    """
    if target in _REGISTRY:
        return _REGISTRY[target]
    package = importlib.import_module(f"imagekit.lint.rules.{target}")
    rules: dict[str, Rule] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        rule = getattr(module, "RULE", None)
        if not isinstance(rule, Rule):
            raise RuntimeError(f"rule module {module.__name__} defines no RULE")
        if rule.code in rules:
            raise RuntimeError(f"duplicate rule code {rule.code} in {module.__name__}")
        if rule.target != target:
            raise RuntimeError(f"{module.__name__}: target {rule.target!r} but lives under {target!r}")
        rules[rule.code] = rule
    _REGISTRY[target] = rules
    return rules


def all_rules() -> dict[str, Rule]:
    """Every rule of both linters, by code; a check with both implementations is listed by its Dockerfile one
    (the two share code, name, severity and docs: see implementations)."""
    merged: dict[str, Rule] = {}
    for target in TARGETS:
        for code, rule in load_rules(target).items():
            merged.setdefault(code, rule)
    return merged


def implementations(code: str) -> list[Rule]:
    """The Dockerfile and/or image rule with this id (an old id is redirected)."""
    code = canonical(code)
    return [rules[code] for rules in map(load_rules, TARGETS) if code in rules]


def rules_named(codes: Iterable[str]) -> dict[str, Rule]:
    """The rules these ids name (unknown ids are left out). Image rules load only when an id is not a
    Dockerfile rule: a config or pragma naming Dockerfile rules keeps `imagekit lint` starting fast."""
    wanted = set(codes)
    catalogue = load_rules("dockerfile") if wanted else {}
    if wanted - set(catalogue):
        catalogue = all_rules()
    return {code: catalogue[code] for code in sorted(wanted & set(catalogue))}
