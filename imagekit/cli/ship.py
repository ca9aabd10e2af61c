"""`imagekit push` (registered on imagekit.cli.app); the work is `imagekit.ship.push`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from imagekit.cli import app

TO_HELP = ("Where to push: ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO:TAG (Amazon ECR, any partition) or "
           "REGISTRY/REPO:TAG.")


@app.command()
def push(
    image: Optional[str] = typer.Argument(None, help="Local image (default: the project's, as `imagekit build` "
                                          "tags it: name:tag from ./imagekit.yaml)."),
    to: str = typer.Option(..., "--to", help=TO_HELP),
    verify: bool = typer.Option(True, "--verify/--no-verify", help="Lint the image first and refuse error-level "
                                "findings (default), or push it unchecked."),
    scan_on_push: bool = typer.Option(False, "--scan-on-push", help="ECR: a repository created now scans every "
                                      "pushed image."),
    immutable_tags: bool = typer.Option(False, "--immutable-tags", help="ECR: a repository created now refuses "
                                        "to overwrite a tag."),
    save_login: bool = typer.Option(False, "--save-login", help="ECR: also store the registry login in the docker "
                                    "config (DOCKER_CONFIG or ~/.docker/config.json), as `docker login` would."),
    spec: Optional[Path] = typer.Option(None, "--spec", help="imagekit.yaml that names the default image."),
) -> None:
    """Push an image to Amazon ECR or any registry, after the image lint; prints REPO@sha256:... to deploy.

    Exit status: 0 pushed, 1 the lint found errors (nothing pushed), 2 bad input or a refused push.
    """
    from imagekit.ship import PushOptions
    from imagekit.ship import push as push_image

    options = PushOptions(verify=verify, scan_on_push=scan_on_push, immutable_tags=immutable_tags,
                          save_login=save_login)
    typer.echo(push_image(image, to, options, spec_path=spec).pinned)
