ARG STAGE=build
FROM python:3.11-slim AS Build
RUN echo hi > /app
FROM python:3.11-slim
COPY --from=build /app /app
COPY --from=0 /app /app0
COPY --from=${STAGE} /app /app1
COPY --from=ghcr.io/astral-sh/uv:0.4.0 /uv /bin/uv
COPY --from=busybox:1.36 /bin/busybox /bin/busybox
