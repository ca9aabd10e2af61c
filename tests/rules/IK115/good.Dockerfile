FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends openssh-server=1:9.2p1-2+deb12u7 \
    && rm -rf /var/lib/apt/lists/* /etc/ssh/ssh_host_*
RUN ssh-keygen -l -f /etc/ssh/moduli || true
COPY sshd_config /etc/ssh/sshd_config.d/job.conf
