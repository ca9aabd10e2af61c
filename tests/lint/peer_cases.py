"""imagekit's own regression cases for the meanings it shares with hadolint.

Each case is a Dockerfile, the hadolint rule and the imagekit rule(s) that mean the same thing, and whether the
peer reports it (checked against a real hadolint when one is installed). A case marked ``differs`` is a deliberate
difference; its reason names the rule whose docs state it. Written for imagekit (hadolint's own specs were read
for what the peer considers right, none copied).
"""

from __future__ import annotations

from dataclasses import dataclass

# hadolint rule -> the imagekit rules that carry the same meaning
SHARED = {
    "DL3000": ("IK206",), "DL3002": ("IK109",), "DL3004": ("IK311",), "DL3006": ("IK201",), "DL3007": ("IK202",),
    "DL3008": ("IK208",), "DL3009": ("IK301",), "DL3013": ("IK209",), "DL3015": ("IK304",), "DL3020": ("IK210",),
    "DL3022": ("IK204",), "DL3024": ("IK215",), "DL3025": ("IK218",), "DL3026": ("IK203",), "DL3042": ("IK302",),
    "DL3043": ("IK200",), "DL3045": ("IK216",), "DL3061": ("IK200",), "DL4000": ("IK217",), "DL4003": ("IK205",),
    "DL4004": ("IK205",), "DL4006": ("IK211",), "DL3044": ("IK219",), "DL3032": ("IK314",), "DL3040": ("IK314",),
    "DL3033": ("IK220",), "DL3041": ("IK220",),
}
TRUSTED = ("trusted.example.com", "docker.io")  # the allow-list every case runs with (hadolint --trusted-registry)


@dataclass(frozen=True)
class Case:
    peer: str  # hadolint rule
    text: str  # the Dockerfile
    fires: bool  # hadolint reports `peer` on it
    differs: str = ""  # a deliberate difference: imagekit gives the opposite verdict, for this reason

    @property
    def rules(self) -> tuple[str, ...]:
        return SHARED[self.peer]


def _cases(peer: str, fires: bool, *texts: str, differs: str = "") -> list[Case]:
    return [Case(peer, text if text.startswith(("FROM", "ARG", "LABEL", "#")) else "FROM debian:12.5\n" + text,
                 fires, differs) for text in texts]


APT = "apt-get update && apt-get install -y --no-install-recommends"
CASES: list[Case] = [
    # DL3000 / IK206: WORKDIR must be absolute
    *_cases("DL3000", True, "WORKDIR app\n", "WORKDIR usr/src\n", "WORKDIR ./build\n"),
    *_cases("DL3000", False, "WORKDIR /app\n", "WORKDIR $HOME\n", "WORKDIR ${APP_ROOT}/src\n", 'WORKDIR "/srv/x"\n',
            "WORKDIR C:\\\\work\n", "WORKDIR /opt/program\nWORKDIR /opt/ml/code\n"),
    # DL3002 / IK109: the last USER is root. SageMaker expects root, so imagekit reports the opposite.
    *_cases("DL3002", True, "USER root\nENTRYPOINT [\"serve\"]\n", "USER 0\nENTRYPOINT [\"serve\"]\n",
            differs="IK109: SageMaker containers are expected to run as root"),
    *_cases("DL3002", False, "USER 1000\nENTRYPOINT [\"serve\"]\n", "USER app:app\nENTRYPOINT [\"serve\"]\n",
            differs="IK109: SageMaker containers are expected to run as root"),
    *_cases("DL3002", False, "USER root\nRUN id\nUSER nobody\nUSER root\nUSER nobody\n",
            differs="IK109: SageMaker containers are expected to run as root"),
    # DL3004 / IK311: sudo in RUN
    *_cases("DL3004", True, "RUN sudo apt-get update\n", "RUN make && sudo make install\n",
            "RUN echo hi | sudo tee /etc/motd\n", "ONBUILD RUN sudo make install\n"),
    *_cases("DL3004", False, "RUN apt-get update\n", "RUN echo sudo is not run here\n", "RUN pseudo-tool --x\n",
            "RUN useradd -G sudo app\n"),
    # DL3006 / IK201: tag the base image
    *_cases("DL3006", True, "FROM debian\n", "FROM quay.io/org/app\n", "FROM python AS build\nRUN true\n"),
    *_cases("DL3006", False, "ARG BASE=ubuntu\nFROM ${BASE}\n", differs="IK201: build args are expanded"),
    *_cases("DL3006", False, "FROM debian:12.5\n", "FROM ubuntu@sha256:" + "a" * 64 + "\n", "FROM scratch\n",
            "FROM python:3.11 AS build\nFROM build\nRUN true\n", "ARG BASE=ubuntu:22.04\nFROM ${BASE}\n",
            "FROM localhost:5000/team/img:1.2\n", "FROM docker.io/library/python:3.12-slim\n"),
    # DL3007 / IK202: latest
    *_cases("DL3007", True, "FROM debian:latest\n", "FROM quay.io/org/app:latest\n",
            "FROM python:latest AS base\nRUN true\n"),
    *_cases("DL3007", False, "FROM debian:12.5\n", "FROM registry.example.com:443/app:1\n",
            "FROM debian:latest-slim-tagged-weirdly@sha256:" + "b" * 64 + "\n"),
    # DL3008 / IK208: pin apt packages
    *_cases("DL3008", True, f"RUN {APT} curl && rm -rf /var/lib/apt/lists/*\n",
            "RUN apt-get install -y --no-install-recommends python3=3.11.2-1 git\n",
            "RUN apt-get install -y --no-install-recommends git && apt-get install -y --no-install-recommends curl\n"),
    *_cases("DL3008", False, "RUN apt install -y --no-install-recommends vim\n",
            "RUN aptitude install -y --without-recommends less\n",
            differs="IK208: apt and aptitude are judged like apt-get"),
    *_cases("DL3008", False, f"RUN {APT} curl=7.88.1-10 && rm -rf /var/lib/apt/lists/*\n",
            "RUN apt-get install -y --no-install-recommends ./local.deb\n",
            "RUN apt-get update\n",
            "RUN apt-get -y -o Dpkg::Options::=--force-confnew install --no-install-recommends git=1:2.39.2-1\n"),
    # DL3009 / IK301: remove apt lists
    *_cases("DL3009", True, f"RUN {APT} curl=7.88.1-10\n", "RUN apt-get update && apt-get install -y git=1:2.39\n",
            "RUN aptitude update && aptitude install -y git=1:2.39\n"),
    *_cases("DL3009", False, f"RUN {APT} curl=7.88.1-10 && rm -rf /var/lib/apt/lists/*\n",
            "RUN --mount=type=cache,target=/var/lib/apt/lists apt-get update && apt-get install -y git=1:2.39\n",
            "RUN apt-get clean\n", "RUN echo apt-get install is mentioned only\n"),
    *_cases("DL3009", False, f"FROM debian:12.5 AS build\nRUN {APT} gcc=4:12.2.0-3\nFROM debian:12.5\nCOPY --from=build"
            " /usr/bin/gcc /usr/bin/\n"),
    # DL3013 / IK209: pin pip packages
    *_cases("DL3013", True, "RUN pip install --no-cache-dir flask\n",
            "RUN pip3 install --no-cache-dir six numpy==2.0\n",
            "RUN python -m pip install --no-cache-dir requests\n",
            "RUN pip install --no-cache-dir --root-user-action ignore flask\n",
            "RUN pip install --no-cache-dir --report report.json flask\n",
            "RUN pip install --no-cache-dir --group dev flask\n",
            "RUN pip install --no-cache-dir --progress-bar off --python-version 3.11 --target /t flask\n",
            "RUN pip install --no-cache-dir git+https://github.com/org/repo.git\n",
            "RUN pipx install black\n",
            "RUN pip install --no-cache-dir --index-url https://pypi.org/simple flask\n",
            "RUN pip install --no-cache-dir --extra-index-url https://u:p@example.com/simple flask\n",
            "ONBUILD RUN pip install --no-cache-dir flask\n"),
    *_cases("DL3013", True, "RUN pip install --no-cache-dir --report report.json flask==3.0.3\n",
            differs="IK209: the values of pip's options (--report x.json) are not packages"),
    *_cases("DL3013", False, "RUN pip install --no-cache-dir git+ssh://git@github.com/org/repo.git\n",
            differs="IK209: the user part of git+ssh://git@host is not a ref"),
    *_cases("DL3013", False, "RUN pip install --no-cache-dir flask==3.0.3\n",
            "RUN pip install --no-cache-dir 'flask>=3,<4'\n", "RUN pip install --no-cache-dir 'flask~=3.0'\n",
            "RUN pip install --no-cache-dir -r requirements.txt\n",
            "RUN pip install --no-cache-dir --requirement requirements.txt\n", "RUN pip install --no-cache-dir .\n",
            "RUN pip install --no-cache-dir ./pkg\n",
            "RUN pip install --no-cache-dir git+https://github.com/org/repo.git@v1.2.0\n",
            "RUN pip install --no-cache-dir https://example.com/pkg-1.0.tar.gz\n",
            "RUN pip install --no-cache-dir -c constraints.txt flask\n",
            "RUN pip install --no-cache-dir --constraint constraints.txt flask\n",
            "RUN pip install --no-cache-dir --root-user-action ignore flask==3.0.3\n",
            "RUN pip install --no-cache-dir --target /opt/lib flask==3.0.3\n",
            "RUN pip install --no-cache-dir --prefix /usr/local flask==3.0.3\n",
            "RUN pipx install --python python3.11 black==24.4.2\n",
            "RUN pipenv install requests\n", "RUN pip install --no-cache-dir dist/pkg-1.0-py3-none-any.whl\n"),
    *_cases("DL3013", True, "FROM python:3.12 AS build\nRUN pip wheel --wheel-dir /w flask && pip install "
            "--no-cache-dir flask\nFROM python:3.12-slim\nCOPY --from=build /w /w\n",
            differs="IK209: only the final image's packages ship"),
    # DL3015 / IK304: --no-install-recommends
    *_cases("DL3015", True, "RUN apt-get install -y curl=7.88.1-10\n", "RUN apt-get -y install git=1:2.39\n"),
    *_cases("DL3015", False, "RUN apt install -y vim=2:9.0\n",
            differs="IK304: apt and aptitude are judged like apt-get"),
    *_cases("DL3015", False, "RUN apt-get install -y --no-install-recommends curl=7.88.1-10\n",
            "RUN apt-get -o APT::Install-Recommends=false install -y curl=7.88.1-10\n", "RUN apt-get update\n",
            "RUN apt-get -y --no-install-recommends install git=1:2.39\n"),
    # DL3020 / IK210: COPY, not ADD, for files
    *_cases("DL3020", True, "ADD app.py /opt/app.py\n", "ADD requirements.txt setup.py /src/\n",
            "ADD --chown=1000 conf /etc/app/\n"),
    *_cases("DL3020", False, "ADD app.tar.gz /opt/\n", "ADD https://example.com/a.tar.xz /opt/\n",
            "COPY app.py /opt/app.py\n", "ADD data.tgz /data/\n", "ADD rootfs.tar.bz2 /\n",
            "ADD http://example.com/file.txt /tmp/\n"),
    # DL3022 / IK204: COPY --from a previous stage
    *_cases("DL3022", True, "FROM debian:12.5 AS first\nFROM debian:12.5\nCOPY --from=frist /a /a\n"),
    *_cases("DL3022", False, "FROM debian:12.5 AS build\nRUN touch /a\nFROM debian:12.5\nCOPY --from=build /a /a\n",
            "FROM debian:12.5\nFROM debian:12.5\nCOPY --from=0 /a /a\n",
            "FROM debian:12.5\nCOPY --from=alpine:3.20 /etc/os-release /\n",
            "FROM debian:12.5\nCOPY --from=ghcr.io/org/tools:1 /bin/tool /bin/\n"),
    *_cases("DL3022", True, "FROM debian:12.5 AS Build\nFROM debian:12.5\nCOPY --from=build /a /a\n",
            differs="IK204: stage names are case-insensitive, as in BuildKit"),
    *_cases("DL3022", False, "FROM debian:12.5\nCOPY --from=0 /a /a\n",
            differs="IK204: a stage that copies from itself (by name or index) is reported"),
    *_cases("DL3022", True, "FROM debian:12.5 AS a\nCOPY --from=b /x /x\nFROM debian:12.5 AS b\nRUN true\n"),
    *_cases("DL3022", True, "FROM debian:12.5\nCOPY --from=build /a /a\n",
            differs="IK204: a name that is no stage is an image BuildKit pulls"),
    # DL3024 / IK215: stage names are unique
    *_cases("DL3024", True, "FROM debian:12.5 AS base\nFROM debian:12.5 AS base\n",
            "FROM debian:12.5 AS base\nFROM alpine:3.20 AS other\nFROM alpine:3.20 AS base\n"),
    *_cases("DL3024", False, "FROM debian:12.5 AS base\nFROM base AS final\n",
            "FROM debian:12.5 AS one\nFROM debian:12.5 AS two\n"),
    # DL3025 / IK218: JSON form for ENTRYPOINT and CMD
    *_cases("DL3025", True, "CMD python app.py\n", "ENTRYPOINT /usr/local/bin/start\n",
            "CMD [\"python\", \"app.py\"]\nENTRYPOINT gunicorn app:app\n"),
    *_cases("DL3025", False, "CMD [\"python\", \"app.py\"]\n", "ENTRYPOINT [\"/usr/local/bin/start\"]\n",
            "ENTRYPOINT [\"tini\", \"--\"]\nCMD [\"serve\"]\n"),
    # DL3026 / IK203: trusted registries (trusted.example.com and docker.io allowed)
    *_cases("DL3026", True, "FROM quay.io/org/app:1\n", "FROM untrusted.example.org/img:1\n",
            "FROM debian:12.5\nCOPY --from=quay.io/org/tools:1 /bin/x /bin/x\n",
            "FROM debian:12.5\nRUN --mount=type=bind,from=ghcr.io/org/src:1,target=/src make -C /src\n",
            "FROM debian:12.5\nRUN --mount=type=cache,from=quay.io/org/cache:1,target=/c true\n"),
    *_cases("DL3026", False, "FROM trusted.example.com/team/app:1\n", "FROM python:3.12\n",
            "FROM docker.io/library/python:3.12\n", "FROM scratch\n",
            "FROM debian:12.5 AS build\nFROM build\nRUN true\n",
            "FROM debian:12.5\nCOPY --from=trusted.example.com/tools:1 /bin/x /bin/x\n",
            "FROM debian:12.5 AS src\nFROM debian:12.5\nRUN --mount=type=bind,from=src,target=/src ls /src\n",
            "FROM debian:12.5\nRUN --mount=type=cache,target=/root/.cache true\n"),
    # DL3042 / IK302: pip's cache
    *_cases("DL3042", True, "RUN pip install flask==3.0.3\n", "RUN pip3 install -r requirements.txt\n",
            "RUN python3 -m pip install flask==3.0.3\n", "ENV PIP_NO_CACHE_DIR=0\nRUN pip install flask==3.0.3\n",
            "RUN export PIP_NO_CACHE_DIR=false && pip install flask==3.0.3\n",
            "RUN --mount=type=cache,target=/var/cache/apt pip install flask==3.0.3\n",
            "ONBUILD RUN pip install flask==3.0.3\n"),
    *_cases("DL3042", False, "RUN pip install --no-cache-dir flask==3.0.3\n",
            "RUN pip install flask==3.0.3 --no-cache-dir\n", "ENV PIP_NO_CACHE_DIR=1\nRUN pip install flask==3.0.3\n",
            "ENV PIP_NO_CACHE_DIR=true\nRUN pip install flask==3.0.3\n",
            "RUN PIP_NO_CACHE_DIR=1 pip install flask==3.0.3\n",
            "RUN export PIP_NO_CACHE_DIR=1 && pip install flask==3.0.3\n",
            "RUN export PIP_NO_CACHE_DIR=on; pip install flask==3.0.3\n",
            "RUN --mount=type=cache,target=/root/.cache/pip pip install flask==3.0.3\n",
            "RUN --mount=type=tmpfs,target=/root/.cache/pip pip install flask==3.0.3\n",
            "FROM debian:12.5 AS base\nENV PIP_NO_CACHE_DIR=1\nFROM base\nRUN pip install flask==3.0.3\n",
            "RUN pipenv install\n", "RUN pip download flask==3.0.3\n"),
    *_cases("DL3042", False, "RUN pipx install black==24.4.2\n",
            differs="IK302: pipx runs pip with the same cache"),
    *_cases("DL3042", True, "FROM python:3.12 AS build\nRUN pip install flask==3.0.3\nFROM python:3.12-slim\n"
            "COPY --from=build /usr/local/lib /usr/local/lib\n",
            differs="IK302: only the final image's stages are reported"),
    # DL3043 / IK200: ONBUILD ONBUILD, FROM, MAINTAINER are refused
    *_cases("DL3043", True, "ONBUILD ONBUILD RUN true\n", "ONBUILD FROM debian:12.5\n",
            "ONBUILD MAINTAINER someone\n"),
    *_cases("DL3043", False, "ONBUILD RUN make\n", "ONBUILD COPY . /src\n", "ONBUILD ENV A=b\n",
            "ONBUILD USER app\n", "ONBUILD WORKDIR /src\n"),
    # DL3045 / IK216: COPY to a relative path without WORKDIR
    *_cases("DL3045", True, "COPY app.py app.py\n", "COPY app.py \"app/\"\n",
            "FROM debian:12.5 AS one\nWORKDIR /src\nFROM debian:12.5\nCOPY a b\n"),
    *_cases("DL3045", False, "COPY app.py /opt/app.py\n", "WORKDIR /opt\nCOPY app.py app.py\n",
            "COPY app.py $APP_DIR\n", "COPY app.py ${APP_DIR}/\n", "COPY app.py \"${APP_DIR}\"\n",
            "ARG APP_DIR\nCOPY app.py $APP_DIR\n", "FROM debian:12.5 AS base\nWORKDIR /src\nFROM base\nCOPY a b\n",
            "COPY app.py c:/app/\n"),
    # DL3061 / IK200: FROM before anything but ARG
    *_cases("DL3061", True, "LABEL a=b\nFROM debian:12.5\n"),
    *_cases("DL3061", False, "ARG V=12.5\nFROM debian:${V}\n", "# comment\nFROM debian:12.5\nLABEL a=b\n"),
    # DL4000 / IK217: MAINTAINER is deprecated
    *_cases("DL4000", True, "MAINTAINER Jane <jane@example.com>\n"),
    *_cases("DL4000", False, "LABEL org.opencontainers.image.authors=jane@example.com\n"),
    # DL4003 / DL4004 / IK205: more than one CMD or ENTRYPOINT
    *_cases("DL4003", True, "CMD [\"a\"]\nCMD [\"b\"]\n"),
    *_cases("DL4003", False, "CMD [\"a\"]\n", "FROM debian:12.5 AS one\nCMD [\"a\"]\nFROM debian:12.5\nCMD [\"b\"]\n"),
    *_cases("DL4004", True, "ENTRYPOINT [\"a\"]\nENTRYPOINT [\"b\"]\n"),
    *_cases("DL4004", False, "ENTRYPOINT [\"a\"]\n",
            "FROM debian:12.5 AS one\nENTRYPOINT [\"a\"]\nFROM debian:12.5\nENTRYPOINT [\"b\"]\n"),
    # DL4006 / IK211: pipefail before a pipe
    *_cases("DL4006", True, "RUN curl -fsSL https://example.com/x | tar -xz\n",
            "RUN wget -qO- https://example.com/key | gpg --dearmor > /k.gpg\n", "RUN [\"sh\", \"-c\", \"a | b\"]\n"),
    *_cases("DL4006", True, "RUN set -o pipefail && curl -fsSL https://x | tar -xz\n",
            differs="IK211: a RUN that sets pipefail itself is not reported"),
    *_cases("DL4006", True, "RUN [\"bash\", \"-o\", \"pipefail\", \"-c\", \"a | b\"]\n",
            differs="IK211: an exec-form shell started with -o pipefail is not reported"),
    *_cases("DL4006", False,
            "SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN curl -fsSL https://x | tar -xz\n",
            "RUN curl -fsSLo x.tgz https://x\n",
            "SHELL [\"pwsh\", \"-command\"]\nRUN Get-Item x | Remove-Item\n"),
]

# More shapes of the same meanings: stages, mounts, shells, chained installs.
CASES += [
    *_cases("DL3008", True, "RUN apt-get update && apt-get install -y --no-install-recommends -t bookworm-backports "
            "git && rm -rf /var/lib/apt/lists/*\n", "ONBUILD RUN apt-get install -y --no-install-recommends git\n"),
    *_cases("DL3008", False, "RUN apt-get install -y --no-install-recommends -t bookworm-backports git=1:2.43.0-1\n",
            "RUN apt-get install -y --no-install-recommends python3=3.11.2-1 && apt-get install -y "
            "--no-install-recommends git=1:2.39.2-1\n", "RUN apt-get install -y --no-install-recommends 'curl=7.*'\n"),
    *_cases("DL3009", True, "FROM debian:12.5 AS base\nRUN apt-get update && apt-get install -y git=1:2.39\n"
            "FROM base\nRUN true\n", "ONBUILD RUN apt-get update && apt-get install -y git=1:2.39\n",
            "RUN --mount=type=cache,target=/var/cache/apt apt-get update && apt-get install -y git=1:2.39\n"),
    *_cases("DL3009", False, "RUN --mount=type=tmpfs,target=/var/lib/apt/lists --mount=type=tmpfs,"
            "target=/var/cache/apt apt-get update && apt-get install -y git=1:2.39\n",
            "RUN --mount=type=cache,target=/var/cache/apt,sharing=locked --mount=type=cache,"
            "target=/var/lib/apt,sharing=locked apt-get update && apt-get install -y git=1:2.39\n",
            "RUN apt-get update && apt-get install -y git=1:2.39 && apt-get clean && rm -rf /var/lib/apt/lists/*\n"),
    *_cases("DL3013", True, "RUN pip install --no-cache-dir --upgrade requests\n",
            "RUN pip install --no-cache-dir -U 'requests[socks]'\n",
            "RUN pip install --no-cache-dir --user requests\n",
            "RUN pip install --no-cache-dir --no-deps --ignore-installed requests\n",
            "RUN pip3 install --no-cache-dir --break-system-packages requests\n",
            "RUN pip install --no-cache-dir --index-url=https://pypi.org/simple requests\n",
            "RUN pip install --no-cache-dir --extra-index-url https://download.pytorch.org/whl/cpu torch\n"),
    *_cases("DL3013", False, "RUN pip install --no-cache-dir --upgrade requests==2.32.3\n",
            "RUN pip install --no-cache-dir 'requests!=2.31.0'\n", "RUN pip install --no-cache-dir 'requests<3'\n",
            "RUN pip install --no-cache-dir 'requests===2.32.3'\n",
            "RUN pip install --no-cache-dir --find-links /wheels --no-index requests==2.32.3\n",
            "RUN pip install --no-cache-dir -e .\n", "RUN pip install --no-cache-dir /tmp/pkg.tar.gz\n"),
    *_cases("DL3042", True, "RUN pip install --user flask==3.0.3\n", "RUN pip install -U pip==24.0\n",
            "RUN pip3 install --upgrade flask==3.0.3 && pip3 install gunicorn==22.0.0\n"),
    *_cases("DL3042", False, "RUN pip3 install --no-cache-dir -r requirements.txt\n",
            "RUN --mount=type=cache,id=pip,target=/root/.cache/pip pip install -r requirements.txt\n",
            "ENV PIP_NO_CACHE_DIR=yes\nRUN pip3 install flask==3.0.3\n", "RUN pip freeze > /requirements.txt\n"),
    *_cases("DL3004", True, "RUN sudo -u app make install\n", "RUN sudo -E pip install --no-cache-dir x==1\n"),
    *_cases("DL3000", True, "WORKDIR ../app\n"),
    *_cases("DL3000", False, "WORKDIR /\n", "WORKDIR /usr/src/app\n", "ARG DIR=/srv\nWORKDIR $DIR\n"),
    *_cases("DL3020", True, "ADD . /app\n", "ADD ./config.yaml /etc/app/config.yaml\n"),
    *_cases("DL3020", False, "ADD --chown=app:app release.tar.xz /opt/\n", "ADD https://example.com/x.zip /tmp/\n"),
    *_cases("DL3025", True, "CMD [\"python\", \"app.py\"]\nCMD python app.py\n"),
    *_cases("DL3025", True, "FROM debian:12.5 AS build\nCMD make\nFROM debian:12.5\nCMD [\"app\"]\n",
            differs="IK218: only the final stage's ENTRYPOINT and CMD are judged"),
    *_cases("DL4006", True, "SHELL [\"/bin/sh\", \"-c\"]\nRUN curl -fsSL https://x | tar -xz\n",
            "FROM debian:12.5 AS one\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN true\n"
            "FROM debian:12.5\nRUN curl -fsSL https://x | tar -xz\n",
            "SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nSHELL [\"/bin/bash\", \"-c\"]\n"
            "RUN curl -fsSL https://x | tar -xz\n"),
    *_cases("DL4006", False, "SHELL [\"/bin/zsh\", \"-o\", \"pipefail\", \"-c\"]\nRUN a | b\n",
            "SHELL [\"cmd\", \"/S\", \"/C\"]\nRUN type a | more\n", "RUN a || b\n"),
    *_cases("DL3015", True, "RUN apt-get update && apt-get install -y curl=7.88.1-10 && rm -rf /var/lib/apt/lists/*\n"),
    *_cases("DL3015", False, "RUN apt-get install -y --no-install-recommends=true curl=7.88.1-10\n"),
    *_cases("DL4006", True, "SHELL [\"/usr/local/bin/bash\", \"-eo\", \"pipefail\", \"-c\"]\nRUN a | b\n",
            differs="IK211: a SHELL with combined flags such as -eo pipefail sets pipefail too"),
    *_cases("DL3022", False, "FROM debian:12.5 AS deps\nFROM debian:12.5 AS build\nCOPY --from=deps /a /a\n"
            "FROM debian:12.5\nCOPY --from=build /a /a\n"),
    *_cases("DL3026", True, "FROM ghcr.io/org/base:1 AS build\nFROM trusted.example.com/app:1\n"),
    *_cases("DL3006", False, "FROM debian:12.5 AS build\nFROM build AS test\nFROM test\n"),
]

# The meanings of imagekit's newer rules that hadolint also has.
AL = "FROM amazonlinux:2023\n"
CASES += [
    *_cases("DL3044", True, "ENV A=/opt/program PATH=$A:$PATH\n", "ENV HOME_DIR=/srv DATA=\"${HOME_DIR}/data\"\n",
            "ENV PATH=/a:${PATH} PATH=/b:${PATH}\n", "ENV X=1 Y=$X\n"),
    *_cases("DL3044", False, "ENV A=/opt/program\nENV PATH=$A:$PATH\n", "ENV PATH=/opt/program:$PATH\n",
            "ENV A=1 B=$AB C=${XA}\n", "ARG V=1\nENV V=${V}\n", "ENV A 1\nENV A=${A}\n"),
    *_cases("DL3032", True, "FROM amazonlinux:2\nRUN yum install -y tar-1.26\n",
            "FROM amazonlinux:2\nRUN yum clean all && yum install -y tar-1.26\n",
            "FROM amazonlinux:2\nRUN yum -y update && yum -y install tar-1.26 && echo done\n"),
    *_cases("DL3032", False, "FROM amazonlinux:2\nRUN yum install -y tar-1.26 && yum clean all\n",
            "FROM amazonlinux:2\nRUN yum install -y tar-1.26 && rm -rf /var/cache/yum/*\n",
            "FROM amazonlinux:2\nRUN yum --version\n"),
    *_cases("DL3040", True, AL + "RUN dnf install -y tar-1.34\n", AL + "RUN dnf in -y tar-1.34\n",
            AL + "RUN microdnf install -y tar-1.34\n", AL + "RUN dnf clean all && dnf install -y tar-1.34\n"),
    *_cases("DL3040", False, AL + "RUN dnf install -y tar-1.34 && dnf clean all\n",
            AL + "RUN microdnf install -y tar-1.34 && microdnf clean all\n",
            AL + "RUN dnf install -y tar-1.34 && rm -rf /var/cache/dnf\n",
            AL + "RUN dnf install -y tar-1.34 && rm -rf /var/cache/yum/*\n", AL + "RUN notdnf install tar\n"),
    *_cases("DL3033", True, "FROM amazonlinux:2\nRUN yum install -y tomcat && yum clean all\n",
            "FROM amazonlinux:2\nRUN yum module install -y tomcat && yum clean all\n",
            "FROM amazonlinux:2\nRUN yum install -y python3-devel && yum clean all\n"),
    *_cases("DL3033", False, "FROM amazonlinux:2\nRUN yum install -y tomcat-9.2 && yum clean all\n",
            "FROM amazonlinux:2\nRUN yum install -y openssl-1:1.1.1k && yum clean all\n",
            "FROM amazonlinux:2\nRUN yum install -y gcc-c++-11.4.1 && yum clean all\n",
            "FROM amazonlinux:2\nRUN yum module install -y tomcat:9 && yum clean all\n",
            "FROM amazonlinux:2\nARG V=1.2\nRUN yum install -y tomcat-${V} && yum clean all\n"),
    *_cases("DL3041", True, AL + "RUN dnf install -y tomcat && dnf clean all\n",
            AL + "RUN microdnf install -y rpm-sign && microdnf clean all\n"),
    *_cases("DL3041", False, AL + "RUN dnf install -y tomcat-9.0.1 && dnf clean all\n",
            AL + "RUN microdnf install -y rpm-sign-4.16.1.3 && microdnf clean all\n",
            AL + "RUN dnf install -y gcc-c++-1.1.1 && dnf clean all\n", AL + "RUN notdnf install tomcat\n"),
]
