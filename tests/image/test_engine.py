"""Images built by the engine: the entrypoint proof on real images, and the same findings from every source."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from image.archive import oci_from_docker_save
from imagekit.lint.image_lint import lint_image

pytestmark = pytest.mark.slow
PROOF = {"IK104", "IK502", "IK503", "IK504", "IK506"}
PROGRAM = "#!/usr/bin/env python3\nimport sys\nprint(sys.argv)\n"
GOOD = ("FROM {base}\nCOPY train serve /usr/local/bin/\n"
        "LABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true\nEXPOSE 8080\n")


def rules(ref: str, **kwargs) -> list[tuple[str, str]]:
    return [(f.rule, f.message) for f in lint_image(ref, **kwargs)]


def save(tag: str, path: Path) -> Path:
    from imagekit import engine

    with path.open("wb") as out:
        for chunk in engine.export_image(tag):
            out.write(chunk)
    return path


def test_good_image_is_proven_from_engine_archive_and_oci_layout(throwaway_image, tmp_path: Path) -> None:
    tag = throwaway_image(GOOD, files={"train": PROGRAM, "serve": PROGRAM})
    from_engine = rules(tag)
    assert not PROOF & {rule for rule, _ in from_engine}, from_engine
    archive = save(tag, tmp_path / "good.tar")
    assert rules(str(archive)) == from_engine
    layout = oci_from_docker_save(archive, tmp_path / "oci")
    assert rules(str(layout)) == from_engine


def test_serve_deleted_by_a_later_layer_and_broken_scripts(throwaway_image, tmp_path: Path) -> None:
    good = throwaway_image(GOOD, files={"train": PROGRAM, "serve": PROGRAM})
    missing = throwaway_image(f"FROM {good}\nRUN rm /usr/local/bin/serve\n")
    findings = rules(missing, profiles={"train", "serve"})
    assert [rule for rule, message in findings if rule in PROOF] == ["IK104"]
    assert "serve" in findings[0][1] and "not on PATH" in findings[0][1]
    broken = throwaway_image(GOOD, files={"train": "#!/usr/bin/env python3\r\nprint(1)\r\n",
                                          "serve": "#!/usr/bin/python\nprint(1)\n"})
    assert {rule for rule, _ in rules(broken)} & PROOF == {"IK502", "IK503"}


def test_programs_the_kernel_cannot_execute(throwaway_image) -> None:
    """`RUN echo ... > train` writes no `#!`, an editor's BOM hides it: runc says `exec format error` for both."""
    tag = throwaway_image("FROM {base}\nRUN printf 'echo training\\n' > /usr/local/bin/train && printf "
                          "'\\357\\273\\277#!/bin/sh\\necho serving\\n' > /usr/local/bin/serve && chmod 755 "
                          "/usr/local/bin/train /usr/local/bin/serve\nEXPOSE 8080\n")
    found = {message.split(" ", 1)[0]: message for rule, message in rules(tag, profiles={"train", "serve"})
             if rule == "IK506"}
    assert "neither an ELF binary nor" in found["/usr/local/bin/train"]
    assert "byte-order mark" in found["/usr/local/bin/serve"]


def test_a_program_executable_through_a_supplementary_group(throwaway_image) -> None:
    tag = throwaway_image(
        "FROM {base}\nRUN printf '#!/bin/sh\\necho hi\\n' > /usr/local/bin/serve && cp /usr/local/bin/serve "
        "/usr/local/bin/train && chown root:staff /usr/local/bin/serve /usr/local/bin/train && chmod 750 "
        "/usr/local/bin/serve /usr/local/bin/train && useradd -G staff app\nUSER app\nEXPOSE 8080\n")
    assert not PROOF & {rule for rule, _ in rules(tag)}, rules(tag)  # `docker run IMAGE serve` prints hi


def test_missing_engine_image_is_exit_2_with_a_hint(engine) -> None:
    result = subprocess.run([sys.executable, "-m", "imagekit", "lint", "--image", "imagekit-test/absent:nope"],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "not in the Docker engine" in result.stderr and "docker images" in result.stderr


@pytest.mark.parametrize("ref", ["UPPER/case", "a" * 200 + "/" + "b" * 100])  # ours, then the engine's 400
def test_a_reference_the_engine_refuses_is_the_reference_paragraph(engine, ref: str) -> None:
    result = subprocess.run([sys.executable, "-m", "imagekit", "lint", "--image", ref], capture_output=True,
                            text=True)
    said = " ".join(result.stderr.split())  # the paragraph is wrapped at the terminal's width
    assert result.returncode == 2 and said.startswith(f"imagekit: error: {ref!r} is not a valid image reference.")
    assert "operating system" not in said and "http" not in said


SHAPES = ("FROM {base}\n"
          "RUN mkdir -p /d/sub && echo a > /d/sub/f && echo b > /d/g && echo x > /h1 && ln /h1 /h2 && mkfifo /fifo"
          " && chmod 4755 /h1 && printf '#!/bin/sh\\n' > /d/run.sh && chmod 755 /d/run.sh\n"
          "RUN rm -rf /d && mkdir -p /d && echo c > /d/new && rm /h2 && rm -rf /usr/share/doc && ln -s /d/new /lnk\n"
          "RUN ln /d/new /d/new2 && echo 'u:x:1000:1000::/home/u:/bin/sh' >> /etc/passwd && chown 1000:1000 /d/new\n")


def _index(image) -> tuple:
    """What rules can see of an image (modes as permission and set-id bits: the engine's exported tar keeps the
    file-type bits only for layers it built itself)."""
    entries = {path: (e.kind, e.mode & 0o7777, e.uid, e.gid, e.size, e.layer, e.target, e.head)
               for path, e in image.entries.items()}
    return entries, image.small_files, [(layer.size, layer.files, layer.wasted) for layer in image.layers]


def test_engine_layer_directories_read_like_the_export(throwaway_image, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whiteouts, an opaque directory, hard links, a fifo, set-id bits: walking the engine's layer directories
    gives the index (and findings) the exported archive gives, and falls back to the export when it cannot."""
    from imagekit import engine
    from imagekit.image import sources

    tag = throwaway_image(SHAPES)
    stored = sources._engine_layer_dirs(engine.require_image(tag))
    assert stored is not None, "the test engine's overlay2 layers should be readable here"
    from_directories = sources.open_image(tag)
    findings = rules(tag)
    monkeypatch.setattr(sources, "_engine_layer_dirs", lambda inspected: None)
    from_export = sources.open_image(tag)
    assert _index(from_directories) == _index(from_export)
    assert rules(tag) == findings
    assert "d/g" not in from_export.entries and from_export.entries["d/new2"].size == 0  # opaque dir, hard link


@pytest.mark.parametrize("inspected", [
    {"Id": "sha256:" + "0" * 64, "GraphDriver": {"Name": "btrfs", "Data": {}}},
    {"Id": "sha256:" + "0" * 64, "GraphDriver": {"Name": "overlay2", "Data": {"UpperDir": "/nonexistent/x/y/diff"}}},
    {"Id": "sha256:" + "0" * 64, "GraphDriver": None},
])
def test_layer_directories_not_readable_mean_export(inspected: dict) -> None:
    from imagekit.image import sources

    assert sources._engine_layer_dirs(inspected) is None


def test_user_namespace_remapped_engine_means_export(tmp_path: Path) -> None:
    """Under userns-remap the engine's root is DATA/UID.GID and files on disk carry shifted owners."""
    import hashlib

    from imagekit.image import sources

    config = b'{"architecture": "amd64", "os": "linux", "config": {}}'
    root = tmp_path / "100000.100000"
    (root / "overlay2" / "layer" / "diff").mkdir(parents=True)
    digest = hashlib.sha256(config).hexdigest()
    (root / "image" / "overlay2" / "imagedb" / "content" / "sha256").mkdir(parents=True)
    (root / "image" / "overlay2" / "imagedb" / "content" / "sha256" / digest).write_bytes(config)
    inspected = {"Id": f"sha256:{digest}",
                 "GraphDriver": {"Name": "overlay2", "Data": {"UpperDir": str(root / "overlay2" / "layer" / "diff")}}}
    assert sources._engine_layer_dirs(inspected) is None
