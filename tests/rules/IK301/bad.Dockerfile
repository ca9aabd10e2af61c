FROM debian:12
# expect: IK301
RUN apt-get update && apt-get install -y --no-install-recommends curl
