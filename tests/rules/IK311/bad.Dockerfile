FROM debian:12
# expect: IK311
RUN sudo apt-get update && sudo apt-get install -y --no-install-recommends curl && sudo rm -rf /var/lib/apt/lists/*
