FROM python:3.11-slim
# expect: IK307
ARG HF_TOKEN
RUN python download.py
