FROM debian:12
RUN curl -fsSLo /tmp/x.tgz https://example.com/x.tgz
