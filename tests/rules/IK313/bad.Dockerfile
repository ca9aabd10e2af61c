# expect: IK313
FROM ubuntu:16.04 AS legacy
# expect: IK313
FROM python:3.7-slim-buster AS old
# expect: IK313
FROM nvidia/cuda:11.3.1-cudnn8-runtime-ubuntu18.04
