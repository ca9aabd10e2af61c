FROM python:3.11-slim AS build
# expect: IK204
COPY --from=runtime /a /a
# expect: IK204
COPY --from=build /a /b
# expect: IK204
COPY --from=later /a /a
# expect: IK204
RUN --mount=type=bind,from=later,source=/a,target=/a cat /a
# expect: IK204
RUN --mount=type=cache,target=/c --mount=from=2,source=/a,target=/a cat /a
FROM python:3.11-slim AS later
FROM python:3.11-slim AS runtime
# expect: IK204
COPY --from=build /a /c
# expect: IK204
COPY --from=biuld /app /app
# expect: IK204
COPY --from=7 /app /app
# expect: IK204
COPY --from=Alpine /etc/os-release /x
FROM python:3.11-slim AS license-set
FROM python:3.11-slim
# expect: IK204
COPY --from=set /licenses /licenses
