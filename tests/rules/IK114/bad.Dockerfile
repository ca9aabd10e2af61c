FROM python:3.11-slim-bookworm AS runtime
# expect: IK114
RUN pip install --no-cache-dir horovod==0.28.1
# expect: IK114
RUN sed -i 's/^#PermitRootLogin.*/PermitRootLogin no/' /etc/ssh/sshd_config
# expect: IK114
RUN printf 'PubkeyAuthentication no\n' > /etc/ssh/sshd_config.d/mpi.conf
