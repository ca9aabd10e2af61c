# Sourced by demo.sh and test.sh: a virtualenv with imagekit, a running Docker engine, the base image.
# Idempotent: a second run reinstalls nothing and rebuilds nothing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${IMAGEKIT_VENV:-$ROOT/.venv}"
# The distribution's own Python when there is one (Debian 12: 3.11.2, no tarfile extraction filters), even where a
# newer one comes first on PATH: that is the interpreter a fresh machine has, so it is the one CI must cover.
PYTHON="${IMAGEKIT_PYTHON:-$( [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || command -v python3 )}"

if ! "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv python3-pip >/dev/null
  else
    echo "setup: python3 with the venv module is required (Debian: apt-get install python3-venv)" >&2; exit 2
  fi
fi
# The differential suite (tests/parity) runs multi-model-server, which needs Java, and isolates each side with
# unshare/nsenter (util-linux) and ip (iproute2); its toolkit venv is built by the suite itself, cached in ~/.cache.
if ! command -v java >/dev/null || ! command -v ip >/dev/null || ! command -v nsenter >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      openjdk-17-jre-headless iproute2 util-linux >/dev/null
  else
    echo "setup: tests/parity needs java, ip and nsenter (Debian: apt-get install openjdk-17-jre-headless iproute2)" >&2
  fi
fi
# The registry tests (tests/registry_support.py) run Debian's docker-registry with htpasswd (bcrypt) auth and TLS.
if ! command -v docker-registry >/dev/null || ! command -v htpasswd >/dev/null || ! command -v openssl >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      docker-registry apache2-utils openssl >/dev/null
  else
    echo "setup: the registry tests need docker-registry, htpasswd and openssl (Debian: apt-get install docker-registry apache2-utils openssl)" >&2
  fi
fi
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
stamp="$VENV/.imagekit-installed"
want="$( (cat "$ROOT/pyproject.toml"; "$VENV/bin/python" --version) | sha256sum | cut -c1-16)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
  "$VENV/bin/python" -m pip install -q -e "$ROOT[test]"
  echo "$want" > "$stamp"
fi
export PATH="$VENV/bin:$PATH"

imagekit engine up
imagekit base
