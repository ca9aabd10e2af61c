# imagekit profile=train
FROM python:3.11-slim AS base
RUN useradd app
# expect: IK109
USER app
FROM base
COPY train /usr/local/bin/train
