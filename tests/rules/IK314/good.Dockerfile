FROM amazonlinux:2023 AS build
RUN dnf install -y gcc-11.4.1
FROM amazonlinux:2023
RUN dnf install -y tar-1.34 && dnf clean all && rm -rf /var/cache/dnf
RUN --mount=type=cache,target=/var/cache/dnf dnf install -y gzip-1.12
RUN yum install -y which-2.20 && rm -rf /var/cache/yum/*
