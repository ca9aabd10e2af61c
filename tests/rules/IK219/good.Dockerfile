FROM python:3.11-slim
ENV PROGRAM=/opt/program
ENV PATH=$PROGRAM:$PATH
ENV PATH=/usr/local/cuda/bin:${PATH} LD_LIBRARY_PATH=/usr/local/cuda/lib64:${LD_LIBRARY_PATH}
ENV A=1 B="$AB/x" C=${PROGRAMS}
ENV LEGACY value with $PROGRAM
ENV LITERAL=1 TEMPLATE='$LITERAL is not expanded in single quotes'
