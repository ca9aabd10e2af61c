# imagekit profile=train
FROM python:3.11-slim
RUN apt-get install -y --no-install-recommends tini
# expect: IK102
ENTRYPOINT ["tini", "--"]
