"""`imagekit lint` and `imagekit rules` (registered on imagekit.cli.app).

Imports of the linters happen inside the commands so `imagekit lint` starts fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from imagekit.cli import app
from imagekit.errors import ImagekitError, write_report_file

FORMATS = ("text", "json", "sarif", "junit", "github")


@app.command()
def lint(
    files: Optional[List[Path]] = typer.Argument(None, help="Dockerfiles to check (default: ./Dockerfile; - reads "
                                                 "standard input)."),
    image: Optional[List[str]] = typer.Option(None, "--image", help="Check a built image (engine ref, docker-save "
                                              "archive or OCI layout); repeatable."),
    platform: Optional[str] = typer.Option(None, "--platform", help="Platform of a multi-platform --image."),
    dockerfile: Optional[str] = typer.Option(None, "--dockerfile", help="Cross-check --image against this Dockerfile."),
    fmt: str = typer.Option("text", "--format", "-f", help="text, json, sarif, junit or github."),
    fail_on: Optional[str] = typer.Option(None, "--fail-on", help="Lowest severity that fails (exit 1): error, "
                                          "warning, info, style or none. Default: warning."),
    profile: Optional[str] = typer.Option(None, "--profile",
                                          help="auto (infer from the file), train, serve or generic."),
    target: Optional[str] = typer.Option(None, "--target", help="Stage that becomes the image, as in `docker build "
                                         "--target` (default: the last stage)."),
    config: Optional[Path] = typer.Option(None, "--config", help="Config file (default: nearest .imagekit.yaml or "
                                          "pyproject.toml [tool.imagekit.lint])."),
    ignore: Optional[List[str]] = typer.Option(None, "--ignore", help="Rule id to skip; repeatable."),
    severity: Optional[List[str]] = typer.Option(None, "--severity", help="Override a rule's severity: ID=LEVEL; "
                                                 "repeatable."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the report to a file instead of stdout."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Text format: findings only, no fixes or summary."),
) -> None:
    """Check Dockerfiles (static) and/or built images against the SageMaker contract and good practice.

    Exit status: 0 nothing reaches --fail-on, 1 something does, 2 bad input (unparseable file, missing image).
    """
    from imagekit.lint.config import load_config
    from imagekit.lint.core import Finding
    from imagekit.lint.dockerfile_lint import lint_files
    from imagekit.lint.findings import fails, sort_key
    from imagekit.lint.report import render

    if fmt not in FORMATS:
        raise ImagekitError(f"Unknown --format {fmt!r}.", f"Use one of: {', '.join(FORMATS)}.")
    for flag, value in (("--platform", platform), ("--dockerfile", dockerfile)):
        if value and not image:
            raise ImagekitError(f"{flag} applies to --image, and no --image was given.",
                                f"Add --image REF, or drop {flag}.")
    if output and output.is_dir():
        raise ImagekitError(f"--output {output} is a directory.", "Name the report file, e.g. -o lint.sarif.")
    overrides = {"ignore": tuple(ignore or ()), "severity": _severity_pairs(severity or []),
                 "profile": profile, "fail_on": fail_on}
    paths = list(files or [])
    if not paths and not image:
        if not Path("Dockerfile").is_file():
            raise ImagekitError("No Dockerfile given and there is no ./Dockerfile.",
                                "Pass Dockerfile paths, or --image REF to check a built image.")
        paths = [Path("Dockerfile")]
    explicit = load_config(Path.cwd(), config) if config else None
    result = lint_files(paths, config=explicit, profile=profile, overrides=overrides, target=target)
    findings = result.findings
    base_config = (explicit or load_config(Path.cwd())).with_overrides(**overrides)
    image_findings: list[Finding] = []
    if image:
        from imagekit.lint.image_lint import lint_image

        profiles = {profile} if profile and profile != "auto" else None
        for ref in image:
            image_findings.extend(lint_image(ref, config=base_config, profiles=profiles, platform=platform,
                                             dockerfile=dockerfile))
    findings = sorted(findings + image_findings, key=sort_key)
    # Each Dockerfile is judged by the fail-on of its own (nearest) config, images by the one found from here.
    failed = result.failed or fails(image_findings, base_config.fail_on)
    sources = {r.file: list(r.lines) for r in result.files}
    report = render(findings, fmt, files=len(paths), images=len(image or []), fail_on=base_config.fail_on,
                    failed=failed, quiet=quiet, source=sources.get)
    if output:
        write_report_file(output, report, "the report", "--output")
    else:
        sys.stdout.write(report)
    if result.unparseable:
        raise typer.Exit(2)
    if failed:
        raise typer.Exit(1)


@app.command()
def rules(
    code: Optional[str] = typer.Argument(None, help="A rule id such as IK101 to explain; omit to list all rules."),
) -> None:
    """List every lint rule (Dockerfile and image), or explain one."""
    from imagekit.lint.core import all_rules
    from imagekit.lint.docs import explain, rule_table

    catalogue = all_rules()
    if code is None:
        sys.stdout.write(rule_table(catalogue.values()))
        return
    rule = catalogue.get(code.strip().upper())
    if rule is None:
        raise ImagekitError(f"There is no rule {code!r}.", "Run `imagekit rules` to list them.")
    sys.stdout.write(explain(rule))


def _severity_pairs(items: list[str]) -> dict[str, str]:
    pairs = {}
    for item in items:
        code, eq, level = item.partition("=")
        if not eq:
            raise ImagekitError(f"--severity {item!r} is not ID=LEVEL.", "For example: --severity IK202=error.")
        pairs[code] = level
    return pairs
