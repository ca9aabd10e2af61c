"""The static Dockerfile linter: parse once, run every applicable rule, apply config and pragmas.

    >>> from imagekit.lint.dockerfile_lint import lint_text
    >>> [f.rule for f in lint_text("FROM python:latest\\n")]
    ['IK202']
"""

from __future__ import annotations

import re
from dataclasses import replace

from imagekit import contract
from imagekit.dockerfile import Dockerfile, parse
from imagekit.errors import ImagekitError
from imagekit.lint.config import LintConfig
from imagekit.lint.core import PROFILES, Finding, Problem, load_rules, rules_named
from imagekit.lint.findings import TargetResult, capped, sort_key, to_findings
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
                    target: str | None = None) -> TargetResult:
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
        return TargetResult(df.path, findings, frozenset(), unparseable=True, fail_on=config.fail_on,
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
    return TargetResult(df.path, capped(sorted(kept, key=sort_key)), profiles, fail_on=config.fail_on,
                      lines=tuple(df.lines))


def lint_text(text: str, path: str = "Dockerfile", *, config: LintConfig | None = None,
              profile: str | None = None, target: str | None = None) -> list[Finding]:
    """Lint Dockerfile text (already decoded); handy in tests and for editors."""
    return lint_dockerfile(parse(text, path), config=config, profile=profile, target=target).findings
