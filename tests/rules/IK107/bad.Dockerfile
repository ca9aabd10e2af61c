# imagekit profile=serve
FROM python:3.11-slim
# expect: IK107
EXPOSE 5000
