# imagekit profile=train
FROM python:3.11-slim AS one
ENV PATH="/opt/program:${PATH}"
COPY --chmod=755 train serve /opt/program/
FROM python:3.11-slim AS two
COPY --chmod=755 train /opt/program/train
RUN ln -s /opt/program/train /usr/local/bin/train
FROM python:3.11-slim
COPY --chmod=755 train /opt/program/train
ENTRYPOINT ["python", "/opt/program/train"]
