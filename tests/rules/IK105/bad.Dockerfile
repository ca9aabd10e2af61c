# imagekit profile=train
FROM python:3.11-slim
# expect: IK105
ENV SAGEMAKER_PROGRAM=train.py
COPY train.py /opt/app/
