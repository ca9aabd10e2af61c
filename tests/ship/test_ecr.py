"""ECR URIs and the ECR control plane (CreateRepository, DescribeRepositories, DescribeImages,
GetAuthorizationToken) against moto in server mode; no engine, no registry."""

from __future__ import annotations

import base64
import json
import stat

import pytest

from imagekit.errors import ImagekitError
from imagekit.image.registry import docker_config_path
from imagekit.ship import ecr
from ship.sandbox import ACCOUNT, REGION

URI = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/team/iris:1.0"


@pytest.mark.parametrize(("uri", "region", "repository", "tag"), [
    (URI, REGION, "team/iris", "1.0"),
    (f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/iris", "us-east-1", "iris", "latest"),
    (f"{ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn/iris:v2", "cn-north-1", "iris", "v2"),
    (f"{ACCOUNT}.dkr.ecr.us-gov-west-1.amazonaws.com/ml/iris:gpu_1", "us-gov-west-1", "ml/iris", "gpu_1"),
    (f"{ACCOUNT}.dkr.ecr-fips.us-east-2.amazonaws.com/iris:1", "us-east-2", "iris", "1"),
    (f"{ACCOUNT}.dkr.ecr.us-iso-east-1.c2s.ic.gov/iris:1", "us-iso-east-1", "iris", "1"),
])
def test_valid_ecr_uris_parse(uri, region, repository, tag):
    parsed = ecr.parse(uri)
    assert (parsed.account, parsed.region, parsed.repository, parsed.tag) == (ACCOUNT, region, repository, tag)
    assert str(parsed).endswith(f"/{repository}:{tag}")


@pytest.mark.parametrize(("uri", "says"), [
    ("12345.dkr.ecr.eu-west-1.amazonaws.com/iris:1", "12-digit"),
    (f"{ACCOUNT}.dkr.ecr.europe.amazonaws.com/iris:1", "not an AWS region"),
    (f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.org/iris:1", "not an ECR domain"),
    (f"{ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com/iris:1", "amazonaws.com.cn"),
    (f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com.cn/iris:1", "aws partition"),
    (f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/Iris:1", "repository name"),
    (f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/i:1", "repository name"),
    (f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/iris:-x", "not a valid image tag"),
    (f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/iris@sha256:" + "a" * 64, "not a digest"),
    (f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com", "not an Amazon ECR image URI"),
])
def test_bad_ecr_uris_name_the_wrong_part(uri, says):
    with pytest.raises(ImagekitError) as raised:
        ecr.parse(uri)
    assert says in str(raised.value)


def test_a_missing_repository_is_created_with_the_asked_settings(moto_ecr):
    uri = ecr.parse(URI)
    lines = []
    created = ecr.ensure_repository(ecr.client(uri), uri, scan_on_push=True, immutable_tags=True, log=lines.append)
    described = moto_ecr.client.describe_repositories(repositoryNames=["team/iris"])["repositories"][0]
    assert described["imageTagMutability"] == "IMMUTABLE" == created["imageTagMutability"]
    assert described["imageScanningConfiguration"] == {"scanOnPush": True}
    assert "created ECR repository team/iris" in lines[0]
    again = ecr.ensure_repository(ecr.client(uri), uri, scan_on_push=False, immutable_tags=False, log=lines.append)
    assert again["repositoryArn"] == described["repositoryArn"] and len(lines) == 1  # found, not re-created


def test_an_immutable_tag_that_exists_is_refused_before_any_upload(moto_ecr):
    uri = ecr.parse(URI)
    moto_ecr.client.create_repository(repositoryName="team/iris", imageTagMutability="IMMUTABLE")
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                           "config": {}, "layers": []})
    moto_ecr.client.put_image(repositoryName="team/iris", imageManifest=manifest, imageTag="1.0")
    repository = ecr.ensure_repository(ecr.client(uri), uri, False, False, log=print)
    with pytest.raises(ImagekitError, match="immutable tags"):
        ecr.check_tag_free(ecr.client(uri), uri, repository)
    ecr.check_tag_free(ecr.client(uri), ecr.parse(URI.replace(":1.0", ":2.0")), repository)  # a new tag is fine


def test_login_decodes_the_token_and_saves_it_only_when_asked(moto_ecr, tmp_path):
    uri = ecr.parse(URI)
    login = ecr.login(ecr.client(uri), uri)
    assert login.username == "AWS" and login.password
    assert not docker_config_path().exists()  # nothing on disk unless asked
    path = ecr.save_login(login, uri.host)
    saved = json.loads(path.read_text())["auths"][uri.host]["auth"]
    assert base64.b64decode(saved).decode() == f"AWS:{login.password}"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_no_credentials_is_one_clear_error(moto_ecr, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    uri = ecr.parse(URI)
    with pytest.raises(ImagekitError, match="No AWS credentials were found"):
        ecr.login(ecr.client(uri), uri)


def test_an_unreachable_endpoint_is_one_clear_error():
    uri = ecr.parse(URI)  # the sandbox's AWS_ENDPOINT_URL is a closed port
    with pytest.raises(ImagekitError, match="could not be reached"):
        ecr.login(ecr.client(uri), uri)


def test_the_registry_override_is_refused_without_a_fake_endpoint(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    monkeypatch.setenv(ecr.REGISTRY_OVERRIDE_ENV, f"{ecr.parse(URI).host}=127.0.0.1:5000")
    with pytest.raises(ImagekitError, match="real AWS"):
        ecr.registry_override(ecr.parse(URI).host)


def test_registry_credentials_give_the_login_for_reading_from_ecr(moto_ecr):
    """What `imagekit lint --image` from an ECR registry asks for (imagekit.image.registry's provider)."""
    token = moto_ecr.client.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    assert ":".join(ecr.registry_credentials(ecr.parse(URI).host)) == base64.b64decode(token).decode()
    with pytest.raises(ImagekitError, match="12-digit"):
        ecr.registry_credentials("1234.dkr.ecr.eu-west-1.amazonaws.com")
