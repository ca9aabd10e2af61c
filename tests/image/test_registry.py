"""`lint --image HOST/REPO:TAG` against a real registry (Debian's docker-registry, TLS, htpasswd or token auth).

Images reach the registry through our own uploads (no engine), except the parity test, which pushes an engine
image and then lints it with no engine reachable at all.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Iterator

import pytest

from image.archive import BASE_LAYER, oci_layout
from imagekit.contract import Limits
from imagekit.errors import ImagekitError
from imagekit.image.registry import docker_config_credentials
from imagekit.image.registry_source import open_registry_image
from imagekit.image.sources import source_of
from imagekit.lint.image_lint import lint_image
from imagekit.references import parse_reference
from registry_support import Registry, blob_file, free_port, running_registry, upload_layout

SERVE = b"#!/usr/bin/env python3\nprint('serving')\n"
CONFIG = {"Entrypoint": ["/usr/local/bin/serve"], "Env": ["PATH=/usr/local/bin:/usr/bin:/bin"]}
AMD = [BASE_LAYER, [("usr/local/bin/serve", SERVE), ("amd-only", b"a")]]
ARM = [BASE_LAYER, [("usr/local/bin/serve", SERVE), ("arm-only", b"b")]]
NO_ENGINE = {"DOCKER_HOST": "unix:///nonexistent/docker.sock"}


@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> Iterator[Registry]:
    with running_registry(tmp_path_factory.mktemp("registry")) as running:
        yield running


@pytest.fixture(scope="module")
def two_platforms(registry: Registry, tmp_path_factory) -> str:
    """REF of an OCI index with a linux/amd64 and a linux/arm64 image, uploaded without an engine."""
    layout = oci_layout(tmp_path_factory.mktemp("layout") / "oci",
                        {"linux/amd64": (CONFIG, AMD), "linux/arm64": (CONFIG, ARM)})
    upload_layout(registry, layout, "imagekit-test/multi", "v1")
    return registry.ref("imagekit-test/multi", "v1")


def login(registry: Registry, password: str | None = None):
    return lambda host: (registry.username, password or registry.password)


def imagekit(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "imagekit", *args], capture_output=True, text=True,
                          env={**os.environ, **env})


def cli_env(registry: Registry, tmp_path: Path, password: str | None = None) -> dict[str, str]:
    """No engine, the registry's CA trusted through SSL_CERT_FILE, a docker config with its login."""
    config = registry.docker_config(tmp_path / "docker-config", password=password)
    return {**NO_ENGINE, "SSL_CERT_FILE": str(registry.ca_file), "DOCKER_CONFIG": str(config)}


def test_references_resolve_the_docker_way() -> None:
    assert parse_reference("python:3.11") == parse_reference("docker.io/library/python:3.11")
    assert parse_reference("python").tag == "latest"
    ecr = parse_reference("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/team/model:1.0")
    assert (ecr.registry, ecr.repository, ecr.tag) == ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
                                                       "team/model", "1.0")
    pinned = parse_reference(f"localhost:5000/model@sha256:{'a' * 64}")
    assert (pinned.registry, pinned.tag, pinned.reference) == ("localhost:5000", None, f"sha256:{'a' * 64}")
    with pytest.raises(ImagekitError, match="bad repository 'Model'"):
        parse_reference("localhost:5000/Model:1")


def test_credentials_come_from_the_docker_config(registry: Registry, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(registry.docker_config(tmp_path)))
    assert docker_config_credentials(registry.host) == (registry.username, registry.password)
    assert docker_config_credentials("elsewhere.example:443") is None
    helper = tmp_path / "bin" / "docker-credential-fake"
    helper.parent.mkdir()
    helper.write_text('#!/bin/sh\nread server\necho "{\\"Username\\": \\"u-$server\\", \\"Secret\\": \\"s\\"}"\n')
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{helper.parent}:{os.environ['PATH']}")
    (tmp_path / "config.json").write_text(json.dumps({"credHelpers": {"helped.example": "fake"}}))
    assert docker_config_credentials("helped.example") == ("u-helped.example", "s")


def test_a_multi_platform_index_gives_the_requested_platform(registry: Registry, two_platforms: str) -> None:
    arm = open_registry_image(two_platforms, platform="linux/arm64", credentials=login(registry),
                              ca_file=registry.ca_file)
    assert arm.architecture == "arm64" and "arm-only" in arm.entries and "amd-only" not in arm.entries
    amd = open_registry_image(two_platforms, credentials=login(registry), ca_file=registry.ca_file)
    assert "amd-only" in amd.entries and "linux/amd64" in amd.platform_note  # the host's platform by default
    with pytest.raises(ImagekitError, match="no image for platform linux/s390x.*linux/amd64, linux/arm64"):
        open_registry_image(two_platforms, platform="linux/s390x", credentials=login(registry),
                            ca_file=registry.ca_file)


def test_the_cli_reads_a_registry_image_without_an_engine(registry: Registry, two_platforms: str,
                                                           tmp_path: Path) -> None:
    result = imagekit("lint", "--image", two_platforms, "--platform", "linux/arm64", "-f", "json",
                      env=cli_env(registry, tmp_path))
    assert result.returncode in (0, 1), result.stderr
    assert f"read from the registry {registry.host} (no engine involved)" in result.stderr
    assert "IK526" in {finding["rule"] for finding in json.loads(result.stdout)["findings"]}
    expected = sorted((f.rule, f.message) for f in lint_image(str(
        oci_layout(tmp_path / "oci", {"linux/amd64": (CONFIG, AMD), "linux/arm64": (CONFIG, ARM)})),
        platform="linux/arm64"))
    assert sorted((f["rule"], f["message"]) for f in json.loads(result.stdout)["findings"]) == expected


def test_wrong_password_and_missing_login_are_exit_2(registry: Registry, two_platforms: str,
                                                     tmp_path: Path) -> None:
    wrong = imagekit("lint", "--image", two_platforms, env=cli_env(registry, tmp_path, password="nope"))
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr
    assert "rejected the credentials of user 'tester' (401)" in " ".join(wrong.stderr.split())
    missing = imagekit("lint", "--image", two_platforms, env={**cli_env(registry, tmp_path),
                                                              "DOCKER_CONFIG": str(tmp_path / "empty")})
    assert missing.returncode == 2 and "requires authentication (401)" in " ".join(missing.stderr.split())
    assert f"docker login {registry.host}" in " ".join(missing.stderr.split())


def test_untrusted_tls_unknown_manifest_and_unreachable_registry(registry: Registry, two_platforms: str,
                                                                  tmp_path: Path) -> None:
    untrusted = imagekit("lint", "--image", two_platforms, env={**cli_env(registry, tmp_path), "SSL_CERT_FILE": ""})
    text = " ".join(untrusted.stderr.split())
    assert untrusted.returncode == 2 and "is not trusted" in text and f"/etc/docker/certs.d/{registry.host}" in text
    with pytest.raises(ImagekitError, match="has no image imagekit-test/multi:v9: MANIFEST_UNKNOWN"):
        open_registry_image(registry.ref("imagekit-test/multi", "v9"), credentials=login(registry),
                            ca_file=registry.ca_file)
    nowhere = f"127.0.0.1:{free_port()}/imagekit-test/multi:v1"
    with pytest.raises(ImagekitError, match="Cannot reach the registry 127.0.0.1:[0-9]+ .*refused"):
        open_registry_image(nowhere, credentials=login(registry))


def test_a_blob_damaged_in_the_registry_is_refused(registry: Registry, tmp_path: Path) -> None:
    layers = [BASE_LAYER, [("usr/local/bin/serve", SERVE), ("canary", b"original")]]
    layout = oci_layout(tmp_path / "oci", {"linux/amd64": (CONFIG, layers)}, compression="none")
    upload_layout(registry, layout, "imagekit-test/damaged", "v1")
    index = json.loads((layout / "index.json").read_text())
    manifest = json.loads((layout / "blobs" / "sha256" / index["manifests"][0]["digest"][7:]).read_text())
    stored = blob_file(registry, manifest["layers"][-1]["digest"])
    stored.write_bytes(stored.read_bytes().replace(b"original", b"replaced"))  # a valid tar: only the digest tells
    with pytest.raises(ImagekitError, match="does not match its digest"):
        open_registry_image(registry.ref("imagekit-test/damaged", "v1"), credentials=login(registry),
                            ca_file=registry.ca_file)


def test_bearer_token_auth(tmp_path: Path) -> None:
    layout = oci_layout(tmp_path / "oci", {"linux/amd64": (CONFIG, AMD)})
    with running_registry(tmp_path / "uploader", auth="none") as uploader:  # our uploads speak basic auth only
        upload_layout(uploader, layout, "imagekit-test/token", "v1")
    with running_registry(tmp_path / "registry", auth="token", storage=uploader.storage) as registry:
        ref = registry.ref("imagekit-test/token", "v1")
        image = open_registry_image(ref, credentials=login(registry), ca_file=registry.ca_file)
        assert "amd-only" in image.entries
        with pytest.raises(ImagekitError, match="rejected the credentials of user 'tester'"):
            open_registry_image(ref, credentials=login(registry, "wrong"), ca_file=registry.ca_file)
        with pytest.raises(ImagekitError, match="requires authentication"):
            open_registry_image(ref, credentials=lambda host: None, ca_file=registry.ca_file)
    # tokens that expired before they were issued (past the registry's 60 s leeway): refused, asked for again
    # once, then reported as expired credentials
    with running_registry(tmp_path / "expired", auth="token", token_lifetime=-120,
                          storage=uploader.storage) as expired:
        with pytest.raises(ImagekitError, match="wrong or expired password or token"):
            open_registry_image(expired.ref("imagekit-test/token", "v1"), credentials=login(expired),
                                ca_file=expired.ca_file)


def test_ecr_hosts_ask_the_ecr_provider_first(monkeypatch, tmp_path: Path) -> None:
    from imagekit.image.registry import default_credentials
    from imagekit.ship import ecr

    host = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
    monkeypatch.setattr(ecr, "registry_credentials", lambda registry: ("AWS", f"token-for-{registry}"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    (tmp_path / "config.json").write_text(json.dumps({"auths": {host: {"auth": base64.b64encode(
        b"AWS:stale").decode()}, "ghcr.io": {"auth": base64.b64encode(b"me:pat").decode()}}}))
    assert default_credentials(host) == ("AWS", f"token-for-{host}")
    assert default_credentials("ghcr.io") == ("me", "pat")

    def no_aws(registry: str):
        raise ImagekitError("No AWS credentials.")

    monkeypatch.setattr(ecr, "registry_credentials", no_aws)
    assert default_credentials(host) == ("AWS", "stale")  # a docker login still counts
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ImagekitError, match="No AWS credentials"):
        default_credentials(host)


def test_lint_from_the_registry_equals_lint_from_the_engine(engine, throwaway_image, registry: Registry,
                                                            tmp_path: Path) -> None:
    tag = throwaway_image("FROM {base}\nCOPY serve /usr/local/bin/\nUSER nobody\nEXPOSE 8080\n",
                          files={"serve": "#!/usr/bin/env python3\nprint(1)\n"})
    pushed = registry.ref("imagekit-test/parity", "v1")
    engine.images.get(tag).tag(pushed)
    try:
        for line in engine.images.push(pushed, auth_config=registry.auth_config, stream=True, decode=True):
            assert "error" not in line, line
        assert source_of(pushed) == "the Docker engine"  # the engine holds it: no download
    finally:
        engine.images.remove(pushed)
    from_engine = imagekit("lint", "--image", tag, "-f", "json", env={})
    from_registry = imagekit("lint", "--image", pushed, "-f", "json", env=cli_env(registry, tmp_path))
    assert "read from the Docker engine" in from_engine.stderr
    assert f"read from the registry {registry.host} (no engine involved)" in from_registry.stderr
    assert from_registry.returncode == from_engine.returncode, from_registry.stderr
    findings = json.loads(from_engine.stdout)["findings"]
    assert findings and json.loads(from_registry.stdout.replace(pushed, tag))["findings"] == findings


class _Fake(http.server.BaseHTTPRequestHandler):
    """A plain-HTTP registry on loopback that answers from `routes` (path -> (status, headers, body))."""

    routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
    seen: list[tuple[str, str | None]] = []

    def do_GET(self) -> None:  # noqa: N802
        self.seen.append((self.path, self.headers.get("Authorization")))
        status, headers, body = self.routes.get(self.path.split("?")[0], (404, {}, b""))
        self.send_response(status)
        for key, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def fake_server() -> Iterator[tuple[str, type[_Fake]]]:
    """(host:port, its handler class: set `routes`, read `seen`)."""
    handler = type("Handler", (_Fake,), {"routes": {}, "seen": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def fake() -> Iterator[tuple[str, type[_Fake]]]:
    with fake_server() as running:
        yield running


def _manifest(config: bytes) -> bytes:
    digest = "sha256:" + hashlib.sha256(config).hexdigest()
    return json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "config": {"digest": digest, "size": len(config)}, "layers": []}).encode()


def test_hostile_registry_answers_are_bounded(fake) -> None:
    host, handler = fake
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {}}).encode()
    blob = f"/v2/x/blobs/sha256:{hashlib.sha256(config).hexdigest()}"
    handler.routes.update({
        "/v2/x/manifests/v1": (200, {}, _manifest(config)),
        blob: (307, {"Location": f"http://{host}{blob}"}, b""),  # a loop (plain HTTP: a loopback registry)
        "/v2/huge/manifests/v1": (200, {}, b"{" + b" " * Limits.JSON_BYTES + b"}"),
    })
    with pytest.raises(ImagekitError, match="REGISTRY_REDIRECTS"):
        open_registry_image(f"{host}/x:v1", credentials=lambda registry: None)
    with pytest.raises(ImagekitError, match="JSON_BYTES"):
        open_registry_image(f"{host}/huge:v1", credentials=lambda registry: None)
    handler.routes["/v2/x/manifests/v1"] = (200, {"Docker-Content-Digest": "sha256:" + "0" * 64}, _manifest(config))
    with pytest.raises(ImagekitError, match="does not match its digest"):
        open_registry_image(f"{host}/x:v1", credentials=lambda registry: None)


def test_credentials_do_not_follow_a_redirect_to_another_host(fake) -> None:
    host, handler = fake
    with fake_server() as (storage_host, storage):
        config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"User": "1000"}}).encode()
        digest = hashlib.sha256(config).hexdigest()
        storage.routes["/bucket/config"] = (200, {}, config)
        secret = "Basic " + base64.b64encode(b"user:pass").decode()
        handler.routes.update({
            "/v2/": (401, {"WWW-Authenticate": 'Basic realm="fake"'}, b""),
            "/v2/x/manifests/v1": (200, {}, _manifest(config)),
            f"/v2/x/blobs/sha256:{digest}": (307, {"Location": f"http://{storage_host}/bucket/config"}, b""),
        })
        original = handler.do_GET

        def guarded(self) -> None:  # every /v2/ path needs the login, as a real registry's would
            if self.headers.get("Authorization") != secret and self.path.startswith("/v2/"):
                self.seen.append((self.path, self.headers.get("Authorization")))
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="fake"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            original(self)

        handler.do_GET = guarded
        image = open_registry_image(f"{host}/x:v1", credentials=lambda registry: ("user", "pass"))
        assert image.config == {"User": "1000"}
        assert storage.seen == [("/bucket/config", None)]  # fetched, without our Authorization


@pytest.mark.parametrize("ref", ["localhost:5999/x:v\u00e9", "ex.com/x:\u0661", "ex.com/\u00e9:1", "ex.com/x:1\n"])
def test_non_ascii_and_malformed_references_are_exit_2(ref: str, tmp_path: Path) -> None:
    with pytest.raises(ImagekitError, match="not a valid image reference"):
        parse_reference(ref)
    run = imagekit("lint", "--image", ref, env={**NO_ENGINE, "DOCKER_CONFIG": str(tmp_path)})
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr


@pytest.mark.parametrize(("status", "headers"), [
    (307, {"Location": "/v2/x/manifests/\u00e9"}),
    (307, {"Location": "http://[::1/x"}),
    (307, {"Location": "http://127.0.0.1:99999/x"}),
    (401, {"WWW-Authenticate": 'Bearer realm="http://[::1/token",service="fake"'}),
    (401, {"WWW-Authenticate": 'Bearer realm="http://127.0.0.1/t\u00e9",service="fake"'}),
])
def test_hostile_redirects_and_token_realms_are_one_clear_error(fake, status: int, headers: dict) -> None:
    host, handler = fake
    handler.routes["/v2/x/manifests/v1"] = (status, headers, b"")
    with pytest.raises(ImagekitError, match="not a valid URL"):
        open_registry_image(f"{host}/x:v1", credentials=lambda registry: None)
