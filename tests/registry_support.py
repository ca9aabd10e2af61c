"""A real registry for tests: Debian's `docker-registry` (the CNCF distribution registry 2.8) on a loopback port.

`running_registry(workdir)` starts `docker-registry serve CONFIG` on 127.0.0.1 and a free port with TLS from a
throwaway CA made for this registry (the `openssl` CLI), htpasswd (bcrypt) or bearer-token auth, storage in
*workdir*, and stops it on exit. The yielded `Registry` says where it is and how to log in; `trust_for_engine()`
gives the Docker engine the CA through /etc/docker/certs.d/HOST:PORT/ca.crt for as long as it is open.

Token auth (`auth="token"`) runs a tiny stdlib token server beside the registry: it checks the same
user/password with basic auth and hands out RS256 JWTs signed by a key whose certificate the registry trusts
(signed with `openssl dgst`, so no crypto library is needed). The token lifetime is settable, to test expiry.

The binaries come from apt (`docker-registry`, `apache2-utils` for `htpasswd -B`, `openssl`): scripts/setup.sh
installs them, and `ensure_tools()` installs them itself when running as root on a machine that lacks them.
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import json
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

TOOLS = {"docker-registry": "docker-registry", "htpasswd": "apache2-utils", "openssl": "openssl"}
ENGINE_CERTS_DIR = Path("/etc/docker/certs.d")
LOOPBACK = "127.0.0.1"
START_TIMEOUT = 20.0


def ensure_tools() -> None:
    """Install the registry, htpasswd and openssl from apt when missing (as root); fail clearly otherwise."""
    missing = sorted({package for tool, package in TOOLS.items() if shutil.which(tool) is None})
    if not missing:
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise RuntimeError(f"the registry tests need the Debian packages {', '.join(missing)} "
                           f"(apt-get install {' '.join(missing)}, or run scripts/setup.sh as root)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing]
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=True, capture_output=True)
        subprocess.run(install, env=env, check=True, capture_output=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@dataclass(frozen=True)
class CertificateAuthority:
    """A throwaway CA and one server certificate for 127.0.0.1/localhost, as PEM files in *directory*."""

    directory: Path

    @property
    def ca_file(self) -> Path:
        return self.directory / "ca.crt"

    @property
    def cert_file(self) -> Path:
        return self.directory / "server.crt"

    @property
    def key_file(self) -> Path:
        return self.directory / "server.key"

    @classmethod
    def create(cls, directory: Path) -> "CertificateAuthority":
        directory.mkdir(parents=True, exist_ok=True)
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=imagekit test CA",
                 "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                 cwd=directory)
        _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", "server.key", "-out", "server.csr", "-subj", f"/CN={LOOPBACK}", cwd=directory)
        (directory / "server.ext").write_text(
            f"subjectAltName=IP:{LOOPBACK},DNS:localhost\nextendedKeyUsage=serverAuth\n"
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n")
        _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", "server.crt", "-days", "2", "-extfile", "server.ext", cwd=directory)
        return cls(directory)

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))


@dataclass
class Registry:
    """A running registry: where it is, how to trust it and how to log in."""

    host: str  # "127.0.0.1:PORT", the registry part of an image reference
    ca: CertificateAuthority
    username: str
    password: str
    storage: Path
    auth: str  # "htpasswd", "token" or "none"
    token_realm: str | None = None  # the token server's URL, with auth="token"

    @property
    def url(self) -> str:
        return f"https://{self.host}"

    @property
    def ca_file(self) -> Path:
        return self.ca.ca_file

    @property
    def auth_config(self) -> dict[str, str]:
        """For docker-py: `client.images.push(repo, tag, auth_config=registry.auth_config)`."""
        return {"username": self.username, "password": self.password, "serveraddress": self.host}

    def ref(self, repository: str, tag: str = "latest") -> str:
        return f"{self.host}/{repository}:{tag}"

    def ssl_context(self) -> ssl.SSLContext:
        return self.ca.ssl_context()

    def docker_config(self, directory: Path, *, password: str | None = None) -> Path:
        """Write DIRECTORY/config.json with a basic `auths` entry for this registry (for DOCKER_CONFIG); returns
        DIRECTORY. *password* overrides the right one, to test a wrong one."""
        directory.mkdir(parents=True, exist_ok=True)
        secret = base64.b64encode(f"{self.username}:{password or self.password}".encode()).decode()
        (directory / "config.json").write_text(json.dumps({"auths": {self.host: {"auth": secret}}}))
        return directory

    @contextlib.contextmanager
    def trust_for_engine(self) -> Iterator[Path]:
        """Install the CA as /etc/docker/certs.d/HOST:PORT/ca.crt (dockerd reads it per connection) and remove it
        afterwards. Yields the installed file.

        Note: dockerd counts 127.0.0.0/8 as an insecure registry by default (`docker info`: Insecure Registries),
        so it pushes to and pulls from this registry over TLS *without verifying* the certificate (and would fall
        back to plain HTTP): a push succeeds with or without this CA. The engine's certificate checking cannot be
        exercised on a loopback address; imagekit's own client does verify (tests/image/test_registry.py)."""
        directory = ENGINE_CERTS_DIR / self.host
        directory.mkdir(parents=True, exist_ok=True)
        installed = directory / "ca.crt"
        shutil.copyfile(self.ca_file, installed)
        try:
            yield installed
        finally:
            shutil.rmtree(directory, ignore_errors=True)


class _TokenServer(http.server.ThreadingHTTPServer):
    """Hands out registry bearer tokens (distribution's token auth) to clients that pass basic auth."""

    daemon_threads = True

    def __init__(self, key_dir: Path, username: str, password: str, issuer: str, service: str, lifetime: int):
        super().__init__((LOOPBACK, 0), _TokenHandler)
        self.key_dir, self.issuer, self.service, self.lifetime = key_dir, issuer, service, lifetime
        self.expected = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        self.leaf_der = base64.b64encode(_pem_body(key_dir / "token.crt")).decode()

    def sign(self, subject: str, scopes: list[str]) -> str:
        now = int(time.time())
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            access.append({"type": kind, "name": name, "actions": [a for a in actions.split(",") if a]})
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.leaf_der]}
        claims = {"iss": self.issuer, "sub": subject, "aud": self.service, "exp": now + self.lifetime,
                  "nbf": now - 10, "iat": now, "jti": os.urandom(8).hex(), "access": access}
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(self.key_dir / "token.key")],
                                   input=signing_input.encode(), capture_output=True, check=True).stdout
        return f"{signing_input}.{_b64url(signature)}"


class _TokenHandler(http.server.BaseHTTPRequestHandler):
    server: _TokenServer

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        from urllib.parse import parse_qs, urlsplit

        if self.headers.get("Authorization") != self.server.expected:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="imagekit test token server"')
            self.end_headers()
            return
        query = parse_qs(urlsplit(self.path).query)
        token = self.server.sign("tester", query.get("scope", []))
        body = json.dumps({"token": token, "access_token": token, "expires_in": self.server.lifetime}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _pem_body(path: Path) -> bytes:
    lines = path.read_text().splitlines()
    return base64.b64decode("".join(line for line in lines if not line.startswith("-----")))


@contextlib.contextmanager
def _token_server(directory: Path, username: str, password: str, lifetime: int) -> Iterator[_TokenServer]:
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "token.key", "-out", "token.crt",
             "-days", "2", "-subj", "/CN=imagekit test token issuer", cwd=directory)
    server = _TokenServer(directory, username, password, "imagekit-test-issuer", "imagekit-test-registry", lifetime)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


_CONFIG = """version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:5000
"""


@contextlib.contextmanager
def running_registry(workdir: Path, *, auth: str = "htpasswd", username: str = "tester",
                     password: str = "s3cret-pass", token_lifetime: int = 300,
                     storage: Path | None = None) -> Iterator[Registry]:
    """A registry serving HTTPS on 127.0.0.1:free-port until the block ends; *auth* is "htpasswd", "token" or
    "none". Everything it writes stays in *workdir*, its blobs and manifests in *storage* (default: a directory
    there; pass another registry's to serve the same images with other auth)."""
    if auth not in ("htpasswd", "token", "none"):
        raise ValueError(f"auth must be htpasswd, token or none, not {auth!r}")
    ensure_tools()
    workdir.mkdir(parents=True, exist_ok=True)
    ca = CertificateAuthority.create(workdir / "tls")
    storage = storage or workdir / "storage"
    storage.mkdir(exist_ok=True)
    config = workdir / "config.yml"
    config.write_text(_CONFIG.format(storage=storage))
    env = {**os.environ, "REGISTRY_HTTP_TLS_CERTIFICATE": str(ca.cert_file),
           "REGISTRY_HTTP_TLS_KEY": str(ca.key_file), "REGISTRY_HTTP_SECRET": os.urandom(16).hex()}
    with contextlib.ExitStack() as stack:
        realm = None
        if auth == "htpasswd":
            htpasswd = workdir / "htpasswd"
            subprocess.run(["htpasswd", "-Bbc", str(htpasswd), username, password], check=True, capture_output=True)
            env |= {"REGISTRY_AUTH": "htpasswd", "REGISTRY_AUTH_HTPASSWD_REALM": "imagekit-test",
                    "REGISTRY_AUTH_HTPASSWD_PATH": str(htpasswd)}
        elif auth == "token":
            tokens = stack.enter_context(_token_server(workdir / "tls", username, password, token_lifetime))
            realm = f"http://{LOOPBACK}:{tokens.server_address[1]}/token"
            env |= {"REGISTRY_AUTH": "token", "REGISTRY_AUTH_TOKEN_REALM": realm,
                    "REGISTRY_AUTH_TOKEN_SERVICE": tokens.service, "REGISTRY_AUTH_TOKEN_ISSUER": tokens.issuer,
                    "REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE": str(workdir / "tls" / "token.crt")}
        process, host = _start(config, env, ca, workdir / "registry.log")
        stack.callback(_stop, process)
        yield Registry(host, ca, username, password, storage, auth, realm)


def _start(config: Path, env: dict[str, str], ca: CertificateAuthority,
           log: Path) -> tuple[subprocess.Popen, str]:
    """Start the registry on a free port and wait until it answers /v2/; retries when another process took the
    port between choosing and binding it."""
    for _attempt in range(5):
        host = f"{LOOPBACK}:{free_port()}"
        with log.open("ab") as sink:
            process = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=sink,
                                       stderr=subprocess.STDOUT, env={**env, "REGISTRY_HTTP_ADDR": host})
        if _wait_ready(process, host, ca):
            return process, host
        _stop(process)
    raise RuntimeError(f"docker-registry did not start; its log:\n{log.read_text()[-4000:]}")


def _wait_ready(process: subprocess.Popen, host: str, ca: CertificateAuthority) -> bool:
    context = ca.ssl_context()
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        try:
            urllib.request.urlopen(f"https://{host}/v2/", context=context, timeout=2).close()
            return True
        except urllib.error.HTTPError:  # 401: up, and asking for credentials
            return True
        except (OSError, ssl.SSLError):
            time.sleep(0.05)
    return False


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- uploads without an engine (multi-platform indexes, hand-made manifests) --------------------------------
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _call(registry: Registry, method: str, url: str, body: bytes = b"",
          headers: dict[str, str] | None = None) -> tuple[int, dict[str, str]]:
    """One request with basic auth (an htpasswd or no-auth registry); raises on an error status."""
    secret = base64.b64encode(f"{registry.username}:{registry.password}".encode()).decode()
    request = urllib.request.Request(url if url.startswith("http") else registry.url + url, data=body or None,
                                     method=method, headers={"Authorization": f"Basic {secret}", **(headers or {})})
    with urllib.request.urlopen(request, context=registry.ssl_context(), timeout=60) as answer:
        return answer.status, {key.lower(): value for key, value in answer.headers.items()}


def upload_blob(registry: Registry, repository: str, data: bytes) -> str:
    """Upload *data* as a blob (POST, then PUT with its digest); returns the digest."""
    import hashlib
    from urllib.parse import urlencode, urljoin

    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    _, headers = _call(registry, "POST", f"/v2/{repository}/blobs/uploads/")
    location = urljoin(registry.url + "/", headers["location"])
    _call(registry, "PUT", f"{location}{'&' if '?' in location else '?'}{urlencode({'digest': digest})}", data,
          {"Content-Type": "application/octet-stream"})
    return digest


def upload_manifest(registry: Registry, repository: str, reference: str, data: bytes, media_type: str) -> str:
    """PUT a manifest or index under a tag or digest; returns the digest the registry computed."""
    _, headers = _call(registry, "PUT", f"/v2/{repository}/manifests/{reference}", data,
                       {"Content-Type": media_type})
    return headers["docker-content-digest"]


def upload_layout(registry: Registry, layout: Path, repository: str, tag: str) -> str:
    """Copy an OCI image layout (one or more platform manifests) to REPOSITORY:TAG with no engine: every blob, each
    manifest by digest, then the layout's index (or its only manifest) under *tag*. Returns the tag's digest."""
    index = json.loads((layout / "index.json").read_text())

    def blob(digest: str) -> bytes:
        return (layout / "blobs" / "sha256" / digest.split(":", 1)[1]).read_bytes()

    for descriptor in index["manifests"]:
        manifest = json.loads(blob(descriptor["digest"]))
        for part in (manifest["config"], *manifest["layers"]):
            upload_blob(registry, repository, blob(part["digest"]))
        upload_manifest(registry, repository, descriptor["digest"], blob(descriptor["digest"]),
                        manifest.get("mediaType", OCI_MANIFEST))
    if len(index["manifests"]) == 1 and "platform" not in index["manifests"][0]:
        only = index["manifests"][0]
        return upload_manifest(registry, repository, tag, blob(only["digest"]), only.get("mediaType", OCI_MANIFEST))
    document = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": index["manifests"]}
    return upload_manifest(registry, repository, tag, json.dumps(document).encode(), OCI_INDEX)


def blob_file(registry: Registry, digest: str) -> Path:
    """Where the registry keeps a blob's bytes on disk (to damage one in a test)."""
    hexdigest = digest.split(":", 1)[1]
    return registry.storage / "docker" / "registry" / "v2" / "blobs" / "sha256" / hexdigest[:2] / hexdigest / "data"
