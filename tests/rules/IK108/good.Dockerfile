# imagekit profile=serve
FROM python:3.11-slim
LABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true
