"""runtime.json: what the spec asked for, and the SageMaker contract values (written by imagekit at render time)."""

import json
import os
import sys

RUNTIME_JSON = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "runtime.json")


def _load():
    try:
        with open(RUNTIME_JSON, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError) as error:
        sys.stderr.write(f"imagekit runtime: cannot read {RUNTIME_JSON}: {error}; rebuild the image with "
                         "`imagekit build`.\n")
        raise SystemExit(2) from None


CONFIG = _load()
C = CONFIG["contract"]


def log(message):
    """One line on stderr, prefixed so runtime messages stand apart from the user's output."""
    sys.stderr.write(f"imagekit runtime: {message}\n")
    sys.stderr.flush()


def usable_cpus():
    """The CPUs this process may run on: a container pinned to some (docker --cpuset-cpus, smoke's --instance-type)
    has that many, as an instance of that size has, while os.cpu_count() counts the whole machine's."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1
