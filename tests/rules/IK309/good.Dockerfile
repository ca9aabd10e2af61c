FROM debian:12
RUN curl -fsSLo /tmp/i.sh https://example.com/v1.2/install.sh && echo '0123abcd  /tmp/i.sh' | sha256sum -c && sh /tmp/i.sh
ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.com/setup.sh /tmp/
RUN bash /tmp/setup.sh
RUN wget -q https://example.com/get-pip.py && echo "0123abcd  get-pip.py" | sha256sum -c && python3 get-pip.py
RUN curl -fsSLo /tmp/tool.tgz https://example.com/tool.tgz && tar -xzf /tmp/tool.tgz -C /opt
RUN curl -fsSL https://example.com/key.asc | gpg --dearmor -o /usr/share/keyrings/example.gpg
