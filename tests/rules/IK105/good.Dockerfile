# imagekit profile=train
FROM python:3.11-slim
ENV SAGEMAKER_PROGRAM=train.py
COPY train.py /opt/ml/code/train.py
