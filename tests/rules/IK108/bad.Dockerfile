# imagekit profile=serve
FROM python:3.11-slim
# expect: IK108
LABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=yes
# expect: IK108
LABEL com.amazonaws.sagemaker.capabilities.multi-model=true
# expect: IK108
LABEL com.amazonaws.sagemaker.capabilities.multi-models=True
