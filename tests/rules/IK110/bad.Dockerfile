FROM ubuntu:22.04
# expect: IK110
RUN apt-get update && apt-get install -y --no-install-recommends nvidia-driver-535 && rm -rf /var/lib/apt/lists/*
