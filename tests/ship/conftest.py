"""Fixtures for push tests: an AWS sandbox (nothing can reach real AWS), moto's ECR in server mode, a private
docker config, and the local TLS registry from tests/registry_support.py.

Every test here runs with fake static credentials and AWS_ENDPOINT_URL pointing at a closed loopback port unless
it asks for ``moto_ecr``, which points it at moto: a call that escapes the fake endpoint fails instead of reaching
AWS. The ECR image push itself goes to the local registry through IMAGEKIT_ECR_REGISTRY_OVERRIDE (ecr.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import pytest

from ship.sandbox import ACCOUNT, REGION, closed_port


@pytest.fixture(autouse=True)
def aws_sandbox(monkeypatch, tmp_path) -> None:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL_ECR", "AWS_ROLE_ARN",
                 "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "IMAGEKIT_ECR_REGISTRY_OVERRIDE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto in server mode on a free loopback port: a real HTTP endpoint for the ECR control plane."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@dataclass
class MotoEcr:
    endpoint: str
    client: object  # a boto3 ECR client on moto, for arranging and checking state


@pytest.fixture
def moto_ecr(moto_server, monkeypatch) -> Iterator[MotoEcr]:
    """ECR on moto, reset before each test; AWS_ENDPOINT_URL points imagekit at it."""
    import boto3
    import requests

    requests.post(f"{moto_server}/moto-api/reset", timeout=10).raise_for_status()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    yield MotoEcr(moto_server, boto3.session.Session(region_name=REGION).client("ecr"))


@dataclass
class EcrLogin:
    username: str
    password: str


@pytest.fixture(scope="session")
def moto_login(moto_server) -> EcrLogin:
    """The registry login moto's GetAuthorizationToken hands out for ACCOUNT (what the local registry accepts)."""
    import base64

    import boto3

    client = boto3.session.Session(region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing",
                                   aws_session_token="testing").client("ecr", endpoint_url=moto_server)
    token = client.get_authorization_token(registryIds=[ACCOUNT])["authorizationData"][0]["authorizationToken"]
    username, _, password = base64.b64decode(token).decode().partition(":")
    return EcrLogin(username, password)


@pytest.fixture(scope="module")
def registry(tmp_path_factory, moto_login):
    """The local TLS registry (htpasswd), trusted by the engine, whose one user is the login moto's ECR hands out:
    plain pushes use it through a docker config, ECR pushes get it from GetAuthorizationToken."""
    from registry_support import running_registry

    with running_registry(tmp_path_factory.mktemp("registry"), username=moto_login.username,
                          password=moto_login.password) as running, running.trust_for_engine():
        yield running
