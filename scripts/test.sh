#!/usr/bin/env bash
# The README's second command: set everything up, then run the whole test suite (engine tests included).
source "$(dirname "$0")/setup.sh"
cd "$ROOT"
python -m ruff check --quiet . || { echo "ruff: fix the findings above (python -m ruff check --fix .)" >&2; exit 1; }
exec python -m pytest -q "$@"
