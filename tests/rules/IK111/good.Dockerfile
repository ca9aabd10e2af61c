# imagekit profile=train
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1
COPY train.py /opt/program/
