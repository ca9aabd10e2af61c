FROM python:3.11-slim
ARG HF_TOKEN
ENV HF_TOKEN_PATH=/run/secrets/hf_token
ENV TOKENIZERS_PARALLELISM=false
ARG GITHUB_TOKEN=""
RUN --mount=type=secret,id=hf_token HF_TOKEN=$(cat /run/secrets/hf_token) python -c 'print(1)'
# on/off switches, not credentials: huggingface_hub's "send no token" flags
ENV HF_HUB_DISABLE_IMPLICIT_TOKEN=1 HF_HUB_DISABLE_TOKEN=true
ENV REQUIRE_AUTH_TOKEN=yes
