FROM alpine:3.20 AS tools
RUN touch /bin/tool
FROM python:3.11-slim AS Build
RUN echo hi > /app
COPY --from=tools /bin/tool /bin/tool
RUN --mount=type=bind,from=tools,source=/bin/tool,target=/t /t
FROM python:3.11-slim AS python-deps
FROM docker:27.3 AS docker-config
FROM python:3.11-slim
COPY --from=build /app /app
COPY --from=0 /app /app0
COPY --from=ghcr.io/astral-sh/uv:0.4.0 /uv /bin/uv
COPY --from=busybox:1.36 /bin/busybox /bin/busybox
# images BuildKit pulls, not stages
COPY --from=composer /usr/bin/composer /usr/bin/composer
COPY --from=alpine /etc/os-release /x
COPY --from=docker /usr/local/bin/docker /usr/local/bin/docker
# the official image a stage named <image>-<role> is named after
COPY --from=python /usr/local/bin/python3 /usr/local/bin/python3
COPY --from=python-deps /etc/hostname /x
RUN --mount=type=bind,from=python,source=/usr/local/bin,target=/py ls /py
