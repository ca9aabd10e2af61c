FROM debian:12
RUN curl -fsSLo /tmp/i.sh https://example.com/v1.2/install.sh && echo '0123abcd  /tmp/i.sh' | sha256sum -c && sh /tmp/i.sh
