FROM debian:12
# expect: IK310
RUN curl -kfsSLo /tmp/x.tgz https://example.com/x.tgz
