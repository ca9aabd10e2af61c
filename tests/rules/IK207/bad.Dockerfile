FROM debian:12
# expect: IK207
RUN apt-get update
RUN apt-get install -y --no-install-recommends curl
