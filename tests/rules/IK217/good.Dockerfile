FROM debian:12
LABEL org.opencontainers.image.authors="you@example.com"
