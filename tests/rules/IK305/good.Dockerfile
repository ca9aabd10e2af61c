FROM python:3.11 AS build
RUN pip wheel --no-cache-dir -w /w numpy==2.0.0
FROM python:3.11-slim
COPY --from=build /w /w
