"""IK114 on built images: sshd's config read the way sshd reads it, checked case by case against the real sshd.

Each case is (main sshd_config, one file in sshd_config.d, None or the file and setting IK114 names). Debian's
sshd_config starts with `Include /etc/ssh/sshd_config.d/*.conf`, so a drop-in is read before what follows it.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from image.archive import docker_save
from imagekit import contract
from imagekit.errors import LimitExceeded
from imagekit.image.example import ImageExample, Link
from imagekit.lint.image_lint import lint_image
from imagekit.lint.rules.image.ik114_mpi_launcher_incomplete import MPI4PY, MPI_IMAGE

MAIN = str(contract.SSHD_CONFIG)
INCLUDE = f"Include {contract.SSHD_CONFIG_DIR}/*.conf\n"
DROP_IN = f"{contract.SSHD_CONFIG_DIR}/50-mpi.conf"
CASES = {
    "stock": (INCLUDE + "KbdInteractiveAuthentication no\nUsePAM yes\n", "", None),
    "drop-in read first": (INCLUDE + "PermitRootLogin yes\n", "PermitRootLogin no\n",
                           (DROP_IN, "PermitRootLogin no")),
    "first value wins": ("PermitRootLogin yes\nPermitRootLogin no\n", "", None),
    "any case": ("permitrootlogin No\n", "", (MAIN, "permitrootlogin No")),
    "equals sign": ("PubkeyAuthentication=no\n", "", (MAIN, "PubkeyAuthentication no")),
    "quoted, trailing comment": ('PermitRootLogin "no" # for MPI\n', "", (MAIN, "PermitRootLogin no")),
    "forced commands only": ("PermitRootLogin forced-commands-only\n", "",
                             (MAIN, "PermitRootLogin forced-commands-only")),
    "comment": ("# PermitRootLogin no\n", "", None),
    "match another user": ("Match User bob\n  PermitRootLogin no\n", "", None),
    "match root": ("Match User admin,r*t\n  PermitRootLogin no\n", "", (MAIN, "PermitRootLogin no")),
    "match root, excluded": ("Match User *,!root\n  PermitRootLogin no\n", "", None),
    "match address": ("Match User root Address 192.0.2.1\n  PermitRootLogin no\n", "", None),
    "match all ends a block": ("Match User bob\n  X11Forwarding no\nMatch all\nPermitRootLogin no\n", "",
                               (MAIN, "PermitRootLogin no")),
    "match wins over global": ("PermitRootLogin no\nMatch User root\n  PermitRootLogin prohibit-password\n", "",
                               None),
    "match ends with its file": (INCLUDE + "PermitRootLogin no\n", "Match User bob\n  X11Forwarding no\n",
                                 (MAIN, "PermitRootLogin no")),
    "include inside a match": (f"Match User bob\n  {INCLUDE}", "PermitRootLogin no\n", None),
    "include inside a match for root": (f"Match User root\n  {INCLUDE}", "PermitRootLogin no\n",
                                        (DROP_IN, "PermitRootLogin no")),
}


def ik114(tmp_path: Path, files: dict, mpi: dict = MPI_IMAGE) -> list[tuple[str | None, str]]:
    """(path, message) of IK114's findings on the example base image with *files* added to an MPI image's."""
    example = ImageExample(files={**mpi, **files})
    archive = docker_save(tmp_path / "image.tar", example.image_config, example.layers)
    return [(f.path, f.message) for f in lint_image(str(archive), profiles={"train"}) if f.rule == "IK114"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_sshd_config_is_read_as_sshd_reads_it(tmp_path: Path, case: str) -> None:
    main, drop_in, refusing = CASES[case]
    found = ik114(tmp_path, {MAIN[1:]: main, DROP_IN[1:]: drop_in})
    assert [(path, f"sets sshd's `{refusing[1]}`" in message) for path, message in found] == \
        ([(refusing[0], True)] if refusing else []), found


def test_a_symlinked_config_is_followed_and_an_oversized_one_is_not_read(tmp_path: Path) -> None:
    real = "etc/ssh/sshd_config.real"
    assert ik114(tmp_path, {real: "PermitRootLogin no\n", MAIN[1:]: Link("sshd_config.real")})
    padding = "#" * 100 + "\n"
    oversized = padding * (contract.Limits.SSHD_CONFIG_BYTES // len(padding) + 1) + "PermitRootLogin no\n"
    assert ik114(tmp_path, {MAIN[1:]: oversized}) == []


def test_drop_ins_that_include_each_other_are_read_once_each(tmp_path: Path) -> None:
    drop_ins = {f"{DROP_IN[1:]}.{index}.conf": INCLUDE for index in range(200)}
    assert ik114(tmp_path, {MAIN[1:]: INCLUDE + "PermitRootLogin no\n", **drop_ins})


def test_a_refusal_is_judged_only_in_an_image_whose_sshd_reads_it(tmp_path: Path) -> None:
    """sshd is started for MPI jobs only, and imagekit's runtime starts it with its own config (`sshd -f`)."""
    refusing = {MAIN[1:]: INCLUDE, DROP_IN[1:]: "PermitRootLogin no\n"}
    assert ik114(tmp_path, refusing)
    no_mpi = {path: body for path, body in MPI_IMAGE.items() if path not in (MPI4PY, "usr/bin/mpirun")}
    assert ik114(tmp_path, refusing, mpi=no_mpi) == []
    assert ik114(tmp_path, {**refusing, str(contract.RUNTIME_CONFIG_FILE)[1:]: "{}"}) == []


def test_drop_ins_that_all_include_their_directory_cost_one_read_each(tmp_path: Path) -> None:
    """Each Include pattern is expanded once: 3,000 such files took ~50 s when every file re-expanded it."""
    drop_in = f"Include {contract.SSHD_CONFIG_DIR}/*\n"
    drop_ins = {f"{DROP_IN[1:]}.{index:04d}": drop_in for index in range(3000)}
    started = time.monotonic()
    assert ik114(tmp_path, {MAIN[1:]: drop_in + "PermitRootLogin no\n", **drop_ins})
    assert time.monotonic() - started < 20


def test_include_patterns_beyond_the_work_budget_are_refused(tmp_path: Path) -> None:
    """Distinct patterns over one directory each cost its size: a config of them is refused, not followed."""
    drop_ins = {f"{DROP_IN[1:]}.{index:04d}": "" for index in range(1000)}
    patterns = "".join(f"Include {contract.SSHD_CONFIG_DIR}/*{index}\n" for index in range(20))
    with pytest.raises(LimitExceeded) as refused:
        ik114(tmp_path, {MAIN[1:]: patterns, **drop_ins})
    assert refused.value.limit == "SSHD_INCLUDE_NAMES"


def test_many_kept_config_files_count_against_the_head_budget(tmp_path: Path) -> None:
    """Every sshd_config.d file is kept whole, so a hostile image of thousands of them is refused, not held."""
    size = contract.Limits.SSHD_CONFIG_BYTES
    files = {f"{DROP_IN[1:]}.{index}": "#" * size for index in range(contract.Limits.HEAD_BYTES_TOTAL // size + 1)}
    with pytest.raises(LimitExceeded) as refused:
        ik114(tmp_path, files)
    assert refused.value.limit == "HEAD_BYTES_TOTAL"


# --- the real sshd --------------------------------------------------------------------------------------------
SSHD_IMAGE = ("FROM {base}\nRUN apt-get update && apt-get install -y --no-install-recommends openssh-server "
              "&& rm -rf /var/lib/apt/lists/*\n")


@pytest.fixture(scope="module")
def sshd_image(module_image) -> str:
    """imagekit's base with Debian's openssh-server and its stock config."""
    return module_image(SSHD_IMAGE)


def imagekit_lint_ik114(tag: str) -> list[dict]:
    result = subprocess.run([sys.executable, "-m", "imagekit", "lint", "--image", tag, "--profile", "train",
                             "-f", "json"], capture_output=True, text=True, env=os.environ)
    assert result.returncode in (0, 1), result.stderr
    return [finding for finding in json.loads(result.stdout)["findings"] if finding["rule"] == "IK114"]


@pytest.mark.slow
def test_imagekit_lint_image_reads_a_copied_drop_in_that_refuses_root(module_image, sshd_image: str) -> None:
    """In an MPI image (mpi4py's package and an mpirun stand for it), whose sshd is the one the launcher starts."""
    assert imagekit_lint_ik114(sshd_image) == []
    mpi = module_image(f"FROM {sshd_image}\nCOPY mpi4py.py /{MPI4PY}\nCOPY mpirun /usr/bin/mpirun\n",
                       files={"mpi4py.py": "", "mpirun": "#!/bin/sh\n"})
    assert imagekit_lint_ik114(mpi) == []
    refusing = module_image(f"FROM {mpi}\nCOPY mpi.conf {DROP_IN}\n", files={"mpi.conf": "PermitRootLogin no\n"})
    findings = imagekit_lint_ik114(refusing)
    assert len(findings) == 1 and "PermitRootLogin no" in findings[0]["message"], findings


@pytest.mark.slow
def test_the_cases_are_what_the_real_sshd_does(engine, sshd_image: str) -> None:
    """`sshd -T -C user=root,...` prints the settings one root login gets; each case's verdict must agree."""
    script = ["mkdir -p /run/sshd"]
    for case, (main, drop_in, _) in sorted(CASES.items()):
        script += [f"printf %s {shlex.quote(main)} > {contract.SSHD_CONFIG}", f"rm -f {contract.SSHD_CONFIG_DIR}/*",
                   f"printf %s {shlex.quote(drop_in)} > {DROP_IN}", f"echo {shlex.quote('== ' + case)}",
                   "/usr/sbin/sshd -T -C user=root,host=algo-2,addr=10.0.0.2 "
                   "| grep -iE '^(permitrootlogin|pubkeyauthentication) '"]
    output = engine.containers.run(sshd_image, ["sh", "-c", "\n".join(script)], remove=True,
                                   network_mode="none").decode()
    real = {}
    for block in output.split("== ")[1:]:
        case, *settings = block.strip().splitlines()
        real[case] = {"permitrootlogin no", "permitrootlogin forced-commands-only",
                      "pubkeyauthentication no"} & set(settings)
    assert {case: bool(refused) for case, refused in real.items()} == \
        {case: refusing is not None for case, (_, _, refusing) in CASES.items()}, real
