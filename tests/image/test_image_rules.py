"""Every image rule: a small image that triggers it and one that does not, built as docker-save archives."""

from __future__ import annotations

from pathlib import Path

import pytest

from image.archive import BASE_LAYER, Dir, File, Link, docker_save, elf
from imagekit.image.example import EXAMPLE_BASE_CONFIG, EXAMPLE_BASE_LAYERS, SERVE_SCRIPT, ImageExample
from imagekit.lint.config import LintConfig
from imagekit.lint.core import load_rules
from imagekit.lint.image_lint import lint_image

SERVE = SERVE_SCRIPT.encode()
GOOD_CONFIG = dict(EXAMPLE_BASE_CONFIG)
GOOD_LAYERS = [list(layer.items()) for layer in EXAMPLE_BASE_LAYERS]
ENGINE_ONLY = {"IK526": "a multi-platform OCI index (tests/image/test_sources.py)",
               "IK550": "needs --dockerfile (tests/image/test_sources.py)"}
WITH_EXAMPLES = {code: rule for code, rule in load_rules("image").items() if code not in ENGINE_ONLY}


def image(config_changes: dict | None = None, extra_layers: list | None = None,
          top: list | None = None) -> tuple[dict, list]:
    config = {**GOOD_CONFIG, **(config_changes or {})}
    layers = [BASE_LAYER, top if top is not None else GOOD_LAYERS[1], *(extra_layers or [])]
    return config, layers


def findings_for(tmp_path: Path, spec: tuple, code: str, options: dict, name: str) -> list[str]:
    (config, layers) = spec
    archive = docker_save(tmp_path / f"{name}.tar", config, layers)
    lint_config = LintConfig(options={code: options}) if options else LintConfig()
    return [f.rule for f in lint_image(str(archive), config=lint_config, profiles={"train", "serve"})]


def example_findings(tmp_path: Path, example: ImageExample, code: str, name: str) -> list[str]:
    """Every rule's findings on the example, built as a `docker save` archive and read like any other image."""
    archive = docker_save(tmp_path / f"{name}.tar", example.image_config, example.layers,
                          architecture=example.architecture)
    config = LintConfig(options={code: dict(example.options)}) if example.options else LintConfig()
    return [f.rule for f in lint_image(str(archive), config=config, profiles={"train", "serve"})]


@pytest.mark.parametrize("code", sorted(WITH_EXAMPLES))
def test_bad_example_triggers_the_rule_and_good_example_nothing(tmp_path: Path, code: str) -> None:
    """The examples docs/rules.md shows: the bad one is this rule's finding, the good one is clean."""
    rule = WITH_EXAMPLES[code]
    assert code in example_findings(tmp_path, rule.example_bad, code, "bad")
    assert example_findings(tmp_path, rule.example_good, code, "good") == []


def test_good_image_has_no_findings(tmp_path: Path) -> None:
    archive = docker_save(tmp_path / "good.tar", GOOD_CONFIG, GOOD_LAYERS)
    assert lint_image(str(archive), profiles={"train", "serve"}) == []


def test_every_image_rule_has_examples_and_metadata() -> None:
    for code, rule in load_rules("image").items():
        # IK5xx, or the id of the Dockerfile rule whose check this is the image implementation of
        assert rule.code.startswith(("IK5", "IK6", "IK7")) or rule.code in load_rules("dockerfile")
        assert rule.target == "image"
        assert rule.summary and rule.rationale and rule.fix and len(rule.summary) <= 120
        assert code in ENGINE_ONLY or (isinstance(rule.example_bad, ImageExample)
                                       and isinstance(rule.example_good, ImageExample)), code


def test_ik105_looks_in_the_code_directory_whatever_env_submit_directory_says(tmp_path: Path) -> None:
    # The training toolkit overwrites SAGEMAKER_SUBMIT_DIRECTORY from the sagemaker_submit_directory hyperparameter.
    env = ["SAGEMAKER_PROGRAM=train.py", "SAGEMAKER_SUBMIT_DIRECTORY=/somewhere"]
    elsewhere = image({"Env": env}, extra_layers=[[("somewhere/train.py", b"print(1)\n")]])
    in_code_dir = image({"Env": env}, extra_layers=[[("opt/ml/code/train.py", b"print(1)\n")]])
    assert "IK105" in findings_for(tmp_path, elsewhere, "IK105", {}, "elsewhere")
    assert "IK105" not in findings_for(tmp_path, in_code_dir, "IK105", {}, "in_code_dir")


def test_entrypoint_resolution_follows_symlinks_across_layers_and_respects_whiteouts(tmp_path: Path) -> None:
    layers = [BASE_LAYER,
              [("opt/app", Dir()), ("opt/app/serve-v1", SERVE), ("usr/local/bin/serve", Link("/opt/app/serve-v1"))],
              [("opt/app/.wh.serve-v1", b"")]]
    archive = docker_save(tmp_path / "img.tar", {"Entrypoint": ["serve"], "Env": ["PATH=/usr/local/bin:/usr/bin"]},
                          layers)
    findings = lint_image(str(archive), profiles={"serve"})
    assert [f.rule for f in findings] == ["IK104"]
    assert "/opt/app/serve-v1" in findings[0].path


def test_symlink_loop_is_reported_not_hung(tmp_path: Path) -> None:
    layers = [BASE_LAYER, [("usr/local/bin/serve", Link("/usr/local/bin/loop")), ("usr/local/bin/loop", Link("serve"))]]
    archive = docker_save(tmp_path / "img.tar", {"Entrypoint": ["/usr/local/bin/serve"]}, layers)
    findings = lint_image(str(archive), profiles={"serve"})
    assert [f.rule for f in findings] == ["IK104"] and "symlink loop" in findings[0].message


def test_non_executable_for_a_non_root_user(tmp_path: Path) -> None:
    layers = [BASE_LAYER, [("usr/local/bin/serve", File(SERVE, 0o744, uid=0))]]
    archive = docker_save(tmp_path / "img.tar", {"Entrypoint": ["/usr/local/bin/serve"], "User": "1000"}, layers)
    assert "IK104" in [f.rule for f in lint_image(str(archive), profiles={"serve"})]


def test_no_entrypoint_proves_train_and_serve_on_path(tmp_path: Path) -> None:
    layers = [BASE_LAYER, [("usr/local/bin/train", SERVE)]]
    archive = docker_save(tmp_path / "img.tar", {"Env": ["PATH=/usr/local/bin:/usr/bin"]}, layers)
    findings = lint_image(str(archive), profiles={"train", "serve"})
    assert [(f.rule, "serve" in f.message) for f in findings] == [("IK104", True)]


def test_script_interpreter_built_for_another_cpu(tmp_path: Path) -> None:
    layers = [BASE_LAYER, [("usr/local/bin/serve", b"#!/opt/arm/python\n"), ("opt/arm/python", elf(183))]]
    archive = docker_save(tmp_path / "img.tar", {"Entrypoint": ["/usr/local/bin/serve"]}, layers)
    findings = [f for f in lint_image(str(archive), profiles={"serve"}) if f.rule == "IK504"]
    assert [f.path for f in findings] == ["/opt/arm/python"] and "arm64" in findings[0].message


@pytest.mark.parametrize("user, mode, owner, executable", [
    ("model", 0o700, 1000, True),  # the owner, by name through /etc/passwd
    ("model", 0o610, 1000, False),  # the owner class applies alone: no x for the owner, whatever the group has
    ("model", 0o710, 0, True),  # root-owned, group 2000 = the user's group from its passwd line
    ("1001", 0o750, 0, False),  # neither owner nor group, no other bit
    ("1001:2000", 0o750, 0, True),  # an explicit numeric group
])
def test_executable_bits_follow_the_users_passwd_entry(tmp_path: Path, user: str, mode: int, owner: int,
                                                       executable: bool) -> None:
    passwd = b"root:x:0:0:root:/root:/bin/sh\nmodel:x:1000:2000::/home/model:/bin/sh\n"
    serve = File(SERVE, mode, uid=owner, gid=2000)
    layers = [BASE_LAYER, [("etc/passwd", passwd), ("usr/local/bin/serve", serve)]]
    archive = docker_save(tmp_path / "img.tar", {"Entrypoint": ["/usr/local/bin/serve"], "User": user}, layers)
    rules = [f.rule for f in lint_image(str(archive), profiles={"serve"})]
    assert ("IK104" not in rules) is executable, rules


@pytest.mark.parametrize("user, executable", [
    ("model", True),  # staff (the file's group) lists model as a member, as `useradd -G staff model` writes it
    ("1000", True),  # a uid in /etc/passwd gets that name's supplementary groups too, as `docker run` does
    ("model:model", False),  # an explicit group replaces the supplementary groups
    ("1000:50", True),  # an explicit numeric group
    ("other", False),  # in no group of the file
])
def test_supplementary_groups_from_etc_group_count(tmp_path: Path, user: str, executable: bool) -> None:
    passwd = b"root:x:0:0:root:/root:/bin/sh\nmodel:x:1000:1000::/home/model:/bin/sh\nother:x:1001:1001::/:/bin/sh\n"
    group = b"root:x:0:\nstaff:x:50:other2,model\nmodel:x:1000:\nother:x:1001:\n"
    serve = File(SERVE, 0o750, uid=0, gid=50)
    layers = [BASE_LAYER, [("etc/passwd", passwd), ("etc/group", group), ("usr/local/bin/serve", serve)]]
    archive = docker_save(tmp_path / "img.tar", {"Entrypoint": ["/usr/local/bin/serve"], "User": user}, layers)
    rules = [f.rule for f in lint_image(str(archive), profiles={"serve"})]
    assert ("IK104" not in rules) is executable, rules


def test_a_directory_where_the_program_should_be(tmp_path: Path) -> None:
    layers = [BASE_LAYER, [("usr/local/bin/serve", Dir()), ("opt/program", Dir())]]
    on_path = docker_save(tmp_path / "path.tar", {"Env": ["PATH=/usr/local/bin:/usr/bin"]}, layers)
    messages = [f.message for f in lint_image(str(on_path), profiles={"serve"}) if f.rule == "IK104"]
    assert messages == ["`docker run IMAGE serve` runs 'serve', which does not resolve in the image: "
                        "/usr/local/bin/serve is a directory, not a program."]
    absolute = docker_save(tmp_path / "abs.tar", {"Entrypoint": ["/opt/program"]}, layers)
    messages = [f.message for f in lint_image(str(absolute), profiles={"serve"}) if f.rule == "IK104"]
    assert messages == ["`docker run IMAGE serve` runs /opt/program, which is a directory, not a program."]


def test_user_missing_from_passwd(tmp_path: Path) -> None:
    archive = docker_save(tmp_path / "img.tar", {**GOOD_CONFIG, "User": "ghost"}, GOOD_LAYERS)
    findings = [f for f in lint_image(str(archive), profiles={"serve"}) if f.rule == "IK104"]
    assert [f.path for f in findings] == ["/etc/passwd"] and "ghost" in findings[0].message


def test_ik522_finds_a_password_in_an_env_url(tmp_path: Path) -> None:
    leaky = image({"Env": ["PIP_INDEX_URL=https://ci:s3cr3tpass@pypi.example.com/simple"]})
    assert "IK522" in findings_for(tmp_path, leaky, "IK522", {}, "leaky")
    safe = image({"Env": ["PIP_INDEX_URL=https://pypi.example.com/simple"]})
    assert "IK522" not in findings_for(tmp_path, safe, "IK522", {}, "safe")


def test_an_opt_program_entrypoint_counts_as_sagemaker_evidence(tmp_path: Path) -> None:
    """The Dockerfile linter treats /opt/program as SageMaker evidence; inferring an image's profile agrees."""
    config = {"Entrypoint": ["/opt/program/entry"], "Cmd": None, "Env": ["PATH=/usr/bin:/bin"]}
    archive = docker_save(tmp_path / "byoc.tar", config, [BASE_LAYER, [("opt/program/README", b"gone\n")]])
    assert "IK104" in [f.rule for f in lint_image(str(archive))]


def test_ik531_fix_names_what_removes_the_bytes_found(tmp_path: Path) -> None:
    debs = image(extra_layers=[[("var/cache/apt/archives/curl_7.88_amd64.deb", b"x" * 2_000_000)]])
    lists = image(extra_layers=[[("var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease", b"x" * 2_000_000)]])
    fixes = {}
    for name, spec in (("debs", debs), ("lists", lists)):
        archive = docker_save(tmp_path / f"{name}.tar", *spec)
        fixes[name] = [f.fix for f in lint_image(str(archive), profiles={"generic"}) if f.rule == "IK531"]
    assert len(fixes["debs"]) == 1 and "apt-get clean" in fixes["debs"][0]
    assert "lists" not in fixes["debs"][0]
    assert len(fixes["lists"]) == 1 and "rm -rf /var/lib/apt/lists/*" in fixes["lists"][0]


def test_ik530_skips_the_test_keys_python_packages_ship_and_keeps_real_leaks(tmp_path: Path) -> None:
    """gevent (the training toolkit's dependency) and future (multi-model-server's) ship public test keys."""
    key = b"-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n"
    site = "usr/local/lib/python3.11/site-packages"
    fixtures = [f"{site}/gevent/tests/server.key", f"{site}/future/backports/test/badkey.pem",
                "usr/lib/python3/dist-packages/twisted/test/server.pem", "usr/lib/python3.11/test/keycert.pem",
                f"{site}/dotenv/tests/.env"]
    assert "IK530" not in findings_for(tmp_path, image(extra_layers=[[(p, key) for p in fixtures]]), "IK530", {},
                                       "fixtures")
    for leak in ("root/key.pem", "opt/program/server.key", "home/app/.ssh/id_rsa", f"{site}/myapp/deploy.pem",
                 "opt/tests/server.key"):
        assert "IK530" in findings_for(tmp_path, image(extra_layers=[[(leak, key)]]), "IK530", {}, "leak"), leak


def test_an_init_entrypoint_starts_train_and_serve_from_path(tmp_path: Path) -> None:
    """`tini -- train` runs `train` from PATH: the image is checked for it, as the Dockerfile rule IK102 is."""
    tini = ("usr/bin/tini", File(elf(), 0o755))
    config = {"Entrypoint": ["/usr/bin/tini", "--"], "Cmd": None, "Env": ["PATH=/usr/local/bin:/usr/bin"]}
    works = docker_save(tmp_path / "works.tar", config, [BASE_LAYER, [tini, ("usr/local/bin/train", SERVE)]])
    assert lint_image(str(works), profiles={"train"}) == []
    broken = docker_save(tmp_path / "broken.tar", config, [BASE_LAYER, [tini, ("opt/program/train", SERVE)]])
    findings = [f.message for f in lint_image(str(broken), profiles={"train"}) if f.rule == "IK104"]
    assert len(findings) == 1 and "'train'" in findings[0], findings


def test_ik522_an_on_off_switch_is_no_credential(tmp_path: Path) -> None:
    switches = image({"Env": ["HF_HUB_DISABLE_IMPLICIT_TOKEN=1", "HF_HUB_DISABLE_TOKEN=true", "WANDB_API_KEY=off"]})
    assert "IK522" not in findings_for(tmp_path, switches, "IK522", {}, "switches")
    token = image({"Env": ["HF_HUB_DISABLE_TOKEN=hf_abcdefghijklmnopqrstuvwxyz0123456789", "HF_TOKEN=abc123"]})
    assert findings_for(tmp_path, token, "IK522", {}, "token").count("IK522") == 2


@pytest.mark.parametrize("user, root", [("root:0", True), ("0:wheel", True), ("toor", True), ("1000:0", False)])
def test_ik109_uid_0_is_root_whatever_the_group_or_name(tmp_path: Path, user: str, root: bool) -> None:
    passwd = ("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\ntoor:x:0:0::/root:/bin/sh\n")
    archive = docker_save(tmp_path / "img.tar", {**GOOD_CONFIG, "User": user}, [*GOOD_LAYERS, [passwd]])
    assert ("IK109" in [f.rule for f in lint_image(str(archive), profiles={"serve"})]) is not root


def test_a_program_found_only_through_a_relative_path_entry(tmp_path: Path) -> None:
    """The runtime's exec.LookPath refuses a match through `.` (ErrDot): `exec: "train": cannot run executable found
    relative to current directory`."""
    config = {"Entrypoint": None, "Cmd": None, "WorkingDir": "/opt/program", "Env": ["PATH=.:/usr/bin:/bin"]}
    archive = docker_save(tmp_path / "img.tar", config, [BASE_LAYER, [("opt/program/train", SERVE)]])
    findings = [f.message for f in lint_image(str(archive), profiles={"train"}) if f.rule == "IK104"]
    assert len(findings) == 1 and "relative PATH entry '.'" in findings[0], findings
    absolute = {**config, "Env": ["PATH=/opt/program:.:/usr/bin:/bin"]}
    archive = docker_save(tmp_path / "abs.tar", absolute, [BASE_LAYER, [("opt/program/train", SERVE)]])
    assert [f for f in lint_image(str(archive), profiles={"train"}) if f.rule == "IK104"] == []


def test_whole_image_name_searches_see_paths_with_a_newline_in_them(tmp_path: Path) -> None:
    """The path searches join every path with newlines; a hostile directory name holding one must not hide a
    credential file below it (IK530) or a .git directory (IK532)."""
    hidden = [("root/x\ny/.aws/credentials", b"[default]\naws_secret_access_key=abc\n"),
              ("opt/a\nb/.git", Dir()), ("opt/a\nb/.git/HEAD", b"ref: refs/heads/main\n")]
    found = findings_for(tmp_path, image(extra_layers=[hidden]), "IK530", {}, "newline")
    assert {"IK530", "IK532"} <= set(found)
