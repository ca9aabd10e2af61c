"""The foundation: CLI basics, engine bootstrap, `imagekit base`, `imagekit doctor`, the wheel's data files."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import jinja2
import pytest

from conftest import REPO_ROOT
from imagekit import __version__, bootstrap
from imagekit import engine as engine_api
from imagekit.errors import ImagekitError

IMAGEKIT = [sys.executable, "-m", "imagekit"]


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*IMAGEKIT, *args], capture_output=True, text=True, env=env, timeout=timeout)


def test_version_and_help_list_commands() -> None:
    assert run_cli("--version").stdout.strip() == f"imagekit {__version__}"
    help_text = run_cli("--help").stdout
    for command in ("engine", "base", "doctor"):
        assert command in help_text


def test_no_engine_is_one_clear_paragraph_and_exit_2() -> None:
    result = run_cli("base", env={**os.environ, "DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert result.returncode == 2
    assert "No Docker engine answers at unix:///nonexistent/docker.sock" in result.stderr
    assert "imagekit engine up" in result.stderr
    assert "Traceback" not in result.stderr


def test_engine_up_reuses_a_running_engine(engine) -> None:
    result = run_cli("engine", "up", "--no-install")
    assert result.returncode == 0, result.stderr
    assert "already running" in result.stdout


def test_engine_up_without_docker_installed_says_what_to_do(monkeypatch, tmp_path: Path) -> None:
    """Simulate a machine with no engine and nothing on PATH: no dockerd, no apt-get."""
    monkeypatch.setattr(engine_api, "available", lambda: False)
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ImagekitError) as caught:
        bootstrap.engine_up()
    text = str(caught.value)
    if os.geteuid() == 0 and bootstrap._is_debian_like():
        assert "apt-get is not on PATH" in text
    else:
        assert "root" in text or "Debian" in text


def test_engine_up_not_root_is_refused_with_the_sudo_command(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(engine_api, "available", lambda: False)
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ImagekitError, match="sudo"):
        bootstrap.engine_up()


def test_engine_up_with_unreachable_docker_host_does_not_start_a_local_engine(monkeypatch) -> None:
    monkeypatch.setattr(engine_api, "available", lambda: False)
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
    with pytest.raises(ImagekitError, match="unset DOCKER_HOST"):
        bootstrap.engine_up()


def test_base_already_present_is_skipped_fast(base_image: str, engine) -> None:
    before = engine.api.inspect_image(base_image)["Id"]
    result = run_cli("base")
    assert result.returncode == 0, result.stderr
    assert "exists, skipped" in result.stdout
    assert engine.api.inspect_image(base_image)["Id"] == before


def test_base_image_carries_provenance_labels(base_image: str, engine) -> None:
    labels = engine.api.inspect_image(base_image)["Config"]["Labels"]
    assert labels["io.imagekit.base.suite"] == "bookworm"
    assert len(labels["io.imagekit.base.package-list-sha256"]) == 64
    assert "python3" in labels["io.imagekit.base.packages"]
    assert labels["io.imagekit.base.build-date"].endswith("Z")
    assert len(labels["io.imagekit.base.recipe-sha256"]) == 64


def test_base_built_from_another_recipe_is_rebuilt_not_reused(throwaway_image, engine, tmp_path: Path) -> None:
    """A tag left by an older imagekit (other apt config or packages) is rebuilt; a failed rebuild keeps it."""
    old = throwaway_image("FROM {base}\nLABEL io.imagekit.base.recipe-sha256=an-older-recipe\n")
    before = engine.api.inspect_image(old)["Id"]
    fake = tmp_path / "mmdebstrap"
    fake.write_text("#!/bin/sh\necho 'E: offline' >&2\nexit 1\n")
    fake.chmod(0o755)
    result = run_cli("base", "-t", old, env={**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"})
    assert result.returncode == 2 and "mmdebstrap failed" in result.stderr, result.stderr
    assert engine.api.inspect_image(old)["Id"] == before


def test_broken_mmdebstrap_leaves_no_half_tagged_image(engine, tmp_path: Path) -> None:
    fake = tmp_path / "mmdebstrap"
    # writes a partial tarball, complains, fails: like a mirror that dies half-way
    fake.write_text('#!/bin/sh\nfor a; do last="$a"; done\necho junk > "$last"\n'
                    'echo "E: mirror went away" >&2\nexit 1\n')
    fake.chmod(0o755)
    tag = "imagekit-test/broken-base:1"
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    result = run_cli("base", "--tag", tag, "--force", env=env)
    assert result.returncode == 2
    assert "mmdebstrap failed" in result.stderr and "no image was tagged" in result.stderr
    assert "E: mirror went away" in result.stderr
    assert "Traceback" not in result.stderr
    assert engine_api.inspect_image(tag) is None


def test_missing_mmdebstrap_is_a_clear_error(engine, tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path)}
    result = run_cli("base", "--tag", "imagekit-test/never:1", env=env)
    assert result.returncode == 2
    assert "mmdebstrap is not installed" in result.stderr


def test_doctor_reports_every_piece(engine, base_image: str) -> None:
    result = run_cli("doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("engine", "engine API", "BuildKit CLI", "compose", "base image", "free disk"):
        assert name in result.stdout


def test_doctor_exits_1_without_an_engine() -> None:
    result = run_cli("doctor", env={**os.environ, "DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert result.returncode == 1
    assert "MISSING" in result.stdout and "imagekit engine up" in result.stdout


@pytest.mark.slow
def test_wheel_ships_templates_and_schemas(tmp_path: Path) -> None:
    """Build the wheel, install it in a fresh venv, and load data from it (not from the checkout)."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path / "dist"), str(REPO_ROOT)],
                   check=True, capture_output=True, timeout=600)
    wheel = next((tmp_path / "dist").glob("imagekit-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("imagekit/_data/templates/") for n in names)
    assert "imagekit/_data/schemas/imagekit.schema.json" in names
    assert "imagekit/lint/data/eol.json" in names
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    # The wheel's dependencies come from this environment, not from the system's site-packages (Debian's has no
    # jinja2): a path line in a .pth file adds the directory without running its .pth files, so this checkout's
    # editable install stays out and imagekit is the wheel's.
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          check=True, capture_output=True, text=True).stdout.strip()
    Path(site, "dependencies.pth").write_text(str(Path(jinja2.__file__).parents[1]) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", str(wheel)],
                   check=True, capture_output=True, timeout=600)
    probe = (
        "import json, imagekit.resources as r, jinja2\n"
        "t = r.templates_dir(); s = r.schemas_dir()\n"
        "assert '_data' in str(t) and 'site-packages' in str(t), t\n"
        "json.loads((s / 'imagekit.schema.json').read_text())\n"
        "env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(t)))\n"
        "names = env.list_templates(); assert names, names\n"
        "env.get_template(names[0])\n"
        "print('ok', len(names))\n"
    )
    result = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")


@pytest.mark.slow
def test_images_built_on_the_base_keep_no_apt_package_cache(engine, throwaway_image) -> None:
    """apt is configured like Debian's official images (docker-clean), so `apt-get install` leaves no .debs."""
    from imagekit.base import build_base
    from imagekit.lint.config import LintConfig
    from imagekit.lint.image_lint import lint_image

    tag = "imagekit-test/base-apt-clean:bookworm"
    try:
        build_base(tag=tag, force=True)
        derived = throwaway_image(f"FROM {tag}\nRUN apt-get update && apt-get install -y --no-install-recommends "
                                  "less && rm -rf /var/lib/apt/lists/*\n")
        strict = LintConfig(options={"IK531": {"min_bytes": 1}})
        assert [f.message for f in lint_image(derived, config=strict, profiles={"generic"})
                if f.rule == "IK531"] == []
    finally:
        throwaway_image.close()
        engine_api.remove_image(tag)
