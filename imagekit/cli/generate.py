"""`imagekit new`, `render`, `build` and `explain` (registered on imagekit.cli.app).

The generator's imports (jinja2, jsonschema, docker) happen inside the commands so `imagekit lint`
never pays for them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from imagekit.cli import app

SPEC = typer.Argument(None, help="imagekit.yaml or its directory (default: ./imagekit.yaml).")


def _warn(lines: tuple[str, ...]) -> None:
    for line in lines:
        typer.echo(f"imagekit: warning: {line}", err=True)


@app.command()
def new(
    name: str = typer.Argument(..., help="Project and image name, e.g. iris-classifier."),
    framework: str = typer.Option(..., "--framework", help="sklearn, xgboost, pytorch, tensorflow or custom."),
    accelerator: str = typer.Option("cpu", "--accelerator", help="cpu or cuda."),
    base: Optional[str] = typer.Option(None, "--base", help="Base image for both stages (default: the preset's)."),
    directory: Optional[Path] = typer.Option(None, "--dir", help="Parent directory (default: current)."),
) -> None:
    """Scaffold a project: spec, train script, inference handler, sample data, hooks, README."""
    from imagekit.scaffold import new as scaffold

    path = scaffold(name, framework, accelerator=accelerator, base=base, directory=directory)
    typer.echo(f"created {path}\nnext: cd {path} && imagekit build --wheelhouse")


@app.command()
def render(
    spec: Optional[Path] = SPEC,
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Context directory (default: .imagekit/context "
                                       "next to the spec)."),
    buildkit: bool = typer.Option(False, "--buildkit", help="Use BuildKit features (cache mounts, CA secret)."),
    wheelhouse: bool = typer.Option(False, "--wheelhouse", help="Install from deps/wheelhouse (fill it yourself "
                                    "with pip download, or use `imagekit build --wheelhouse`)."),
    base: Optional[str] = typer.Option(None, "--base", help="Override the spec's base image for both stages."),
) -> None:
    """Write the Dockerfile and build context for a spec."""
    from imagekit.render import render as render_spec

    result = render_spec(spec, out, buildkit=buildkit, wheelhouse=wheelhouse or None, base=base)
    _warn(result.warnings)
    typer.echo(f"rendered {len(result.files)} files into {result.out_dir}")


@app.command()
def build(
    spec: Optional[Path] = SPEC,
    tag: Optional[str] = typer.Option(None, "--tag", "-t", help="Image tag (default: name:tag from the spec)."),
    wheelhouse: bool = typer.Option(False, "--wheelhouse", help="Download wheels on the host for the target "
                                    "platform and install them offline in the builder."),
    buildkit: bool = typer.Option(False, "--buildkit", help="Build with BuildKit (cache mounts, CA bundle secret)."),
    base: Optional[str] = typer.Option(None, "--base", help="Override the spec's base image for both stages."),
    push: Optional[str] = typer.Option(None, "--push", help="Then `imagekit push` the image to this URI (ECR or "
                                       "REGISTRY/REPO:TAG) and print REPO@sha256:..."),
) -> None:
    """Render and build the image with live progress; fails (exit 1) over the spec's size budget."""
    from imagekit.build import build as build_image

    if push:
        from imagekit.ship.push import destination

        destination(push)  # a bad URI is reported before the build, not after it
    result = build_image(spec, tag=tag, wheelhouse=wheelhouse, buildkit=buildkit, base=base)
    typer.echo(result.tag)
    if push:
        from imagekit.ship import push as push_image

        typer.echo(push_image(result.tag, push).pinned)


@app.command()
def explain(spec: Optional[Path] = SPEC) -> None:
    """Show the base images, framework, CUDA, cuDNN and wheel index a spec resolves to, and why."""
    from imagekit.spec import load_spec
    from imagekit.spec.frameworks import resolve

    resolution = resolve(load_spec(spec))
    width = max(len(choice.what) for choice in resolution.choices)
    for choice in resolution.choices:
        typer.echo(f"{choice.what:<{width}}  {choice.value}  ({choice.rule})")
