FROM python:3.11 AS build
RUN pip wheel -w /wheels numpy==2.0.0
FROM python:3.11-slim
RUN pip install --no-cache-dir torch==2.3.1
RUN --mount=type=cache,target=/root/.cache/pip pip install numpy==2.0.0
RUN PIP_NO_CACHE_DIR=1 python -m pip install scipy==1.14.0
RUN uv pip install --system --no-cache pandas==2.2.0
ENV PIP_NO_CACHE_DIR=1
RUN pip install requests==2.32.0
COPY --from=build /wheels /wheels
