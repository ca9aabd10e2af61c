# imagekit profile=train
FROM python:3.11-slim
RUN apt-get install -y --no-install-recommends tini
ENV PATH="/opt/program:${PATH}"
COPY train /opt/program/train
# tini -- train: tini starts `train` from PATH, as SageMaker needs
ENTRYPOINT ["tini", "--"]
