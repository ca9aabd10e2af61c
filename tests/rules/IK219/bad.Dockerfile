FROM python:3.11-slim
# expect: IK219
ENV PROGRAM=/opt/program PATH=$PROGRAM:$PATH
# expect: IK219
ENV HF_HOME=/opt/hf TRANSFORMERS_CACHE="${HF_HOME}/transformers"
