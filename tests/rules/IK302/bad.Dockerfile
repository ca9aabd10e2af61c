FROM python:3.11-slim
# expect: IK302
RUN pip install torch==2.3.1
# expect: IK302
RUN python3 -m pip install -r requirements.txt
# expect: IK302
RUN uv pip install --system pandas==2.2.0
