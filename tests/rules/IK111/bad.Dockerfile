# imagekit profile=train
# expect: IK111
FROM python:3.11-slim
COPY train.py /opt/program/
