FROM python:3.11-slim-bookworm AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends openmpi-bin=4.1.4-3+b1 openssh-server=1:9.2p1-2+deb12u7 \
    && rm -rf /var/lib/apt/lists/* /etc/ssh/ssh_host_*
RUN pip install --no-cache-dir horovod==0.28.1
# the old value in the sed pattern is not what the file ends up with
RUN sed -i 's/^PermitRootLogin no/PermitRootLogin prohibit-password/' /etc/ssh/sshd_config
