"""IK114 on Dockerfiles: an MPI placed by hand is read from parsed words, and sshd settings from what RUNs write."""

from __future__ import annotations

import pytest

from imagekit import contract
from rules.helpers import assert_clean, assert_flags

HEAD = "FROM python:3.11-slim-bookworm\n"
SSHD = ("RUN apt-get update && apt-get install -y --no-install-recommends openssh-server=1:9.2p1-2+deb12u7 "
        "&& rm -rf /var/lib/apt/lists/* /etc/ssh/ssh_host_*\n")
MPI4PY = "RUN pip install --no-cache-dir mpi4py==4.0.3\n"


@pytest.mark.parametrize("by_hand", [
    # AWS's images: the version in a build arg, the tarball downloaded and built
    "ARG OMPI_VERSION=4.1.6\nRUN curl -fsSLO https://download.open-mpi.org/release/open-mpi/v4.1/"
    "openmpi-${OMPI_VERSION}.tar.gz && tar xzf openmpi-$OMPI_VERSION.tar.gz\n",
    "ARG OPENMPI_VERSION=4.1.6\nRUN cd /tmp/src-${OPENMPI_VERSION} && ./configure && make install\n",
    "RUN curl -fsSLO https://www.mpich.org/static/downloads/4.2.0/mpich-4.2.0.tar.gz\n",
    "ENV PATH=/opt/amazon/openmpi/bin:$PATH\n",
    "ENV OMPI_MCA_btl_vader_single_copy_mechanism=none\n",
    # a wrapper written over mpirun (the redirect target is the word that names it)
    "RUN echo 'exec mpirun.real --allow-run-as-root \"$@\"' > /usr/local/bin/mpirun\n",
])
def test_an_mpi_placed_by_hand_brings_mpirun(by_hand: str) -> None:
    assert_clean("IK114", HEAD + SSHD + by_hand + MPI4PY)


def test_mpi_mentioned_outside_the_parsed_words_is_not_an_mpi() -> None:
    # a shell comment and a label are no download, path or setting: mpirun is still missing
    text = HEAD + SSHD + 'LABEL note="open-mpi comes from the base"\n' + \
        "RUN pip install --no-cache-dir mpi4py==4.0.3  # openmpi is built later\n"
    assert_flags("IK114", text, [4])


# A complete MPI image (mpi4py, mpirun, sshd): what its RUNs write to sshd's config is all IK114 can find.
MPI = HEAD + SSHD.replace("openssh-server=1:9.2p1-2+deb12u7", "openssh-server openmpi-bin") + MPI4PY


@pytest.mark.parametrize("written", [
    "RUN echo PermitRootLogin no >> /etc/ssh/sshd_config\n",
    "RUN sed -i 's/^#\\?PermitRootLogin.*/PermitRootLogin no/' /etc/ssh/sshd_config\n",
    "RUN printf 'Port 22\\nPubkeyAuthentication=no\\n' > /etc/ssh/sshd_config.d/mpi.conf\n",
    "RUN echo 'PermitRootLogin forced-commands-only' >> /etc/ssh/sshd_config\n",
    "RUN bash -c \"echo 'PermitRootLogin no' >> /etc/ssh/sshd_config\"\n",
    # several `s` commands in one script: every replacement reaches the file
    "RUN sed -i 's/^#\\?PermitRootLogin.*/PermitRootLogin no/; s/^#\\?PasswordAuthentication.*/"
    "PasswordAuthentication no/' /etc/ssh/sshd_config\n",
    "RUN sed -i -e 's/x/y/' -e 's/^#\\?PermitRootLogin.*/PermitRootLogin no/' /etc/ssh/sshd_config\n",
    "RUN sed -i '/^#/!s/^PermitRootLogin.*/PermitRootLogin no/;' /etc/ssh/sshd_config\n",
    "RUN sed -i 's#^.*PermitRootLogin.*#PermitRootLogin no#g' /etc/ssh/sshd_config\n",
])
def test_a_run_that_refuses_root_key_logins(written: str) -> None:
    assert_flags("IK114", MPI + written, [4])


@pytest.mark.parametrize("written", [
    "RUN sed -i 's/PermitRootLogin no/PermitRootLogin prohibit-password/' /etc/ssh/sshd_config\n",
    "RUN sed -i 's/PermitRootLogin no/PermitRootLogin yes/;' /etc/ssh/sshd_config\n",
    "RUN sed -i 's/PermitRootLogin no/PermitRootLogin yes/; s/x/y/' /etc/ssh/sshd_config\n",
    "RUN echo 'PermitRootLogin prohibit-password' >> /etc/ssh/sshd_config\n",
    "RUN echo 'PasswordAuthentication no' >> /etc/ssh/sshd_config\n",
    # a line whose first non-blank character is `#` is a comment to sshd
    "RUN sed -i 's/^PermitRootLogin no/#PermitRootLogin no/' /etc/ssh/sshd_config\n",
    "RUN echo '# PermitRootLogin no (disabled)' >> /etc/ssh/sshd_config\n",
    "RUN printf 'Port 22\\n  # PubkeyAuthentication no\\n' > /etc/ssh/sshd_config.d/mpi.conf\n",
])
def test_a_run_that_keeps_root_key_logins(written: str) -> None:
    assert_clean("IK114", MPI + written)


def test_a_refusal_is_judged_only_where_sshd_reads_it() -> None:
    """sshd is started for MPI jobs only, and imagekit's runtime (the generator's label) starts it with its own
    config (`sshd -f`): the same cases as the image rule."""
    refusing = "RUN echo PermitRootLogin no >> /etc/ssh/sshd_config\n"
    assert_flags("IK114", MPI + refusing, [4])
    assert_clean("IK114", HEAD + SSHD + refusing)
    assert_clean("IK114", MPI + f'LABEL {contract.LABEL_GENERATOR}="imagekit 0.1"\n' + refusing)
    assert_flags("IK114", "FROM horovod/horovod:0.28.1\n" + refusing, [2])


@pytest.mark.parametrize("packages", ["python3-mpi4py", "libmpich-dev", "mpi-default-bin", "libopenmpi-dev"])
def test_debian_packages_that_depend_on_an_mpirun_bring_it(packages: str) -> None:
    # bookworm (apt-get install -s): python3-mpi4py -> mpi-default-bin -> openmpi-bin; libopenmpi-dev -> openmpi-bin;
    # libmpich-dev -> mpich
    assert_clean("IK114", HEAD + SSHD.replace("openssh-server=1:9.2p1-2+deb12u7", f"openssh-server {packages}")
                 + MPI4PY)


def test_a_package_name_is_no_mpi_built_by_hand() -> None:
    # libopenmpi3 (the library alone) names Open MPI but brings no mpirun: it is not an MPI placed by hand
    text = HEAD + SSHD.replace("openssh-server=1:9.2p1-2+deb12u7", "openssh-server libopenmpi3") + MPI4PY
    assert_flags("IK114", text, [2])
