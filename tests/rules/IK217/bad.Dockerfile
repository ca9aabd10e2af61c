FROM debian:12
# expect: IK217
MAINTAINER you@example.com
