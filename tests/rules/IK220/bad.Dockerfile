FROM amazonlinux:2023
# expect: IK220
RUN dnf install -y tar gzip-1.12 && dnf clean all
# expect: IK220
RUN yum -y install python3-devel && yum clean all
