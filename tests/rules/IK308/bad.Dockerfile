FROM python:3.11-slim
# expect: IK308
RUN pip install --no-cache-dir --trusted-host pypi.org numpy==2.0.0
