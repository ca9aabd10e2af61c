FROM debian:12
# expect: IK304
RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*
