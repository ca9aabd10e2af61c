# imagekit profile=serve
FROM python:3.11-slim
ENV SAGEMAKER_MULTI_MODEL=true
LABEL com.amazonaws.sagemaker.capabilities.multi-models=true
