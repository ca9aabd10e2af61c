FROM python:3.11-slim AS build
# expect: IK204
COPY --from=runtime /a /a
# expect: IK204
COPY --from=build /a /b
FROM python:3.11-slim AS runtime
# expect: IK204
COPY --from=build /a /c
# expect: IK204
COPY --from=biuld /app /app
# expect: IK204
COPY --from=7 /app /app
# expect: IK204
COPY --from=Alpine /etc/os-release /x
