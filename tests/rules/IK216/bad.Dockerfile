FROM python:3.11-slim
# expect: IK216
COPY app.py .
