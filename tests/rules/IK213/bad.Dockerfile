FROM debian:12
RUN echo a && \
# expect: IK213

    echo b
