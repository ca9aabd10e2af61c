FROM python:3.11-slim
# expect: IK205
ENTRYPOINT ["python"]
ENTRYPOINT ["python", "-m", "app"]
