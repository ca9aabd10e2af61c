FROM python:3.11 AS build
RUN pip wheel --no-cache-dir -w /w numpy==2.0.0
FROM python:3.11-slim
# expect: IK305
RUN apt-get update && apt-get install -y --no-install-recommends gcc && rm -rf /var/lib/apt/lists/*
