FROM debian:12
# expect: IK312
ADD https://example.com/tool.tgz /opt/
