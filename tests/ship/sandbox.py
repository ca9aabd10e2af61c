"""What the push tests share: the fake AWS account and region, and a loopback port nothing listens on."""

from __future__ import annotations

import socket

REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's default account


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
