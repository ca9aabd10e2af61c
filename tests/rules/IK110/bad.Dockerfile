FROM ubuntu:22.04
# expect: IK110
RUN apt-get update && apt-get install -y --no-install-recommends nvidia-driver-535 && rm -rf /var/lib/apt/lists/*
# expect: IK110
COPY libcuda.so.550.54.15 /usr/lib/x86_64-linux-gnu/
