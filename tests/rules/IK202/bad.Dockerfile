ARG TAG=latest
# expect: IK202
FROM python:latest AS a
# expect: IK202
FROM python:${TAG}
