FROM python:3.11-slim
# expect: IK299
# imagekit ignore=IK202 -- pinned elsewhere
RUN echo hi
