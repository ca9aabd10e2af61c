FROM amazonlinux:2 AS base
# expect: IK314
RUN yum install -y tar-1.26 gzip-1.5
FROM base
# expect: IK314
RUN microdnf install -y tar-1.34
