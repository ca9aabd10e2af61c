FROM python:3.11-slim
# expect: IK209
RUN pip install --no-cache-dir torch
# expect: IK209
RUN python -m pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torchvision "accelerate[torch]"
