FROM debian:bookworm-slim
# expect: IK115
RUN apt-get update && apt-get install -y --no-install-recommends openssh-server=1:9.2p1-2+deb12u7 \
    && rm -rf /var/lib/apt/lists/*
# expect: IK115
RUN mkdir -p /root/.ssh && ssh-keygen -q -t rsa -N '' -f /root/.ssh/id_rsa \
    && cp /root/.ssh/id_rsa.pub /root/.ssh/authorized_keys
# expect: IK115
COPY keys/authorized_keys /root/.ssh/authorized_keys
# expect: IK115
RUN apt-get update && apt-get install -y --no-install-recommends openssh-server=1:9.2p1-2+deb12u7 \
    && rm -rf /var/lib/apt/lists/* /etc/ssh/ssh_host_* && ssh-keygen -A
# expect: IK115
RUN apt-get install -y --no-install-recommends openssh-server=1:9.2p1-2+deb12u7 && rm -f /etc/ssh/ssh_host_rsa_key
