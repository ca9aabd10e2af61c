FROM ubuntu:24.04 AS a
FROM public.ecr.aws/amazonlinux/amazonlinux:2023 AS b
FROM debian:trixie-slim AS c
FROM python:3.13-slim-trixie AS d
FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04 AS e
FROM my-registry.example.com/team/base:1.0
