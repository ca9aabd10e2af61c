ARG BASE=python:3.11-slim
ARG CUDA=12.4.1
FROM ${BASE} AS build
FROM nvidia/cuda:${CUDA}-runtime-ubuntu22.04
FROM --platform=$BUILDPLATFORM python:3.11-slim@sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d AS digest
FROM localhost:5000/team/image:1.2
FROM scratch
FROM build
FROM img-$TARGETARCH
