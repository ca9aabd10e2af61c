FROM debian:12
# expect: IK211
RUN curl -fsSL https://example.com/m.tgz | tar -xz -C /opt
# expect: IK211
RUN <<EOT
curl -fsSL https://example.com/x | tar -x
EOT
# expect: IK211
RUN ["/bin/sh", "-c", "curl -fsSL https://example.com/x | tar -x"]
