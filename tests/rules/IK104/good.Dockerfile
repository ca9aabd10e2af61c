# imagekit profile=serve
FROM python:3.11-slim
COPY --chmod=755 serve /usr/local/bin/serve
