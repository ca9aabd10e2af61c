FROM amazonlinux:2023 AS build
RUN dnf install -y gcc && dnf clean all
FROM amazonlinux:2023
RUN dnf install -y tar-1.34 gzip-1.12-1.amzn2023.0.1 @development ./local.rpm && dnf clean all
RUN microdnf install -y "$PACKAGES" && microdnf clean all
