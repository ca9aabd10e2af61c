"""The static Dockerfile linter: parse once, run every applicable rule, apply config and pragmas.

    >>> from imagekit.lint.dockerfile_lint import lint_text
    >>> [f.rule for f in lint_text("FROM python:latest\\n")]
    ['IK202']
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable

from imagekit import contract
from imagekit.dockerfile import Dockerfile, load, parse
from imagekit.errors import ImagekitError
from imagekit.lint.config import LintConfig, load_config
from imagekit.lint.core import PROFILES, Finding, Problem, Severity, load_rules, rules_named
from imagekit.lint.findings import capped, fails, sort_key, to_findings
from imagekit.lint.pragmas import apply_pragmas, read_pragmas
from imagekit.lint.rules.dockerfile._common import DockerfileContext

SYNTAX_RULE = "IK200"
PRAGMA_RULE = "IK299"

_SAGEMAKER = re.compile("|".join(["sagemaker", *(re.escape(str(directory)) + r"\b"
                                                  for directory in (contract.ML_ROOT, contract.BYOC_PROGRAM_DIR))]),
                        re.I)
_TRAIN = re.compile("|".join([r"sagemaker[-_]training", contract.ENV_TRAINING_MODULE,
                              re.escape(str(contract.INPUT_DIR)), re.escape(str(contract.OUTPUT_DIR)),
                              re.escape(str(contract.CHECKPOINTS_DIR)),
                              rf"(^|[/\s\"']){contract.TRAIN_COMMAND}($|[\s\"'])"]),
                    re.I | re.M)
_SERVE = re.compile("|".join([r"sagemaker[-_]inference", r"multi[-_]model[-_]server", "torchserve",
                              re.escape(contract.CAPABILITY_LABEL_PREFIX), contract.ENV_MULTI_MODEL,
                              contract.ENV_BIND_TO_PORT,
                              rf"\bEXPOSE\s+{contract.SERVING_PORT}\b",
                              rf"(^|[/\s\"']){contract.SERVE_COMMAND}($|[\s\"'])"]), re.I | re.M)


@dataclass
class FileResult:
    file: str
    findings: list[Finding]
    profiles: frozenset[str]
    unparseable: bool = False  # a syntax error: exit code 2
    fail_on: Severity | None = Severity.WARNING  # the threshold of this file's config
    lines: tuple[str, ...] = ()  # the source as parsed, for the text report's caret (stdin cannot be re-read)

    @property
    def failed(self) -> bool:
        return fails(self.findings, self.fail_on)


@dataclass
class LintResult:
    files: list[FileResult] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        return [f for result in self.files for f in result.findings]

    @property
    def unparseable(self) -> bool:
        return any(result.unparseable for result in self.files)

    @property
    def failed(self) -> bool:
        """Some file has a finding at or above its own config's fail-on (configs differ per directory)."""
        return any(result.failed for result in self.files)


def infer_profiles(df: Dockerfile) -> frozenset[str]:
    """`--profile auto`: SageMaker evidence picks train and/or serve, else generic.

    Both train and serve (an image for either mode) when the file is SageMaker-related but says neither.
    """
    text = "\n".join(df.lines)
    if not _SAGEMAKER.search(text):
        return frozenset({"generic"})
    modes = {mode for mode, pattern in ((contract.TRAIN_COMMAND, _TRAIN), (contract.SERVE_COMMAND, _SERVE))
             if pattern.search(text)}
    return frozenset(modes or contract.MODES)


def resolve_profiles(df: Dockerfile, requested: str | None, config: LintConfig, pragma: str | None) -> frozenset[str]:
    """Command line, then the file's `# imagekit profile=` pragma, then the config, then inference."""
    for choice in (requested, pragma, config.profile):
        if choice and choice != "auto":
            if choice not in PROFILES:
                break  # an invalid pragma value falls through to inference
            return frozenset({choice})
    return infer_profiles(df)


def lint_dockerfile(df: Dockerfile, *, config: LintConfig | None = None, profile: str | None = None,
                    target: str | None = None) -> FileResult:
    """Lint a parsed Dockerfile. A file BuildKit would refuse yields only its syntax finding.

    *target* is `docker build --target`: that stage, not the last one, is the image the rules judge.
    """
    config = config or LintConfig()
    if target and df.error is None:
        if df.stage_by_ref(target) is None:
            names = ", ".join(s.name for s in df.stages if s.name) or "none"
            raise ImagekitError(f"{df.path} has no stage {target!r} to use as --target.", f"Named stages: {names}.")
        df = replace(df, target=target)
    rules = load_rules("dockerfile")
    if df.error is not None:
        problem = Problem(df.error.message, df.error.line, df.error.column)
        findings = [Finding(SYNTAX_RULE, rules[SYNTAX_RULE].severity, problem.message, df.path, problem.line,
                            problem.column, fix=rules[SYNTAX_RULE].fix)]
        return FileResult(df.path, findings, frozenset(), unparseable=True, fail_on=config.fail_on,
                          lines=tuple(df.lines))
    pragmas = read_pragmas(df)
    profiles = resolve_profiles(df, profile, config, pragmas.profile)
    findings: list[Finding] = []
    ran: set[str] = set()
    for rule in rules.values():
        if rule.code in (SYNTAX_RULE, PRAGMA_RULE) or not rule.applies_to(profiles) or rule.code in config.ignored:
            continue
        ran.add(rule.code)
        ctx = DockerfileContext(df, profiles, config.options_for(rule), config.trusted_registries)
        findings.extend(to_findings(rule, rule.check(ctx), file=df.path, config=config))
    known = set(rules_named(code for pragma in pragmas.pragmas for code in pragma.codes))
    kept, pragma_problems = apply_pragmas(findings, pragmas, known=known, ran=ran)
    kept.extend(to_findings(rules[PRAGMA_RULE], pragma_problems, file=df.path, config=config))
    return FileResult(df.path, capped(sorted(kept, key=sort_key)), profiles, fail_on=config.fail_on,
                      lines=tuple(df.lines))


def lint_text(text: str, path: str = "Dockerfile", *, config: LintConfig | None = None,
              profile: str | None = None, target: str | None = None) -> list[Finding]:
    """Lint Dockerfile text (already decoded); handy in tests and for editors."""
    return lint_dockerfile(parse(text, path), config=config, profile=profile, target=target).findings


def lint_files(paths: Iterable[str | Path], *, config: LintConfig | None = None, profile: str | None = None,
               overrides: dict | None = None, target: str | None = None) -> LintResult:
    """Lint files; without an explicit *config* each uses the nearest config file above it.

    *overrides* are command-line settings (see LintConfig.with_overrides) applied on top of each config.
    """
    result = LintResult()
    by_dir: dict[Path, LintConfig] = {}
    for raw in paths:
        path = Path(raw)
        file_config = config
        if file_config is None:
            directory = path.parent.resolve()
            if directory not in by_dir:
                by_dir[directory] = load_config(directory)
            file_config = by_dir[directory]
        if overrides:
            file_config = file_config.with_overrides(**overrides)
        result.files.append(lint_dockerfile(load(path, str(raw)), config=file_config, profile=profile,
                                            target=target))
    return result
