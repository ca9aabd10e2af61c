# imagekit profile=train
FROM python:3.11-slim
# expect: IK101
ENTRYPOINT python -m app
