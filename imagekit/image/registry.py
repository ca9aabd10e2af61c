"""A client for the Registry HTTP API v2 (the OCI distribution spec): references, credentials, auth, bounded reads.

Stdlib only (http.client + ssl), so `imagekit lint --image HOST/REPO:TAG` needs neither an engine nor a new
dependency. What it does, and why:
- references are resolved the way the docker CLI resolves them (a first component with a dot, a colon or
  `localhost` is a registry host; otherwise Docker Hub, `library/` for one-word names);
- credentials come from a pluggable `CredentialsProvider`; the default reads the user's docker config
  (`credHelpers`, `credsStore`, `auths`) like the engine does, and ECR hosts go to `imagekit.ship.ecr` first
  (a fresh GetAuthorizationToken beats an expired `docker login`) when that module and boto3 are installed;
- auth follows the `WWW-Authenticate` challenge: Basic, or Bearer through the token endpoint it names;
- TLS trusts the system store (SSL_CERT_FILE / SSL_CERT_DIR honoured) plus docker's per-registry CA directory
  `/etc/docker/certs.d/HOST/*.crt` (and `~/.docker/certs.d`), so a registry the engine trusts is trusted here;
- every answer is bounded: manifests by Limits.JSON_BYTES, token and error bodies by REGISTRY_SMALL_BYTES, blob
  redirects (S3-style, to other hosts: normal) by REGISTRY_REDIRECTS, without ever forwarding our credentials to
  another host; blob bodies are streamed and capped at the size their descriptor declares.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import ipaddress
import json
import os
import re
import socket
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable, Optional
from urllib.parse import urlencode, urljoin, urlsplit

from imagekit.contract import REGISTRY_TIMEOUT_S, Limits
from imagekit.errors import ImagekitError, LimitExceeded

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/"  # the key `docker login` writes for Docker Hub
ENGINE_CERTS_DIRS = (Path("/etc/docker/certs.d"), Path.home() / ".docker" / "certs.d")

INDEX_TYPES = ("application/vnd.oci.image.index.v1+json",
               "application/vnd.docker.distribution.manifest.list.v2+json")
MANIFEST_TYPES = ("application/vnd.oci.image.manifest.v1+json",
                  "application/vnd.docker.distribution.manifest.v2+json")
_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1"

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPOSITORY = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_HOST = re.compile(r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
                   r"|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?")

Credentials = tuple[str, str]  # (username, password or token)
CredentialsProvider = Callable[[str], Optional[Credentials]]
"""Given a registry host ("host:port" as in the reference), its (username, secret), or None for anonymous.

A provider may raise ImagekitError to explain why it has none (no AWS credentials, a helper that failed)."""


@dataclass(frozen=True)
class Reference:
    """An image reference split the docker way; `registry` is the host as written (docker.io for Docker Hub)."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def reference(self) -> str:
        """What goes after /manifests/: the digest when there is one, else the tag."""
        return self.digest or self.tag or "latest"

    @property
    def api_host(self) -> str:
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    def __str__(self) -> str:
        tail = f":{self.tag}" if self.tag else ""
        return f"{self.registry}/{self.repository}{tail}{'@' + self.digest if self.digest else ''}"


def has_registry_host(ref: str) -> bool:
    """Whether *ref* names its registry (`host.domain/...`, `host:port/...`, `localhost/...`), as docker decides."""
    first, slash, _ = ref.partition("/")
    return bool(slash) and ("." in first or ":" in first or first == "localhost")


def parse_reference(ref: str) -> Reference:
    """`[HOST[:PORT]/]REPO[:TAG][@sha256:HEX]` with docker's defaults; ImagekitError names what is malformed."""
    name, at, digest = ref.partition("@")
    tag = None
    last_slash = name.rfind("/")
    if ":" in name[last_slash + 1:]:
        name, _, tag = name.rpartition(":")
    if has_registry_host(name):
        registry, _, repository = name.partition("/")
    else:
        registry, repository = DOCKER_HUB, name
    if registry in ("index.docker.io", "registry-1.docker.io"):
        registry = DOCKER_HUB
    if registry == DOCKER_HUB and "/" not in repository:
        repository = f"library/{repository}"
    problems = []
    if not _HOST.fullmatch(registry):
        problems.append(f"registry host {registry!r}")
    if not _REPOSITORY.fullmatch(repository) or len(repository) > 255:
        problems.append(f"repository {repository!r} (lower-case letters, digits, separators . _ - and /)")
    if tag is not None and not _TAG.fullmatch(tag):
        problems.append(f"tag {tag!r}")
    if at and not _DIGEST.fullmatch(digest):
        problems.append(f"digest {digest!r} (sha256:64 hex digits)")
    if problems:
        raise ImagekitError(f"{ref} is not a valid image reference: bad {'; bad '.join(problems)}.",
                            "Write it as HOST[:PORT]/REPOSITORY[:TAG][@sha256:DIGEST], e.g. "
                            "123456789012.dkr.ecr.us-east-1.amazonaws.com/model:1.0.")
    return Reference(registry, repository, tag if tag or at else "latest", digest or None)


# --- credentials -----------------------------------------------------------------------------------------
def docker_config_path() -> Path:
    return Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker") / "config.json"


def docker_config_credentials(registry: str) -> Credentials | None:
    """The credentials `docker login` stored for *registry*: its credential helper, the default store, or the
    base64 `auth` entry of config.json (keys with or without https://, Docker Hub's legacy key)."""
    path = docker_config_path()
    try:
        with path.open("rb") as stream:
            config = json.loads(stream.read(Limits.JSON_BYTES))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise ImagekitError(f"Cannot read the docker config {path}: {error}.",
                            "Fix or remove the file (`docker login` rewrites it).") from None
    if not isinstance(config, dict):
        return None
    keys = [registry, f"https://{registry}", f"http://{registry}"]
    if registry == DOCKER_HUB:
        keys = [DOCKER_HUB_AUTH_KEY, "index.docker.io", "docker.io", "registry-1.docker.io"]
    helpers = config.get("credHelpers") or {}
    for key in keys:
        if isinstance(helpers, dict) and isinstance(helpers.get(key), str):
            return _credential_helper(helpers[key], key)
    auths = config.get("auths") or {}
    entry = next((auths[key] for key in keys if isinstance(auths, dict) and isinstance(auths.get(key), dict)), None)
    if isinstance(config.get("credsStore"), str):
        found = _credential_helper(config["credsStore"], keys[0])
        if found:
            return found
    if entry is None:
        return None
    if isinstance(entry.get("auth"), str) and entry["auth"]:
        try:
            user, colon, secret = base64.b64decode(entry["auth"]).decode().partition(":")
        except ValueError:
            raise ImagekitError(f"The auth entry for {registry} in {path} is not base64 of user:password.",
                                f"Log in again: `docker login {registry}`.") from None
        return (user, secret) if colon else None
    if isinstance(entry.get("username"), str) and isinstance(entry.get("password"), str):
        return entry["username"], entry["password"]
    return None


def _credential_helper(helper: str, server: str) -> Credentials | None:
    """`docker-credential-HELPER get` with the server on stdin, as the docker CLI calls it."""
    program = f"docker-credential-{helper}"
    try:
        done = subprocess.run([program, "get"], input=server.encode(), capture_output=True,
                              timeout=REGISTRY_TIMEOUT_S)
    except FileNotFoundError:
        raise ImagekitError(f"The docker config names the credential helper {program!r} for {server}, and it is "
                            "not on PATH.", f"Install {program}, or remove it from {docker_config_path()}.") from None
    except subprocess.TimeoutExpired:
        raise ImagekitError(f"The credential helper {program} did not answer within {REGISTRY_TIMEOUT_S:.0f} s.",
                            "Check that it works: `echo HOST | " + program + " get`.") from None
    if done.returncode != 0:
        if b"credentials not found" in done.stdout.lower() + done.stderr.lower():
            return None
        raise ImagekitError(f"The credential helper {program} failed for {server}: "
                            f"{(done.stderr or done.stdout).decode(errors='replace').strip()[:300]}.",
                            f"Log in again (`docker login {server}`) or fix the helper.")
    try:
        answer = json.loads(done.stdout[:Limits.REGISTRY_SMALL_BYTES])
        return str(answer["Username"]), str(answer["Secret"])
    except (ValueError, KeyError, TypeError):
        raise ImagekitError(f"The credential helper {program} gave an answer that is not its JSON "
                            "({Username, Secret}).", "Check the helper's version.") from None


def default_credentials(registry: str) -> Credentials | None:
    """ECR hosts: `imagekit.ship.ecr.registry_credentials` (boto3's GetAuthorizationToken, the `ecr` extra), else
    the docker config; every other host: the docker config. When ECR cannot give a token (no boto3, no AWS
    credentials) a `docker login` still counts; without one either, ECR's reason is the error."""
    from imagekit.ship.ecr import looks_like_ecr, registry_credentials

    ecr_error = None
    if looks_like_ecr(registry):
        try:
            found = registry_credentials(registry)
        except ImagekitError as error:
            found, ecr_error = None, error
        if found:
            return found
    found = docker_config_credentials(registry)
    if found is None and ecr_error is not None:
        raise ecr_error
    return found


# --- transport -------------------------------------------------------------------------------------------
def is_loopback(host: str) -> bool:
    name = host.rsplit(":", 1)[0].strip("[]") if host.count(":") <= 1 or host.startswith("[") else host
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def tls_context(registry: str, ca_file: str | Path | None = None) -> ssl.SSLContext:
    """The system trust store, *ca_file*, and docker's per-registry CAs for *registry* (HOST:PORT/*.crt)."""
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    if ca_file:
        context.load_default_certs()
    for directory in ENGINE_CERTS_DIRS:
        folder = directory / registry
        try:
            for cert in sorted(folder.glob("*.crt")):
                context.load_verify_locations(cafile=str(cert))
        except (OSError, ssl.SSLError):
            continue
    return context


@dataclass
class Response:
    """A registry answer: status, headers (lower-case names) and the open body stream (close it)."""

    status: int
    headers: dict[str, str]
    body: http.client.HTTPResponse
    url: str

    def read_small(self, limit: int, what: str) -> bytes:
        with self.body:
            data = self.body.read(limit + 1)
        if len(data) > limit:
            raise LimitExceeded(f"{self.url}", f"the size of {what}", _limit_name(limit), limit)
        return data


def _limit_name(limit: int) -> str:
    return "JSON_BYTES" if limit == Limits.JSON_BYTES else "REGISTRY_SMALL_BYTES"


class RegistryClient:
    """Reads one registry: `get(path)` with auth handled, `manifest(ref)`, `blob(ref, descriptor)`."""

    def __init__(self, registry: str, *, credentials: CredentialsProvider | None = None,
                 ca_file: str | Path | None = None, where: str | None = None) -> None:
        self.registry = registry
        self.host = DOCKER_HUB_API if registry == DOCKER_HUB else registry
        self.where = where or registry
        self._provider = credentials or default_credentials
        self._credentials: Credentials | None | bool = False  # False: not looked up yet
        self._authorization: str | None = None
        self._ca_file = ca_file
        self._context = tls_context(registry, ca_file)
        self._scheme = "https"

    @property
    def subject(self) -> str:
        """*where* to start a sentence with."""
        return self.where[:1].upper() + self.where[1:]

    # --- auth ---------------------------------------------------------------------------------------
    def _lookup_credentials(self) -> Credentials | None:
        if self._credentials is False:
            self._credentials = self._provider(self.registry)
        return self._credentials  # type: ignore[return-value]

    def _authorize(self, challenge: str, scope: str) -> None:
        scheme, _, params = challenge.strip().partition(" ")
        credentials = self._lookup_credentials()
        if scheme.lower() == "basic":
            if credentials is None:
                raise self._auth_error(401, None)
            self._authorization = "Basic " + base64.b64encode(":".join(credentials).encode()).decode()
        elif scheme.lower() == "bearer":
            self._authorization = "Bearer " + self._token(_challenge_params(params), scope, credentials)
        else:
            raise ImagekitError(f"{self.subject} asks for {scheme or 'an unnamed'} authentication, which imagekit does "
                                "not speak (it speaks Basic and Bearer tokens).", "Use a registry with standard "
                                "token or basic auth, or lint a `docker save` archive of the image instead.")

    def _token(self, params: dict[str, str], scope: str, credentials: Credentials | None) -> str:
        realm = params.get("realm", "")
        parts = urlsplit(realm)
        if parts.scheme not in ("https", "http") or not parts.netloc or (
                parts.scheme == "http" and not is_loopback(parts.netloc)):
            raise ImagekitError(f"{self.subject} names the token endpoint {realm!r}, which is not an https URL.",
                                "The registry's auth setup is broken; tell its operator.")
        query = {"service": params["service"]} if "service" in params else {}
        query["scope"] = params.get("scope") or scope
        url = f"{realm}{'&' if parts.query else '?'}{urlencode(query)}"
        headers = {}
        if credentials is not None:
            headers["Authorization"] = "Basic " + base64.b64encode(":".join(credentials).encode()).decode()
        answer = self._request(url, headers, context=tls_context(parts.netloc, self._ca_file))
        if answer.status in (401, 403):
            answer.body.close()
            raise self._auth_error(answer.status, credentials)
        if answer.status != 200:
            detail = _error_detail(answer)
            raise ImagekitError(f"The token endpoint of {self.where} ({parts.netloc}) answered {answer.status}"
                                f"{detail}.", "Try again; if it persists the registry's auth service is down.")
        try:
            document = json.loads(answer.read_small(Limits.REGISTRY_SMALL_BYTES, "a token answer"))
            token = document.get("token") or document.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            raise ImagekitError(f"The token endpoint of {self.where} answered without a token.",
                                "The registry's auth service is misconfigured; tell its operator.")
        return token

    def _auth_error(self, status: int, credentials: Credentials | None) -> ImagekitError:
        login = f"`docker login {self.registry}`"
        if status == 403:
            return ImagekitError(f"{self.subject} denied access (403){' to ' + credentials[0] if credentials else ''}: "
                                 "these credentials may not pull this repository.",
                                 "Ask for pull permission on the repository (for ECR: ecr:BatchGetImage and "
                                 "ecr:GetDownloadUrlForLayer in the repository or IAM policy).")
        if credentials is None:
            return ImagekitError(f"{self.subject} requires authentication (401) and no credentials for "
                                 f"{self.registry} were found in {docker_config_path()} or its credential helpers.",
                                 f"Log in with {login} (for ECR: `aws ecr get-login-password | docker login "
                                 "--username AWS --password-stdin HOST`), or set DOCKER_CONFIG to a config that has "
                                 "them.")
        return ImagekitError(f"{self.subject} rejected the credentials of user {credentials[0]!r} (401): a wrong or "
                             "expired password or token.", f"Log in again with {login} (ECR tokens expire after "
                             "12 hours).")

    # --- requests -----------------------------------------------------------------------------------
    def get(self, path: str, headers: dict[str, str], scope: str) -> Response:
        """GET /v2/PATH on the registry, authenticating on a 401 challenge, following redirects (bounded)."""
        for attempt in range(2):
            url = f"{self._scheme}://{self.host}/v2/{path}"  # the scheme may have fallen back to http
            sent = dict(headers)
            if self._authorization:
                sent["Authorization"] = self._authorization
            answer = self._follow(url, sent)
            if answer.status != 401:
                if answer.status == 403:
                    answer.body.close()
                    raise self._auth_error(403, self._lookup_credentials())
                return answer
            challenge = answer.headers.get("www-authenticate", "")
            answer.body.close()
            if attempt or not challenge:
                raise self._auth_error(401, self._lookup_credentials())
            self._authorize(challenge, scope)
        raise AssertionError("unreachable")

    def _follow(self, url: str, headers: dict[str, str]) -> Response:
        """Follow blob redirects (to a storage host: normal) without sending our Authorization elsewhere."""
        origin = urlsplit(url).netloc
        for _ in range(Limits.REGISTRY_REDIRECTS + 1):
            answer = self._request(url, headers)
            if answer.status not in (301, 302, 303, 307, 308):
                return answer
            answer.body.close()
            target = urljoin(url, answer.headers.get("location", ""))
            if urlsplit(target).scheme != "https" and not (urlsplit(target).scheme == "http"
                                                          and self._scheme == "http"):
                raise ImagekitError(f"{self.subject} redirected a download to {target[:200]!r}, which is not https.",
                                    "Refusing to download image content in the clear; tell the registry's operator.")
            url = target
            if urlsplit(target).netloc != origin:
                headers = {key: value for key, value in headers.items() if key != "Authorization"}
        raise LimitExceeded(self.subject, "the number of redirects of one download", "REGISTRY_REDIRECTS",
                            Limits.REGISTRY_REDIRECTS)

    def _request(self, url: str, headers: dict[str, str], context: ssl.SSLContext | None = None) -> Response:
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        host = parts.netloc
        try:
            if parts.scheme == "http":
                connection: http.client.HTTPConnection = http.client.HTTPConnection(host, timeout=REGISTRY_TIMEOUT_S)
            else:
                connection = http.client.HTTPSConnection(host, timeout=REGISTRY_TIMEOUT_S,
                                                         context=context or self._context_for(host))
            connection.request("GET", target, headers={"User-Agent": "imagekit", **headers})
            answer = connection.getresponse()
        except ssl.SSLCertVerificationError as error:
            raise ImagekitError(f"The TLS certificate of {host} is not trusted ({error.verify_message or error}), "
                                f"so imagekit will not read {self.where} over it.",
                                f"Give imagekit the registry's CA: put it in /etc/docker/certs.d/{host}/ca.crt "
                                "(where the Docker engine looks too), or point SSL_CERT_FILE at a CA bundle that "
                                "includes it.") from None
        except ssl.SSLError as error:
            if parts.scheme == "https" and host == self.host and is_loopback(host) and self._scheme == "https":
                self._scheme = "http"  # a plain-HTTP registry on this machine, which docker also allows
                return self._request(url.replace("https://", "http://", 1), headers)
            raise ImagekitError(f"TLS with {host} failed ({error.reason or error}).",
                                "Check that the registry serves HTTPS on that port.") from None
        except (OSError, http.client.HTTPException) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error) or "no answer"
            if isinstance(error, socket.gaierror):
                reason = f"cannot resolve the name: {reason}"
            raise ImagekitError(f"Cannot reach the registry {host} ({reason}).",
                                "Check the host and port in the image reference, the network and any proxy; "
                                "for an image in the local engine, check `docker images`.") from None
        return Response(answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer, url)

    def _context_for(self, host: str) -> ssl.SSLContext:
        return self._context if host == self.host else tls_context(host, self._ca_file)

    # --- documents and blobs ------------------------------------------------------------------------
    def manifest(self, reference: Reference, digest: str | None = None) -> tuple[bytes, dict[str, Any], str]:
        """(raw bytes, parsed JSON, sha256 digest) of a manifest or index, verified against *digest* (or the
        reference's) when given, else against the registry's Docker-Content-Digest."""
        wanted = digest or reference.reference
        accept = ", ".join((*INDEX_TYPES, *MANIFEST_TYPES))
        answer = self.get(f"{reference.repository}/manifests/{wanted}", {"Accept": accept},
                          f"repository:{reference.repository}:pull")
        if answer.status == 404:
            detail = _error_detail(answer)
            raise ImagekitError(f"{self.subject} has no image {reference.repository}:{wanted}{detail}.",
                                "Check the repository name and tag (or push the image first); the registry's "
                                "repository names are case-sensitive and lower-case.")
        if answer.status != 200:
            detail = _error_detail(answer)
            raise ImagekitError(f"{self.subject} answered {answer.status} for the manifest of "
                                f"{reference.repository}:{wanted}{detail}.", "Try again later; if it persists, "
                                "the registry is failing.")
        data = answer.read_small(Limits.JSON_BYTES, "a manifest")
        actual = "sha256:" + hashlib.sha256(data).hexdigest()
        expected = digest or reference.digest or answer.headers.get("docker-content-digest", "")
        if expected.startswith("sha256:") and expected != actual:
            raise ImagekitError(f"{self.subject}: the manifest {reference.repository}@{expected} does not match its "
                                f"digest (its bytes hash to {actual}); it was altered in transit or in storage.",
                                "Do not use this image; push it again from a source you trust.")
        from imagekit.image.sources import _json

        document = _json(self.where, f"manifest {wanted}", data)
        if not isinstance(document, dict):
            raise ImagekitError(f"{self.subject}: the manifest {wanted} is not a JSON object.",
                                "The registry returned something that is not an image manifest.")
        media = str(document.get("mediaType") or answer.headers.get("content-type", ""))
        if media.startswith(_SCHEMA1) or document.get("schemaVersion") == 1:
            raise ImagekitError(f"{self.subject}: {reference.repository}:{wanted} is a Docker schema 1 manifest, a "
                                "format registries stopped serving in 2019.", "Push the image again with a "
                                "current docker or buildx.")
        return data, document, actual

    def blob(self, reference: Reference, digest: str, size: int) -> IO[bytes]:
        """The blob's body as a stream of exactly *size* bytes (its descriptor's size); the reader verifies the
        digest."""
        answer = self.get(f"{reference.repository}/blobs/{digest}", {}, f"repository:{reference.repository}:pull")
        if answer.status != 200:
            detail = _error_detail(answer)
            raise ImagekitError(f"{self.subject} answered {answer.status} for blob {digest} of "
                                f"{reference.repository}{detail}.", "The image is incomplete in the registry; push "
                                "it again.")
        return _Exactly(answer.body, size, f"{self.where}: blob {digest}")


def _challenge_params(text: str) -> dict[str, str]:
    return {key.lower(): value for key, value in re.findall(r'(\w+)="([^"]*)"', text)}


def _error_detail(answer: Response) -> str:
    """`: CODE message` from a registry's JSON error body (bounded), or nothing."""
    try:
        document = json.loads(answer.read_small(Limits.REGISTRY_SMALL_BYTES, "an error answer"))
        errors = document.get("errors") or []
        return ": " + "; ".join(f"{e.get('code', '')} {e.get('message', '')}".strip() for e in errors[:3])
    except (ValueError, AttributeError, TypeError, ImagekitError, OSError):
        return ""


class _Exactly:
    """A response body cut at its declared size; ends early → damaged, so a lying server cannot feed us more."""

    def __init__(self, body: http.client.HTTPResponse, size: int, what: str) -> None:
        self._body, self._left, self._what = body, size, what

    def read(self, size: int = -1) -> bytes:
        want = self._left if size is None or size < 0 else min(size, self._left)
        chunks = []
        while want > 0:
            try:
                data = self._body.read(want)
            except (OSError, http.client.HTTPException) as error:
                raise ImagekitError(f"{self._what}: the download broke off ({error}).", "Try again.") from None
            if not data:
                raise ImagekitError(f"{self._what} ended {self._left:,} bytes before the size its manifest declares.",
                                    "The download broke off or the registry's copy is damaged; try again.")
            chunks.append(data)
            want -= len(data)
            self._left -= len(data)
        return b"".join(chunks)

    def close(self) -> None:
        self._body.close()

    def __enter__(self) -> "_Exactly":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
