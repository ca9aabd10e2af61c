FROM python:3.11-slim
# expect: IK206
WORKDIR app
