# imagekit profile=serve
# expect: IK104
FROM python:3.11-slim
COPY app.py /opt/app/
CMD ["python", "/opt/app/app.py"]
