FROM debian:12
# expect: IK309
RUN curl -fsSL https://example.com/install.sh | sh
# expect: IK309
RUN wget https://bootstrap.pypa.io/get-pip.py && python get-pip.py
# expect: IK309
RUN curl -LO https://repo.anaconda.com/miniconda/Miniconda3-py311_24.1.2-0-Linux-x86_64.sh && bash Miniconda3-py311_24.1.2-0-Linux-x86_64.sh -b -p /opt/conda
# expect: IK309
RUN sh -c "$(curl -fsSL https://example.com/install.sh)"
ADD https://example.com/setup.sh /tmp/
# expect: IK309
RUN bash /tmp/setup.sh
