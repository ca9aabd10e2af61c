"""Cases beyond the fixtures, mostly false positives found by linting the shared corpus."""

from __future__ import annotations

from rules.helpers import assert_clean, assert_flags


def test_ik104_stays_quiet_when_the_base_is_a_build_arg_without_default() -> None:
    # The base could be a Deep Learning Container that ships `serve`; IK214 reports the missing default.
    assert_clean("IK104", "ARG REGISTRY_URI\nFROM ${REGISTRY_URI}\nENV SAGEMAKER_PROGRAM=inference.py\n",
                 profile="serve")


def test_ik104_sees_a_toolkit_installed_through_a_build_arg_program() -> None:
    text = "FROM python:3.11-slim\nARG PIP=pip3\nRUN ${PIP} install --no-cache-dir sagemaker-pytorch-training==2.8\n"
    assert_clean("IK104", text, profile="train")
    assert_flags("IK104", text.replace("sagemaker-pytorch-training", "pandas"), [1], profile="train")


def test_ik104_copy_of_a_program_directory_into_a_path_directory() -> None:
    text = 'FROM ubuntu:22.04\nENV PATH="/opt/program:${PATH}"\nCOPY src /opt/program\nWORKDIR /opt/program\n'
    assert_clean("IK104", text, profile="train")


def test_ik209_applies_to_pip_named_by_a_build_arg() -> None:
    text = "FROM python:3.11-slim\nARG PIP=pip3\nRUN ${PIP} install --no-cache-dir pandas\n"
    assert_flags("IK209", text, [3])


def test_ik108_knows_the_bidirectional_streaming_capability() -> None:
    assert_clean("IK108", "FROM python:3.11-slim\n"
                 "LABEL com.amazonaws.sagemaker.capabilities.bidirectional-streaming=true\n", profile="serve")


def test_ik108_and_ik112_want_the_exact_lower_case_true() -> None:
    for value in ("True", "TRUE", '" true"'):
        assert_flags("IK108", "FROM python:3.11-slim\n"
                     f"LABEL com.amazonaws.sagemaker.capabilities.multi-models={value}\n", [2], profile="serve")
        assert_flags("IK112", "FROM python:3.11-slim\nENV SAGEMAKER_MULTI_MODEL=true\n"
                     f"LABEL com.amazonaws.sagemaker.capabilities.multi-models={value}\n", [1], profile="serve")


def test_ik105_ignores_an_env_submit_directory() -> None:
    # The training toolkit overwrites SAGEMAKER_SUBMIT_DIRECTORY from the sagemaker_submit_directory hyperparameter.
    text = ("FROM python:3.11-slim\nENV SAGEMAKER_SUBMIT_DIRECTORY=/somewhere\nENV SAGEMAKER_PROGRAM=train.py\n"
            "COPY train.py /somewhere/train.py\n")
    assert_flags("IK105", text, [3], profile="train")
    assert_clean("IK105", text.replace("/somewhere/train.py", "/opt/ml/code/train.py"), profile="train")
    # A toolkit image (SAGEMAKER_TRAINING_MODULE) still runs SAGEMAKER_PROGRAM from the code directory.
    assert_flags("IK105", text.replace("/somewhere\n", "/somewhere\nENV SAGEMAKER_TRAINING_MODULE=pkg.mod:main\n"),
                 [4], profile="train")


def test_ik204_copy_from_a_stage_name_that_only_resembles_one() -> None:
    # docker/compose's Dockerfile has this bug: `set` is not `license-set`, so BuildKit pulls an image `set`.
    text = "FROM alpine:3.20 AS license-set\nRUN mkdir /out\nFROM scratch\nCOPY --from=set /out /\n"
    assert_flags("IK204", text, [4])
