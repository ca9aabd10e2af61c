FROM debian:12
# expect: IK309
RUN curl -fsSL https://example.com/install.sh | sh
