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


def test_ik104_reads_the_files_a_run_writes_from_its_parsed_words() -> None:
    # the words, assignment values and redirection targets of each command (exec form too), never a text search
    for run in ("RUN ln -s /opt/app/run.sh /usr/local/bin/serve", "RUN printf '#!/bin/sh\\n' > /usr/local/bin/serve",
                'RUN ["install", "-m", "755", "app.sh", "/usr/local/bin/serve"]', "RUN cp run.sh serve"):
        assert_clean("IK104", f"FROM python:3.11-slim\n{run}\n", profile="serve")
    for run in ("RUN pip install --no-cache-dir sagemaker-serve==1", "RUN echo serve/ready > /tmp/log"):
        assert_flags("IK104", f"FROM python:3.11-slim\n{run}\n", [1], profile="serve")


def test_ik105_finds_the_env_that_sets_the_program_among_its_pairs() -> None:
    text = ("FROM python:3.11-slim\nENV SAGEMAKER_PROGRAM=train.py\nENV NOTE=\"SAGEMAKER_PROGRAM is set above\"\n"
            "COPY train.py /opt/app/\n")
    assert_flags("IK105", text, [2], profile="train")


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


def test_shell_c_drops_arguments_unless_the_script_passes_them_on() -> None:
    from imagekit.dockerfile.shell import shell_c_drops_arguments

    for argv in (["/bin/sh", "-c", "python -m app"], ["bash", "-c", "exec app \"$@\""], ["bash", "-lc", "app"],
                 ["sh", "-eu", "-o", "pipefail", "-c", "app \"$@\""], ["sh", "-c", "app \"$1\"", "--", "x"]):
        assert shell_c_drops_arguments(argv), argv
    for argv in (["/bin/sh", "-c", "exec /usr/local/bin/entry \"$@\"", "--"], ["bash", "-c", "app $*", "x"],
                 ["sh", "-c", "app \"$1\"", "sh"], ["sh", "-c", "app \"${1:-serve}\"", "sh"], ["sh", "-c", "app $0"],
                 ["sh", "-c", "exec app \"$@\"", "--", "x"], ["/bin/sh", "-c"], ["sh", "/entry.sh"],
                 ["python", "-c", "x"], []):
        assert not shell_c_drops_arguments(argv), argv


def test_ik101_exec_form_shell_c_entrypoint() -> None:
    head = "FROM python:3.11-slim\n"
    for entrypoint in ('["/bin/sh", "-c", "python -m app"]', '["bash", "-c", "python -m app"]'):
        assert_flags("IK101", head + f"ENTRYPOINT {entrypoint}\n", [2], profile="serve")
    assert_clean("IK101", head + 'ENTRYPOINT ["/bin/sh", "-c", "exec /usr/local/bin/entry \\"$@\\"", "--"]\n',
                 profile="serve")


def test_ik101_a_shell_c_script_that_keeps_the_shell_as_pid1() -> None:
    """Passing "$@" on is not enough: without exec the shell stays PID 1 and swallows SIGTERM."""
    head = "FROM python:3.11-slim\n"
    assert_flags("IK101", head + 'ENTRYPOINT ["sh", "-c", "cd /app && python serve.py \\"$@\\"", "--"]\n', [2],
                 profile="serve")
    assert_clean("IK101", head + 'ENTRYPOINT ["sh", "-c", "cd /app && exec python serve.py \\"$@\\"", "--"]\n',
                 profile="serve")


def test_ik101_image_and_dockerfile_agree_on_shell_c_entrypoints(tmp_path) -> None:
    from image.test_image_rules import findings_for, image

    good = image({"Entrypoint": ["/bin/sh", "-c", "exec /usr/local/bin/serve \"$@\"", "--"]})
    assert "IK101" not in findings_for(tmp_path, good, "IK101", {}, "good")
    for name, entrypoint in (("drops", ["/bin/sh", "-c", "python -m app"]),
                             ("pid1", ["sh", "-c", "cd /app && python serve.py \"$@\"", "--"])):
        assert "IK101" in findings_for(tmp_path, image({"Entrypoint": entrypoint}), "IK101", {}, name), name


def test_ik102_init_followed_by_a_program_passes_the_mode_on() -> None:
    head = "FROM python:3.11-slim\n"
    for entrypoint in ('["tini", "--"]', '["dumb-init"]', '["/usr/bin/tini", "-s", "-e", "143", "--"]',
                       '["dumb-init", "--rewrite", "15:2"]'):
        assert_flags("IK102", head + f"ENTRYPOINT {entrypoint}\n", [2], profile="serve")
    for entrypoint in ('["/usr/local/bin/dumb-init", "--", "/usr/local/bin/entry"]', '["tini", "-g", "--", "serve"]',
                       '["dumb-init", "-c", "python", "-m", "app"]', '["tini", "-p", "SIGKILL", "--", "app"]'):
        assert_clean("IK102", head + f"ENTRYPOINT {entrypoint}\n", profile="serve")


def test_pip_general_options_before_install() -> None:
    head = "FROM python:3.11-slim\n"
    assert_flags("IK209", head + "RUN pip -q install flask\n", [2])
    assert_flags("IK209", head + "RUN pip --no-cache-dir install flask\n", [2])
    assert_flags("IK209", head + "RUN python3 -m pip -q --proxy http://proxy:3128 install flask\n", [2])
    assert_flags("IK302", head + "RUN pip -q install flask==3.0.3\n", [2])
    assert_flags("IK302", head + "RUN python -m pip --timeout 60 install flask==3.0.3\n", [2])
    assert_clean("IK302", head + "RUN pip --no-cache-dir install flask==3.0.3\n")
    text = "# imagekit profile=train\n" + head + "RUN pip --no-cache-dir install sagemaker-training==4.7.0\n"
    assert_clean("IK104", text)
    assert_flags("IK104", text.replace("sagemaker-training", "pandas"), [2])


def test_ik200_invalid_escape_directive() -> None:
    assert_flags("IK200", "# escape=x\nFROM python:3.11-slim\nRUN echo hi\n", [1])
    assert_flags("IK200", "# syntax=docker/dockerfile:1\n# escape=x\nFROM python:3.11-slim\n", [2])
    assert_clean("IK200", "# escape=`\nFROM python:3.11-slim\nRUN echo hi `\n    there\n")


def test_ik106_destination_with_a_leading_double_slash() -> None:
    head = "# imagekit profile=train\nFROM python:3.11-slim\n"
    assert_flags("IK106", head + "COPY model.bin //opt/ml/model/\n", [3])
    assert_flags("IK106", head + "WORKDIR //opt/ml\nCOPY model.bin model/\n", [4])


def test_ik306_password_in_a_url() -> None:
    head = "FROM python:3.11-slim\n"
    url = "https://user:s3cr3tpass@pypi.example.com/simple"
    for line in (f"ARG PIP_INDEX_URL={url}", f"ENV PIP_INDEX_URL={url}", f"LABEL index={url}",
                 f"RUN pip install --index-url {url} flask==3.0.3"):
        assert_flags("IK306", head + line + "\n", [2])
    for line in ("ARG PIP_INDEX_URL=https://pypi.example.com/simple", "ARG PIP_INDEX_URL=https://user@example.com/s",
                 "ARG PIP_INDEX_URL=https://${USER}:${PASSWORD}@pypi.example.com/simple",
                 "RUN git clone ssh://git@github.com:22/org/repo.git"):
        assert_clean("IK306", head + line + "\n")


def test_the_classic_scikit_byoc_shape_reports_its_end_of_life_base_and_unverified_get_pip() -> None:
    """AWS's original scikit BYOC example: an Ubuntu 16.04 base and get-pip.py run straight from the network."""
    text = ("FROM ubuntu:16.04\n"
            "RUN apt-get -y update && apt-get install -y --no-install-recommends wget python3 nginx "
            "ca-certificates && rm -rf /var/lib/apt/lists/*\n"
            "RUN wget https://bootstrap.pypa.io/get-pip.py && python3 get-pip.py && "
            "pip install --no-cache-dir numpy==1.16.2 flask==1.1.1\n"
            'ENV PATH="/opt/program:${PATH}"\n'
            "COPY decision_trees /opt/program\nWORKDIR /opt/program\n")
    assert_flags("IK313", text, [1], profile="train")
    assert_flags("IK309", text, [3], profile="train")
    assert_clean("IK104", text, profile="train")


def test_ik104_sees_the_path_an_env_self_reference_failed_to_set() -> None:
    text = "FROM python:3.11-slim\nENV P=/opt/program PATH=$P:$PATH\nCOPY train serve /opt/program/\n"
    assert_flags("IK219", text, [2], profile="train")
    assert_flags("IK104", text, [3], profile="train")  # the program copied off PATH (formerly IK113)


def test_onbuild_triggers_are_judged_and_refused_triggers_are_syntax_errors() -> None:
    assert_flags("IK302", "FROM python:3.11-slim\nONBUILD RUN pip install flask==3.0.3\n", [2])
    for trigger in ("ONBUILD RUN true", "FROM debian:12", "MAINTAINER me"):
        assert_flags("IK200", f"FROM python:3.11-slim\nONBUILD {trigger}\n", [2])


def test_ik309_gpg_dearmor_is_not_a_verification() -> None:
    text = ("FROM debian:12\nRUN curl -fsSL https://example.com/k.asc | gpg --dearmor -o /k.gpg && "
            "curl -fsSL https://example.com/i.py | python3\n")
    assert_flags("IK309", text, [2])


def test_rpm_value_options_are_not_packages() -> None:
    text = "FROM amazonlinux:2023\nRUN dnf install -y --releasever latest --setopt install_weak_deps=False " \
           "tar-1.34 && dnf clean all\n"
    assert_clean("IK220", text)


def test_cache_removal_is_read_from_commands() -> None:
    head = "FROM python:3.11-slim\n"
    for tail in ("&& uv cache clean", "&& pip cache purge", "&& rm -rf ~/.cache/pip/*", "&& rm -rf $HOME/.cache"):
        tool = "uv pip" if "uv" in tail else "pip"
        assert_clean("IK302", head + f"RUN {tool} install flask==3.0.3 {tail}\n")
    assert_flags("IK302", head + "RUN pip install flask==3.0.3 && echo rm -rf /root/.cache\n", [2])
    apt = "RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10"
    assert_clean("IK301", head + apt + " && find /var/lib/apt/lists -type f -delete\n")
    assert_flags("IK301", head + apt + " && rm -rf /var/cache/apt\n", [2])


def test_rules_read_parsed_words_not_raw_text() -> None:
    # IK307: an empty default is no default, however it is quoted
    assert_flags("IK307", 'FROM python:3.11-slim\nARG HF_TOKEN=""\n', [2])
    # IK308: the option as a word of pip (or its = form); a comment-like mention in ENV text is not the variable
    assert_flags("IK308", "FROM python:3.11-slim\nRUN pip install --trusted-host=pypi.internal flask\n", [2])
    assert_clean("IK308", 'FROM python:3.11-slim\nENV NOTE="do not set PIP_TRUSTED_HOST"\n')
    # IK211: `set -euxo pipefail` is a parsed `set` command
    assert_clean("IK211", "FROM debian:12\nRUN set -euxo pipefail; curl -fsSL https://x | tar -xz\n")
    assert_flags("IK211", "FROM debian:12\nRUN echo 'set -o pipefail' && curl -fsSL https://x | tar -xz\n", [2])
    # IK210: a source chosen by a variable (known or not) may be an archive
    assert_clean("IK210", "FROM debian:12\nARG PKG=app.bin\nADD ${PKG} /opt/\n")


def test_ik104_reports_a_program_copied_into_a_directory_off_path() -> None:
    # formerly IK113: the same check (the program SageMaker runs is found), one of its two causes
    bad = ("FROM python:3.11-slim\nENV PROGRAM=/opt/program PATH=$PROGRAM:$PATH\n"
           "COPY --chmod=755 train /opt/program/train\n")
    assert_flags("IK104", bad, [3], profile="train")
    for fixed in ('FROM python:3.11-slim\nENV PATH="/opt/program:${PATH}"\n'
                  'COPY --chmod=755 train serve /opt/program/\n',
                  "FROM python:3.11-slim\nCOPY --chmod=755 train /opt/program/train\n"
                  "RUN ln -s /opt/program/train /usr/local/bin/train\n",
                  'FROM python:3.11-slim\nCOPY --chmod=755 train /opt/program/train\n'
                  'ENTRYPOINT ["python", "/opt/program/train"]\n'):
        assert_clean("IK104", fixed, profile="train")


def test_ik102_an_init_entrypoint_starts_train_from_path() -> None:
    """`docker run IMAGE train` runs `tini -- train`: fine when train is on PATH, the failure IK104 knows when not."""
    for init in ('["tini", "--"]', '["dumb-init", "--"]', '["/usr/bin/tini", "-g", "--"]'):
        byoc = ('FROM python:3.11-slim\nENV PATH="/opt/program:${PATH}"\nCOPY train /opt/program/\n'
                f"ENTRYPOINT {init}\n")
        assert_clean("IK102", byoc, profile="train")
        assert_flags("IK102", byoc.replace('ENV PATH="/opt/program:${PATH}"\n', ""), [3], profile="train")
        assert_flags("IK102", f"FROM python:3.11-slim\nENTRYPOINT {init}\n", [2], profile="serve")
    assert_clean("IK102", "FROM python:3.11-slim\nRUN pip install --no-cache-dir sagemaker-training==5.1.4\n"
                 'ENTRYPOINT ["dumb-init", "--"]\n', profile="train")


def test_ik104_judges_a_renaming_copy_by_its_destination() -> None:
    for copy in ("COPY train.py /opt/program/train", 'COPY ["app.py", "/opt/program/train"]',
                 "COPY --chmod=755 app.py /opt/program/train"):
        text = f"FROM python:3.11-slim\n{copy}\nENV PYTHONUNBUFFERED=1\n"
        assert_flags("IK104", text, [2], profile="train")
        assert_clean("IK104", text.replace("/opt/program/train", "/usr/local/bin/train"), profile="train")
        assert_clean("IK104", 'FROM python:3.11-slim\nENV PATH="/opt/program:${PATH}"\n' + text.split("\n", 1)[1],
                     profile="train")


def test_ik104_is_quiet_when_an_install_it_cannot_read_may_provide_the_program() -> None:
    """AWS's framework containers get train/serve from a toolkit in a requirements file, a local wheel or a venv."""
    for install in ("RUN pip install --no-cache-dir -r requirements.txt",
                    "RUN uv pip install --system -r /requirements.txt",
                    "RUN pip install --no-cache-dir /sagemaker_sklearn_container-2.0-py3-none-any.whl",
                    "RUN pip install --no-cache-dir .", "RUN pip install -e /opt/src",
                    "RUN pip install git+https://github.com/aws/sagemaker-training-toolkit.git",
                    "RUN pip install ${TOOLKIT_WHEEL}", "RUN poetry install --no-root",
                    "RUN conda env create -f environment.yml",
                    'COPY --from=build /opt/venv /opt/venv\nENV PATH="/opt/venv/bin:${PATH}"',
                    "COPY . /", "ADD rootfs/ /"):
        assert_clean("IK104", f"FROM python:3.11-slim\n{install}\n", profile="train")
    for install in ("RUN pip install --no-cache-dir pandas==2.2.2 scikit-learn==1.5.0",
                    "COPY requirements.txt /usr/local/", "COPY --from=build /opt/venv /opt/venv"):
        assert_flags("IK104", f"FROM python:3.11-slim\n{install}\n", [1], profile="train")


def test_ik109_uid_0_is_root_whatever_the_group() -> None:
    for user in ("root:0", "0:root", "root:wheel", "0:1000", " root "):
        assert_clean("IK109", f"FROM python:3.11-slim\nUSER {user}\n", profile="train")
    for user in ("1000:0", "app:root", "rootless"):
        assert_flags("IK109", f"FROM python:3.11-slim\nUSER {user}\n", [2], profile="train")
