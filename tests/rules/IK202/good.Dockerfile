ARG TAG=3.11-slim
FROM python:${TAG} AS a
FROM python:latest@sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d
FROM a
