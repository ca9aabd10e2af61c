FROM python:3.11-slim
# expect: IK303
RUN huggingface-cli download org/model
