"""`--profile auto`: what the file says about SageMaker picks train, serve, both, or generic."""

from __future__ import annotations

import pytest

from imagekit.dockerfile import parse
from imagekit.lint.config import LintConfig
from imagekit.lint.dockerfile_lint import infer_profiles, resolve_profiles


@pytest.mark.parametrize("text, expected", [
    ("FROM python:3.11-slim\nCOPY app.py /app/\n", {"generic"}),
    ("FROM python:3.11\nRUN pip install sagemaker-training==4.8.0\n", {"train"}),
    ("FROM python:3.11\nENV SAGEMAKER_TRAINING_MODULE=pkg.training:main\n", {"train"}),
    ("FROM python:3.11\nCOPY --chmod=755 train /opt/program/train\n", {"train"}),
    ("FROM python:3.11\nRUN pip install multi-model-server==1.1 sagemaker-inference==1.10\n", {"serve"}),
    ("FROM python:3.11\nLABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true\n", {"serve"}),
    ("FROM python:3.11\nCOPY serve /opt/program/\nEXPOSE 8080\n", {"serve"}),
    # Both modes use SAGEMAKER_PROGRAM and /opt/ml/model: on their own they do not decide, so both apply.
    ("FROM python:3.11\nENV SAGEMAKER_PROGRAM=inference.py\n", {"train", "serve"}),
    ("FROM python:3.11\nRUN mkdir -p /opt/ml/model\n", {"train", "serve"}),
    # A training image creating the whole /opt/ml tree, /opt/ml/model included, is a training image.
    ("FROM python:3.11\nRUN mkdir -p /opt/ml/input/data /opt/ml/model /opt/ml/output\n", {"train"}),
    ("FROM python:3.11\nCOPY train serve /opt/program/\n", {"train", "serve"}),
])
def test_inferred_profiles(text: str, expected: set[str]) -> None:
    assert infer_profiles(parse(text)) == expected


def test_flag_beats_pragma_beats_config_beats_inference() -> None:
    df = parse("# imagekit profile=serve\nFROM python:3.11\nRUN pip install sagemaker-training==4.8.0\n")
    assert resolve_profiles(df, "generic", LintConfig(profile="train"), "serve") == {"generic"}
    assert resolve_profiles(df, None, LintConfig(profile="train"), "serve") == {"serve"}
    assert resolve_profiles(df, "auto", LintConfig(profile="train"), None) == {"train"}
    assert resolve_profiles(df, None, LintConfig(), None) == {"train"}
