FROM python:3.11-slim
ARG HF_TOKEN
# expect: IK306
ENV HF_TOKEN=hf_abcdefghijklmnopqrstuvwxyz0123456789
# expect: IK306
ENV WANDB_API_KEY=$HF_TOKEN
# expect: IK306
LABEL deploy.key="AKIAIOSFODNN7EXAMPLE"
# expect: IK306
ARG AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
# expect: IK306
RUN aws configure set aws_access_key_id AKIAIOSFODNN7EXAMPLE
