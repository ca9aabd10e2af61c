FROM python:3.11-slim
RUN --mount=type=secret,id=hf_token python download.py
