ARG BASE=python
ARG REGISTRY
# expect: IK201
FROM python
# expect: IK201
FROM ${BASE} AS second
# expect: IK201
FROM ${REGISTRY:-public.ecr.aws}/docker/library/python
