FROM python:3.11-slim
WORKDIR /opt/program
COPY app.py .
