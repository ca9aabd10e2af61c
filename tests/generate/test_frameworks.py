"""Framework/CUDA resolution: defaults, explanations, and nearest-valid suggestions for impossible combos."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from generate.helpers import write_project
from imagekit.cli import app
from imagekit.errors import ImagekitError
from imagekit.spec import load_spec
from imagekit.spec.frameworks import data, resolve


def _resolve(tmp_path, **fields):
    return resolve(load_spec(write_project(tmp_path, {"name": "m", **fields})))


def _choices(resolution):
    return {choice.what: (choice.value, choice.rule) for choice in resolution.choices}


def test_pytorch_cuda_defaults_to_wheels_mode_on_python_base(tmp_path):
    resolution = _resolve(tmp_path, framework={"name": "pytorch", "version": "2.5.1"}, accelerator="cuda")
    assert (resolution.cuda, resolution.cudnn, resolution.cuda_mode) == ("12.4", "9.1", "wheels")
    assert resolution.index_url == "https://download.pytorch.org/whl/cu124"
    assert resolution.runtime_base.startswith("python:3.11-slim")
    choices = _choices(resolution)
    assert choices["CUDA"] == ("12.4", "pytorch 2.5 default build")
    assert choices["min host driver"][0] == "550.54.15"


def test_system_mode_uses_nvidia_devel_builder_and_runtime_final(tmp_path):
    resolution = _resolve(tmp_path, framework={"name": "pytorch", "version": "2.4.0"}, accelerator="cuda",
                          cuda={"version": "12.1", "mode": "system"})
    assert resolution.builder_base == "nvidia/cuda:12.1.1-cudnn-devel-ubuntu22.04"
    assert resolution.runtime_base == "nvidia/cuda:12.1.1-cudnn-runtime-ubuntu22.04"
    assert resolution.apt_python and resolution.python == "3.10"


def test_newer_pytorch_defaults_to_its_own_build(tmp_path):
    resolution = _resolve(tmp_path, framework={"name": "pytorch", "version": "2.9.1"}, accelerator="cuda")
    assert (resolution.cuda, resolution.cudnn) == ("12.8", "9.10")
    assert resolution.index_url == "https://download.pytorch.org/whl/cu128"
    assert _choices(resolution)["min host driver"][0] == "570.124.06"


def test_every_matrix_cuda_version_is_in_the_cuda_table():
    table = data()["cuda"]
    for framework, rows in data()["matrix"].items():
        for minor, entry in rows.items():
            assert entry["default"] in entry["cuda"], (framework, minor)
            assert set(entry["cuda"]) <= set(table), (framework, minor, set(entry["cuda"]) - set(table))


def test_unknown_framework_version_suggests_nearest(tmp_path):
    with pytest.raises(ImagekitError) as raised:
        _resolve(tmp_path, framework={"name": "pytorch", "version": "2.1.0"}, accelerator="cuda")
    assert "Nearest valid versions: 2.3" in str(raised.value)


def test_cuda_not_built_for_version_lists_valid_ones(tmp_path):
    with pytest.raises(ImagekitError) as raised:
        _resolve(tmp_path, framework={"name": "pytorch", "version": "2.5.1"}, accelerator="cuda",
                 cuda={"version": "12.6"})
    message = str(raised.value)
    assert "12.4, 12.1, 11.8" in message and "built for CUDA 12.6: 2.6, 2.7, 2.8, 2.9" in message


def test_cpu_only_preset_refuses_cuda(tmp_path):
    with pytest.raises(ImagekitError, match="no cuda build"):
        _resolve(tmp_path, framework={"name": "sklearn"}, accelerator="cuda")


def test_cuda_section_needs_cuda_accelerator(tmp_path):
    with pytest.raises(ImagekitError, match="accelerator: cuda"):
        _resolve(tmp_path, framework={"name": "pytorch"}, cuda={"version": "12.4"})


def test_explain_prints_every_choice_and_rule(tmp_path):
    write_project(tmp_path, {"name": "m", "framework": {"name": "tensorflow"}, "accelerator": "cuda"})
    result = CliRunner().invoke(app, ["explain", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for line in ("framework", "tensorflow 2.18.0", "preset default pin", "CUDA", "12.5", "cuDNN", "9.3",
                 "runtime base", "wheel index"):
        assert line in result.output
