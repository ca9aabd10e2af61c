FROM python:3.11-slim
# expect: IK210
ADD app.py /opt/program/
