FROM python:3.11-slim
RUN huggingface-cli download org/model --local-dir /opt/models/model
