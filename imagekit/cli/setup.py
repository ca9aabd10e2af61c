"""`imagekit engine`, `imagekit base` and `imagekit doctor`: getting a machine ready."""

from __future__ import annotations

from typing import List, Optional

import typer

from imagekit.cli import app

engine_app = typer.Typer(help="Manage the Docker engine imagekit uses.", no_args_is_help=True)
app.add_typer(engine_app, name="engine")


def _say(line: str) -> None:
    typer.echo(f"  {line}", err=True)


@engine_app.command("up")
def engine_up(
    install: bool = typer.Option(True, "--install/--no-install",
                                 help="Install docker.io etc. with apt-get if missing."),
    timeout: float = typer.Option(90.0, help="Seconds to wait for the engine socket."),
) -> None:
    """Make a Docker engine available: reuse a running one, or install and start dockerd (Debian/Ubuntu, root)."""
    from imagekit.bootstrap import engine_up as bring_up

    status = bring_up(install=install, deadline_s=timeout, log=_say)
    if status.installed:
        typer.echo(f"installed: {', '.join(status.installed)}")
    if status.already_running:
        typer.echo("engine: already running")
    else:
        typer.echo(f"engine: started dockerd (log: {status.log_file})")


@app.command("base")
def base(
    suite: str = typer.Option("bookworm", help="Debian suite to bootstrap."),
    package: Optional[List[str]] = typer.Option(None, "--package", "-p", help="Extra Debian package (repeatable)."),
    tag: Optional[str] = typer.Option(None, "--tag", "-t", help="Image tag [default: imagekit/base:SUITE]."),
    force: bool = typer.Option(False, "--force", help="Rebuild even if the tag exists."),
    mirror: Optional[str] = typer.Option(None, help="Debian mirror URL (default: mmdebstrap's)."),
) -> None:
    """Build a minimal Debian + CPython base image from Debian packages (no registry needed)."""
    from imagekit.base import build_base

    result = build_base(suite=suite, extra_packages=tuple(package or ()), tag=tag, force=force, mirror=mirror, log=_say)
    state = "built" if result.built else "exists, skipped (use --force to rebuild)"
    typer.echo(f"{result.tag}: {state} [{result.image_id[:19]}]")


@app.command("doctor")
def doctor(base_tag: Optional[str] = typer.Option(None, "--base", help="Base image tag to look for.")) -> None:
    """Show the engine, API, BuildKit, compose, base image and disk; exit 1 if something required is missing."""
    from rich.console import Console
    from rich.table import Table

    from imagekit.doctor import run_checks

    checks = run_checks(base_tag)
    table = Table(title="imagekit doctor", show_lines=False)
    for column in ("check", "status", "detail", "fix"):
        table.add_column(column)
    for check in checks:
        status = "[green]ok[/]" if check.ok else ("[red]MISSING[/]" if check.required else "[yellow]warn[/]")
        table.add_row(check.name, status, check.detail, "" if check.ok else check.fix)
    Console().print(table)
    if any(c.required and not c.ok for c in checks):
        raise typer.Exit(1)
