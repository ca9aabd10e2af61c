"""`imagekit push` and `imagekit build --push` against a real registry (Debian's docker-registry with TLS and
htpasswd) and, for ECR, moto's control plane with the image sent to that registry through the documented seam."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from imagekit import contract
from imagekit.errors import ImagekitError
from imagekit.image.registry import INDEX_TYPES, MANIFEST_TYPES
from imagekit.scaffold import new
from imagekit.ship import PushOptions, push
from imagekit.ship.ecr import REGISTRY_OVERRIDE_ENV
from imagekit.ship.push import destination, push_failure
from ship.sandbox import ACCOUNT, REGION, closed_port

UNCHECKED = PushOptions(verify=False)
SMALL = 'FROM {base}\nCMD ["true"]\n'
# A serving image (it exposes SageMaker's port) whose entrypoint is not in it: IK501, an error-level finding.
BROKEN = f'FROM {{base}}\nEXPOSE {contract.SERVING_PORT}\nENTRYPOINT ["/opt/missing/serve"]\n'


def served_digest(registry, repository: str, tag: str) -> str | None:
    """The Docker-Content-Digest the registry answers a manifest HEAD with (None: no such tag)."""
    secret = base64.b64encode(f"{registry.username}:{registry.password}".encode()).decode()
    request = urllib.request.Request(f"{registry.url}/v2/{repository}/manifests/{tag}", method="HEAD",
                                     headers={"Accept": ", ".join(MANIFEST_TYPES + INDEX_TYPES),
                                              "Authorization": f"Basic {secret}"})
    try:
        with urllib.request.urlopen(request, context=registry.ssl_context(), timeout=30) as answer:
            return answer.headers["Docker-Content-Digest"]
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise


def imagekit(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "imagekit", *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=900)


def test_build_push_of_a_scaffold_prints_the_digest_the_registry_serves(sklearn_scaffold, registry, tmp_path):
    from imagekit import engine

    _, project = sklearn_scaffold
    tag = f"imagekit-test/iris-push-{uuid.uuid4().hex[:8]}:latest"
    registry.docker_config(Path(os.environ["DOCKER_CONFIG"]))  # the engine's credentials: a docker config
    try:
        run = imagekit("build", str(project), "--wheelhouse", "-t", tag, "--push", registry.ref("team/iris", "1.0"))
    finally:
        engine.remove_image(tag)
    assert run.returncode == 0, run.stderr
    pinned = run.stdout.strip().splitlines()[-1]
    assert pinned == f"{registry.host}/team/iris@{served_digest(registry, 'team/iris', '1.0')}"
    assert "nothing at error level, pushing" in run.stderr  # the image lint ran first
    assert "Pushed" in run.stderr and f"credentials for {registry.host} from" in run.stderr
    assert engine.inspect_image(registry.ref("team/iris", "1.0")) is None  # the push's own tag is gone again


def test_ecr_push_end_to_end_against_moto_and_the_local_registry(sklearn_scaffold, registry, moto_ecr):
    tag, _ = sklearn_scaffold
    uri = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/ml/iris:2.0"
    run = imagekit("push", tag, "--to", uri, "--scan-on-push", "--immutable-tags",
                   **{REGISTRY_OVERRIDE_ENV: f"{uri.split('/')[0]}={registry.host}"})
    assert run.returncode == 0, run.stderr
    repository = moto_ecr.client.describe_repositories(repositoryNames=["ml/iris"])["repositories"][0]
    assert repository["imageTagMutability"] == "IMMUTABLE"
    assert repository["imageScanningConfiguration"] == {"scanOnPush": True}
    assert run.stdout.strip() == f"{uri.rsplit(':', 1)[0]}@{served_digest(registry, 'ml/iris', '2.0')}"
    assert "GetAuthorizationToken" in run.stderr and f"registry override: {registry.host}" in run.stderr
    assert not Path(os.environ["DOCKER_CONFIG"]).exists()  # the token stayed in memory


def test_credentials_come_from_a_docker_credential_helper(throwaway_image, registry, tmp_path, monkeypatch):
    image = throwaway_image(SMALL)
    helper = tmp_path / "bin" / "docker-credential-imagekit-test"
    helper.parent.mkdir()
    answer = json.dumps({"ServerURL": registry.host, "Username": registry.username, "Secret": registry.password})
    helper.write_text(f"#!/bin/sh\ncat >/dev/null\necho '{answer}'\n")
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{helper.parent}:{os.environ['PATH']}")
    config = Path(os.environ["DOCKER_CONFIG"])
    config.mkdir()
    (config / "config.json").write_text(json.dumps({"credHelpers": {registry.host: "imagekit-test"}}))
    result = push(image, registry.ref("helper/small"), UNCHECKED, log=lambda line: None)
    assert result.digest == served_digest(registry, "helper/small", "latest")


@pytest.mark.parametrize(("password", "says"), [
    ("wrong-password", "rejected the credentials"),
    (None, "no credentials"),
])
def test_refused_logins_are_one_clear_error(throwaway_image, registry, password, says):
    image = throwaway_image(SMALL)
    if password:
        registry.docker_config(Path(os.environ["DOCKER_CONFIG"]), password=password)
    with pytest.raises(ImagekitError) as raised:
        push(image, registry.ref("refused/small"), UNCHECKED, log=lambda line: None)
    assert says in str(raised.value)
    assert served_digest(registry, "refused/small", "latest") is None


def test_an_unreachable_registry_is_one_clear_error(throwaway_image):
    image = throwaway_image(SMALL)
    with pytest.raises(ImagekitError, match="could not be reached"):
        push(image, f"127.0.0.1:{closed_port()}/small:1", UNCHECKED, log=lambda line: None)


def test_an_image_with_error_findings_is_not_pushed(throwaway_image, registry):
    image = throwaway_image(BROKEN)
    registry.docker_config(Path(os.environ["DOCKER_CONFIG"]))
    run = imagekit("push", image, "--to", registry.ref("unchecked/small"))
    assert run.returncode == 1, run.stderr
    assert "error-level findings" in run.stderr and "--no-verify" in run.stderr
    # the image's ID was linted (what is pushed is what was checked), the report names the tag the user gave
    from imagekit import engine

    image_id = engine.inspect_image(image)["Id"]
    named = [line for line in run.stderr.splitlines() if line.startswith(f"{image} ({image_id[:19]}…): ")]
    assert named and all(" error IK" in line for line in named), run.stderr
    by_id = imagekit("push", image_id, "--to", registry.ref("unchecked/small"))
    assert by_id.returncode == 1 and by_id.stderr.startswith(f"{image_id}: "), by_id.stderr  # shown once
    assert not [line for line in run.stderr.splitlines() if line.startswith("sha256:")], run.stderr
    assert served_digest(registry, "unchecked/small", "latest") is None


def test_a_missing_local_image_and_a_bad_uri_exit_2(engine, tmp_path):
    missing = imagekit("push", f"imagekit-test/missing-{uuid.uuid4().hex[:8]}:1", "--to", "127.0.0.1:5000/x:1")
    assert missing.returncode == 2 and "is not in the Docker engine" in missing.stderr
    name = f"unbuilt-{uuid.uuid4().hex[:8]}"  # no IMAGE: the project's, named as `imagekit build` names it
    project = new(name, "sklearn", directory=tmp_path)
    unbuilt = imagekit("push", "--spec", str(project), "--to", "127.0.0.1:5000/x:1")
    assert unbuilt.returncode == 2 and f"Image '{name}:latest' is not in the Docker engine" in unbuilt.stderr
    bad = imagekit("push", "anything", "--to", "Registry.example.com/UPPER:1")
    assert bad.returncode == 2 and "is not a REGISTRY/REPOSITORY:TAG" in bad.stderr
    bad_build = imagekit("build", str(project), "--push", "12345.dkr.ecr.eu-west-1.amazonaws.com/x:1")
    assert bad_build.returncode == 2 and "12-digit" in bad_build.stderr and "Step" not in bad_build.stderr
    assert "Traceback" not in missing.stderr + unbuilt.stderr + bad.stderr + bad_build.stderr


@pytest.mark.parametrize(("message", "says", "names"), [
    ("denied: Your authorization token has expired. Reauthenticate and try again.", "login has expired", ""),
    ("denied: User: arn:aws:sts::123456789012:assumed-role/ci/x is not authorized to perform: "
     "ecr:InitiateLayerUpload on resource: arn:aws:ecr:eu-west-1:123456789012:repository/iris because no "
     "resource-based policy allows the ecr:InitiateLayerUpload action", "policy forbids", "ecr:PutImage"),
    ("tag invalid: The image tag '1.0' already exists in the 'iris' repository and cannot be overwritten because "
     "the repository is immutable.", "overwriting a tag", ""),
    ('Get "https://registry.example.com:5000/v2/": x509: certificate signed by unknown authority',
     "TLS certificate", "/etc/docker/certs.d/registry.example.com:5000/ca.crt"),
])
def test_registry_refusals_name_their_cause(message, says, names):
    """The engine's words for failures the loopback registry cannot produce (ECR's own, and TLS: the engine
    trusts any certificate on 127.0.0.0/8) are explained like the ones above."""
    target = destination("registry.example.com:5000/iris:1.0")
    error = push_failure(message, target, credentials_sent=True)
    assert says in error.message and names in str(error)


def test_save_login_stores_the_ecr_login_where_it_says(throwaway_image, registry, moto_ecr, monkeypatch):
    uri = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/small:1"
    host = uri.split("/")[0]
    monkeypatch.setenv(REGISTRY_OVERRIDE_ENV, f"{host}={registry.host}")
    lines: list[str] = []
    push(throwaway_image(SMALL), uri, PushOptions(verify=False, save_login=True), log=lines.append)
    config = Path(os.environ["DOCKER_CONFIG"]) / "config.json"
    assert any(f"saved for {host} in {config}" in line for line in lines)
    saved = json.loads(config.read_text())["auths"][host]["auth"]
    assert base64.b64decode(saved).decode() == f"{registry.username}:{registry.password}"


def test_a_missing_credential_helper_is_one_clear_error(throwaway_image):
    image = throwaway_image(SMALL)  # built first: the SDK client caches the docker config it sees during a build
    config = Path(os.environ["DOCKER_CONFIG"])
    config.mkdir()
    (config / "config.json").write_text(json.dumps({"credsStore": "imagekit-test-absent"}))
    with pytest.raises(ImagekitError, match="credential helper for registry.example.com failed"):
        push(image, "registry.example.com/small:1", UNCHECKED, log=lambda line: None)


def test_pushing_to_the_docker_hub_spelling_of_the_image_own_name_keeps_the_image(throwaway_image):
    """The engine lists docker.io/NAME as NAME: a push whose target is the image's own (only) name must leave
    that name, and so the image, in place even when the push fails (here: Docker Hub is out of reach)."""
    from imagekit import engine

    image = throwaway_image(SMALL + f"LABEL imagekit-test.case={uuid.uuid4().hex}\n")
    with pytest.raises(ImagekitError):
        push(image, f"docker.io/{image}", UNCHECKED, log=lambda line: None)
    assert engine.inspect_image(image)["RepoTags"] == [image]


def test_a_target_tag_held_by_another_image_goes_back_to_it(throwaway_image, registry):
    from imagekit import engine

    pushed, other = (throwaway_image(SMALL + f"LABEL imagekit-test.case={uuid.uuid4().hex}\n") for _ in range(2))
    target = registry.ref("held/small", "1")
    engine.tag_image(other, *target.rsplit(":", 1))
    registry.docker_config(Path(os.environ["DOCKER_CONFIG"]))
    try:
        result = push(pushed, target, UNCHECKED, log=lambda line: None)
        assert engine.inspect_image(target)["Id"] == engine.inspect_image(other)["Id"]
        assert engine.inspect_image(pushed)["RepoTags"] == [pushed]
        assert engine.inspect_image(pushed)["RepoDigests"] == []  # nothing keeps it once its own tag goes
    finally:
        engine.untag_image(target)
    assert result.digest == served_digest(registry, "held/small", "1")


def test_an_upper_case_ecr_host_is_pushed_as_ecr():
    target = destination(f"{ACCOUNT}.DKR.ECR.{REGION.upper()}.AMAZONAWS.COM/team/iris:1")
    assert target.ecr is not None and target.host == f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"


@pytest.mark.parametrize("ref", ["localhost:5000/x:v\u00e9", "ex.com/x:\u0661", "ex.com/\u00e9:1", "Ex.com/Team/x:1",
                                 "ex.com/x:1\n", "localhost:123456/x:1", "ex.com/x:" + "a" * 129])
def test_push_targets_follow_the_one_reference_grammar(ref):
    """What push, the engine's checks and the registry reader accept is one grammar: a target all three refuse."""
    from imagekit import engine
    from imagekit.references import parse_reference

    for check in (destination, engine.check_reference, parse_reference):
        with pytest.raises(ImagekitError):
            check(ref)
