# imagekit profile=serve
FROM python:3.11-slim AS build
USER nobody
RUN echo built in a builder stage as nobody
FROM python:3.11-slim AS runtime
USER app
USER 0:0
USER root:0
FROM runtime
COPY --from=build /etc/hostname /tmp/
