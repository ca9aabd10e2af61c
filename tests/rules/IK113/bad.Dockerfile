# imagekit profile=train
FROM python:3.11-slim
ENV PROGRAM=/opt/program PATH=$PROGRAM:$PATH
# expect: IK113
COPY --chmod=755 train /opt/program/train
