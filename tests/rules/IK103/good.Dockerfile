# imagekit profile=train
FROM python:3.11-slim
ENV APP_WORKERS=4
ENTRYPOINT ["python", "-m", "app"]
