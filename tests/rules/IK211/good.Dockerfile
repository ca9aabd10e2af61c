FROM debian:12 AS a
RUN curl -fsSL https://example.com/a || echo "no | pipe here"
RUN set -eo pipefail; curl -fsSL https://example.com/m.tgz | tar -xz -C /opt
RUN ["/bin/bash", "-o", "pipefail", "-c", "curl -fsSL https://example.com/x | tar -x"]
FROM debian:12
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN curl -fsSL https://example.com/m.tgz | tar -xz -C /opt
