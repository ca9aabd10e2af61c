FROM python:3.11-slim
RUN apt-get update &&
# expect: IK200
    apt-get install -y curl
