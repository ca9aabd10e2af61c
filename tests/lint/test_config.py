"""Config files (pyproject.toml / .imagekit.yaml, nearest wins) and their effect on findings."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagekit.errors import ImagekitError
from imagekit.lint import run
from imagekit.lint.config import LintConfig, load_config
from imagekit.lint.core import Severity
from imagekit.lint.dockerfile_lint import lint_text


def test_defaults_without_a_config(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config.fail_on == Severity.WARNING and config.profile == "auto" and config.source is None


def test_pyproject_section(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.imagekit.lint]\nignore = ["IK208"]\nfail-on = "error"\n'
        'profile = "serve"\ntrusted-registries = ["*.dkr.ecr.*.amazonaws.com"]\n'
        '[tool.imagekit.lint.severity]\nIK202 = "error"\n[tool.imagekit.lint.options.IK209]\n'
        'ignore-packages = ["pip", "torch"]\n')
    config = load_config(tmp_path / "sub" / "dir")
    assert config.ignored == {"IK208"} and config.fail_on == Severity.ERROR and config.profile == "serve"
    assert config.severity == {"IK202": Severity.ERROR}
    assert config.options["IK209"]["ignore-packages"] == ["pip", "torch"]
    assert config.source == str(tmp_path / "pyproject.toml")


def test_nearest_config_wins_and_yaml_beats_pyproject_in_one_directory(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.imagekit.lint]\nignore = ["IK201"]\n')
    inner = tmp_path / "svc"
    inner.mkdir()
    (inner / "pyproject.toml").write_text('[tool.imagekit.lint]\nignore = ["IK202"]\n')
    (inner / ".imagekit.yaml").write_text("lint:\n  ignore: [IK207]\n")
    assert load_config(inner).ignored == {"IK207"}
    assert load_config(tmp_path).ignored == {"IK201"}


def test_pyproject_without_our_section_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.imagekit.lint]\nignore = ["IK201"]\n')
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "pyproject.toml").write_text('[project]\nname = "unrelated"\n')
    assert load_config(tmp_path / "a").ignored == {"IK201"}


@pytest.mark.parametrize("body", ['ignore = ["DL3008"]', 'colour = "red"', 'severity = { IK202 = "fatal" }',
                                  'fail-on = "sometimes"', 'profile = "batch"'])
def test_bad_settings_name_the_file(tmp_path: Path, body: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.imagekit.lint]\n{body}\n")
    with pytest.raises(ImagekitError) as error:
        load_config(tmp_path)
    assert str(error.value).startswith(str(tmp_path / "pyproject.toml"))


def test_invalid_yaml_is_an_imagekit_error(tmp_path: Path) -> None:
    (tmp_path / ".imagekit.yaml").write_text("lint: [unclosed\n")
    with pytest.raises(ImagekitError):
        load_config(tmp_path)


def test_cli_overrides_add_ignores_and_replace_the_rest() -> None:
    base = LintConfig(ignored=frozenset({"IK201"}), fail_on=Severity.ERROR)
    merged = base.with_overrides(ignore=("ik202",), severity={"IK207": "info"}, profile="train", fail_on="none")
    assert merged.ignored == {"IK201", "IK202"} and merged.severity == {"IK207": Severity.INFO}
    assert merged.profile == "train" and merged.fail_on is None


def test_severity_override_and_ignore_change_findings() -> None:
    config = LintConfig(severity={"IK202": Severity.ERROR}, ignored=frozenset({"IK207"}))
    findings = lint_text("FROM python:latest\nRUN apt-get update\n", config=config)
    assert [(f.rule, f.severity) for f in findings] == [("IK202", Severity.ERROR)]


def test_rule_options_reach_the_rule() -> None:
    config = LintConfig(options={"IK209": {"ignore-packages": ["torch"]}})
    assert lint_text("FROM python:3.11\nRUN pip install --no-cache-dir torch\n", config=config) == []


def test_a_misspelt_rule_option_is_an_error_naming_the_file() -> None:
    config = LintConfig(options={"IK209": {"ignore-package": ["torch"]}}, source="pyproject.toml")
    with pytest.raises(ImagekitError, match=r"^pyproject.toml: options.IK209: unknown option\(s\) ignore-package"):
        lint_text("FROM python:3.11\nRUN pip install --no-cache-dir torch\n", config=config)


def test_trusted_registries_enable_ik203() -> None:
    config = LintConfig(trusted_registries=("*.dkr.ecr.*.amazonaws.com",))
    text = "FROM python:3.11\nFROM 123456789012.dkr.ecr.us-east-1.amazonaws.com/base:1\n"
    assert [(f.rule, f.line) for f in lint_text(text, config=config)] == [("IK203", 1)]


def test_each_file_uses_its_nearest_config(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / ".imagekit.yaml").write_text("lint:\n  ignore: [IK202]\n")
    for d in ("a", "b"):
        (tmp_path / d / "Dockerfile").write_text("FROM python:latest\n")
    result = run([tmp_path / "a" / "Dockerfile", tmp_path / "b" / "Dockerfile"])
    assert [(Path(f.file).parent.name, f.rule) for f in result.findings] == [("b", "IK202")]


@pytest.mark.parametrize("text, message", [
    ("lint:\n  ignore: [IK999]\n", r"ignore: there is no rule IK999"),
    ("lint:\n  severity: {IK998: error}\n", r"severity: there is no rule IK998"),
    ("lint:\n  options: {IK997: {x: 1}}\n", r"options: there is no rule IK997"),
    # IK101 does not run on a generic file, yet its misspelt option is still reported.
    ("lint:\n  options: {IK101: {foo: 1}}\n", r"options.IK101: unknown option\(s\) foo"),
    ("lint:\n  options: {IK209: {ignore-packages: 5}}\n", r"options.IK209.ignore-packages must be a list"),
    ("lint:\n  options: {IK531: {min_bytes: big}}\n", r"options.IK531.min_bytes: 'big' is not a byte count"),
    ("lnt:\n  ignore: [IK209]\n", r"unknown key\(s\) lnt in the top level"),
])
def test_what_a_config_names_must_exist_and_fit(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / ".imagekit.yaml").write_text(text)
    with pytest.raises(ImagekitError, match=rf"^{tmp_path / '.imagekit.yaml'}: {message}"):
        load_config(tmp_path)


def test_a_misspelt_table_next_to_lint_in_pyproject_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.imagekit.lnt]\nignore = ["IK209"]\n')
    with pytest.raises(ImagekitError, match=r"unknown key\(s\) lnt in \[tool.imagekit\]"):
        load_config(tmp_path)


def test_an_image_rule_may_be_configured_and_byte_options_take_sizes(tmp_path: Path) -> None:
    (tmp_path / ".imagekit.yaml").write_text("lint:\n  ignore: [IK541]\n  options: {IK540: {size_budget: 2GB}}\n")
    config = load_config(tmp_path)
    from imagekit.lint.core import all_rules

    assert config.ignored == {"IK541"}
    assert config.options_for(all_rules()["IK540"]) == {"size_budget": 2_000_000_000}
    for written, meant in (("null", None), ("1e9", 1_000_000_000), ("500MB", 500_000_000)):
        (tmp_path / ".imagekit.yaml").write_text(f"lint:\n  options: {{IK540: {{size_budget: {written}}}}}\n")
        assert load_config(tmp_path).options_for(all_rules()["IK540"]) == {"size_budget": meant}


def test_an_explicit_toml_config_that_is_not_pyproject_is_read_as_toml(tmp_path: Path) -> None:
    (tmp_path / "lint.toml").write_text('[tool.imagekit.lint]\nignore = ["IK209"]\n')
    assert load_config(tmp_path, tmp_path / "lint.toml").ignored == {"IK209"}


@pytest.mark.parametrize("overrides, message", [
    ({"ignore": ("IK999",)}, r"^--ignore: there is no rule IK999"),
    ({"severity": {"IK999": "error"}}, r"^--severity: there is no rule IK999"),
])
def test_command_line_rule_ids_must_exist(overrides: dict, message: str) -> None:
    with pytest.raises(ImagekitError, match=message):
        LintConfig().with_overrides(**overrides)



@pytest.mark.parametrize(("file", "text"), [
    (".imagekit.yaml", "lint: {options: {IK209: {ignore-packages: flask}}}\n"),  # a string: a one-item list
    ("pyproject.toml", '[tool.imagekit.lint.options.IK209]\nignore-packages = "flask"\n'),
    (".imagekit.yaml", "lint: {options: {IK209: {ignore-packages: [Flask]}}}\n"),  # pip's names ignore case
    (".imagekit.yaml", "lint: {options: {IK209: {ignore-packages: [FLASK, ruamel_yaml]}}}\n"),  # and - _ . alike
])
def test_a_list_option_takes_one_string_and_pips_names(tmp_path: Path, file: str, text: str) -> None:
    (tmp_path / file).write_text(text)
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\nRUN pip install --no-cache-dir flask ruamel.yaml "
                                         "torch\n")
    messages = [f.message for f in run([tmp_path / "Dockerfile"]).findings if f.rule == "IK209"]
    loose = "torch" if "ruamel" in text else "ruamel.yaml, torch"
    assert messages == [f"pip installs {loose} without a version; the next build may get a different release."]
