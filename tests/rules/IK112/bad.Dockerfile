# imagekit profile=serve
# expect: IK112
FROM python:3.11-slim
ENV SAGEMAKER_MULTI_MODEL=true
