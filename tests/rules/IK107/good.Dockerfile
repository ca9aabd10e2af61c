# imagekit profile=serve
FROM python:3.11-slim
EXPOSE 8080
