FROM debian:12 AS build
# expect: IK215
FROM debian:12 AS build
