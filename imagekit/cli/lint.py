"""`imagekit lint` and `imagekit rules` (registered on imagekit.cli.app): option parsing and printing only; the
work is `imagekit.lint.run`.

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
                                              "archive, OCI layout, or HOST/REPO:TAG read from its registry "
                                              "when the engine does not hold it); repeatable."),
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
    from imagekit.lint import LintOptions, Target, run
    from imagekit.lint.report import render_run

    if fmt not in FORMATS:
        raise ImagekitError(f"Unknown --format {fmt!r}.", f"Use one of: {', '.join(FORMATS)}.")
    if output and output.is_dir():
        raise ImagekitError(f"--output {output} is a directory.", "Name the report file, e.g. -o lint.sarif.")
    if [str(file) for file in files or []].count("-") > 1:
        raise ImagekitError("Standard input (-) is named more than once, but it can be read only once.",
                            "Give - once.")
    options = LintOptions(config=config, profile=profile, target=target, platform=platform, dockerfile=dockerfile,
                          ignore=tuple(ignore or ()), severity=_severity_pairs(severity or []), fail_on=fail_on)
    result = run([*(files or []), *(Target.image(ref) for ref in image or [])], options)
    if image:  # --image takes engine refs, files and registry refs alike: say which each one was
        from imagekit.image.sources import source_of

        for ref in image:
            sys.stderr.write(f"imagekit: --image {ref}: read from {source_of(ref)}\n")
    report = render_run(result, fmt, quiet=quiet)
    if output:
        write_report_file(output, report, "the report", "--output")
    else:
        sys.stdout.write(report)
    if result.exit_code:
        raise typer.Exit(result.exit_code)


@app.command()
def rules(
    code: Optional[str] = typer.Argument(None, help="A rule id such as IK101 to explain; omit to list all rules."),
) -> None:
    """List every lint rule (Dockerfile and image), or explain one."""
    from imagekit.lint.core import all_rules, canonical
    from imagekit.lint.docs import explain, rule_table

    catalogue = all_rules()
    if code is None:
        sys.stdout.write(rule_table(catalogue.values()))
        return
    rule = catalogue.get(canonical(code.strip().upper()))
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
