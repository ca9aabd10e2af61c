# imagekit profile=train
FROM python:3.11-slim
COPY model.pt /opt/program/model.pt
