FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends openssh-server=1:9.2p1-2+deb12u7 \
    && rm -rf /var/lib/apt/lists/* /etc/ssh/ssh_host_*
RUN ssh-keygen -l -f /etc/ssh/moduli || true
COPY sshd_config /etc/ssh/sshd_config.d/job.conf
RUN apt-get install -y --no-install-recommends openssh-server=1:9.2p1-2+deb12u7 \
    && rm -f /etc/ssh/ssh_host_rsa_key* /etc/ssh/ssh_host_ecdsa_key* /etc/ssh/ssh_host_ed25519_key*
