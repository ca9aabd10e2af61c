#!/usr/bin/env bash
# The README's second command: set everything up, then run the whole test suite (engine tests included).
source "$(dirname "$0")/setup.sh"
cd "$ROOT"
exec python -m pytest -q "$@"
