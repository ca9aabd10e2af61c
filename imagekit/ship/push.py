"""`imagekit push`: lint the image, then push it to Amazon ECR or any registry and print its digest reference.

What reaches the registry was checked: by default the image lint runs first and error-level findings stop the push.
ECR gets its repository created when missing and a login from GetAuthorizationToken (ecr.py); any other registry
gets the credentials the docker CLI would use (docker config, credential helpers), resolved fresh on every push.
The digest is read back from the registry after the push, so the printed ``REPO@sha256:...`` is what the registry
serves, the form to give a SageMaker Estimator or Model.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Any, Callable

from imagekit.errors import ImagekitError
from imagekit.image.registry import ENGINE_CERTS_DIRS, docker_config_path
from imagekit.references import parse_reference
from imagekit.ship import ecr
from imagekit.sizes import human_size

Log = Callable[[str], None]
PROGRESS_STEP = 25  # a layer's "Pushing" line is repeated each time it passes another 25 %


def _stderr(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


@dataclass(frozen=True)
class PushOptions:
    """What `imagekit push` is asked to do besides where; each field is the flag of that name."""

    verify: bool = True  # lint the image first and refuse error-level findings (--no-verify: False)
    scan_on_push: bool = False  # ECR: a repository created here scans each pushed image
    immutable_tags: bool = False  # ECR: a repository created here refuses to overwrite a tag
    save_login: bool = False  # ECR: also store the login in the docker config, as `docker login` would


@dataclass(frozen=True)
class PushResult:
    uri: str  # REGISTRY/REPO:TAG as given
    repository: str  # REGISTRY/REPO
    digest: str  # sha256:... of the manifest the registry serves

    @property
    def pinned(self) -> str:
        """REGISTRY/REPO@sha256:..., the immutable reference to deploy."""
        return f"{self.repository}@{self.digest}"


@dataclass(frozen=True)
class _Destination:
    uri: str  # as the user gave it (tag made explicit)
    ref: str  # what the engine pushes: the same, or the override registry's for an ECR URI under test
    host: str  # the registry host the engine talks to
    ecr: ecr.EcrUri | None


def default_image(spec_path=None) -> str:
    """The tag `imagekit build` gives the project's image: name:tag from the spec."""
    from imagekit.spec import load_spec

    spec = load_spec(spec_path)
    return f"{spec.name}:{spec.tag}"


def destination(uri: str) -> _Destination:
    """Check a push target: an ECR URI part by part, anything else as a tagged image reference."""
    if ecr.looks_like_ecr(uri):
        parsed = ecr.parse(uri)
        host = ecr.registry_override(parsed.host) or parsed.host
        return _Destination(str(parsed), f"{host}/{parsed.repository}:{parsed.tag}", host, parsed)
    try:
        reference = parse_reference(uri)
    except ImagekitError:
        reference = None
    if reference is None or reference.digest:
        raise ImagekitError(f"--to {uri!r} is not a REGISTRY/REPOSITORY:TAG to push to.",
                            "Use lower-case repository components and an optional :tag (no @digest), e.g. "
                            "registry.example.com:5000/team/iris:1.0 or an ECR URI.")
    full = uri if ":" in uri.rsplit("/", 1)[-1] else f"{uri}:latest"
    return _Destination(full, full, reference.registry, None)


def push(image: str | None, to: str, options: PushOptions = PushOptions(), log: Log = _stderr,
         spec_path=None) -> PushResult:
    """Push *image* (default: the project's built image) to *to* and return the digest the registry serves."""
    from imagekit import engine

    target = destination(to)  # a bad URI is reported before anything slow happens
    image = image or default_image(spec_path)
    engine.connect()
    pushed_id = engine.require_image(image)["Id"]  # tagged and linted by id: a rebuild meanwhile cannot swap it
    if options.verify:
        verify(image, pushed_id, log)
    else:
        log(f"lint: skipped (--no-verify): {image} is pushed unchecked")
    auth = _ecr_auth(target, options, log) if target.ecr else _engine_auth(target.host, log)
    repository, _, tag = target.ref.rpartition(":")
    held = engine.inspect_image(target.ref)  # the engine normalises names: docker.io/me/x:1 is me/x:1
    engine.tag_image(pushed_id, repository, tag)
    try:
        log(f"push: {image} → {target.uri}" + (f" (registry override: {target.host})" if target.ref != target.uri
                                                else ""))
        streamed = _stream_push(target, auth, log)
        served = _read_back(target, auth, streamed)
    finally:
        _put_tag_back(target.ref, pushed_id, held)
    result = PushResult(target.uri, target.uri.rpartition(":")[0], served)
    log(f"pushed {target.uri} ({served})")
    return result


def _put_tag_back(ref: str, pushed_id: str, held: dict[str, Any] | None) -> None:
    """Leave the engine's names as the push found them: *ref* off the pushed image (with the digest reference the
    push recorded, as `docker rmi` drops it) while the image has another name (untagging its last name would
    delete it), and back on the image that *held* it before."""
    from imagekit import engine

    if held is not None and held["Id"] == pushed_id:
        return
    current = engine.inspect_image(pushed_id)
    if current is not None and len(current.get("RepoTags") or []) > 1:
        engine.untag_image(ref)
    if held is not None:
        repository, _, tag = ref.rpartition(":")
        engine.tag_image(held["Id"], repository, tag)


def verify(image: str, image_id: str, log: Log) -> None:
    """`imagekit lint --image IMAGE` with the working directory's config; error-level findings stop the push.
    *image_id* is what is linted: the image IMAGE named when the push began, the one that gets pushed."""
    from imagekit.lint import Target, run
    from imagekit.lint.report import render_run

    result = _named(run([Target.image(image_id)]), image, image_id)
    summary = ", ".join(f"{count} {label}" for label, count in result.counts.items() if count) or "no findings"
    if result.fails("error"):
        log(render_run(result, "text").rstrip())
        raise ImagekitError(f"imagekit lint --image {image} found error-level findings ({summary}), so it was not "
                            "pushed.", "Fix them (the report is above) and build again, or push anyway with "
                            "--no-verify.", exit_code=1)
    log(f"lint: {image}: {summary}; nothing at error level, pushing (--no-verify skips this check)")


def _named(result, image: str, image_id: str):
    """*result* (a LintRun of *image_id*) with its findings naming the image as the user did, and which one it was:
    `iris:latest (sha256:0123456789ab…)`."""
    from dataclasses import replace

    given_an_id = image_id.removeprefix("sha256:").startswith(image.removeprefix("sha256:"))
    name = image if given_an_id else f"{image} ({image_id[:len('sha256:') + 12]}…)"
    return replace(result, results=[replace(target, file=name, findings=[replace(f, file=name)
                                                                          for f in target.findings])
                                    for target in result.results])


def _ecr_auth(target: _Destination, options: PushOptions, log: Log) -> dict[str, str]:
    uri = target.ecr
    assert uri is not None
    client = ecr.client(uri)
    repository = ecr.ensure_repository(client, uri, options.scan_on_push, options.immutable_tags, log)
    ecr.check_tag_free(client, uri, repository)
    credentials = ecr.login(client, uri)
    expiry = f", valid until {credentials.expires:%Y-%m-%d %H:%M %Z}" if credentials.expires else ""
    log(f"login: ECR token for {uri.account} in {uri.region} from GetAuthorizationToken{expiry} (kept in memory)")
    if options.save_login:
        log(f"login: saved for {uri.host} in {ecr.save_login(credentials, uri.host)} (as `docker login` would)")
    return credentials.auth_config(target.host)


def _engine_auth(host: str, log: Log) -> dict[str, str]:
    """The credentials the docker CLI would send to *host*: its config file's entry or credential helper."""
    import warnings

    from docker import auth
    from docker.credentials.errors import StoreError
    from docker.errors import DockerException

    path = docker_config_path()
    try:
        with warnings.catch_warnings():  # the SDK also warns about a missing helper: the error below says it
            warnings.simplefilter("ignore")
            found = auth.load_config(str(path) if path.exists() else None).resolve_authconfig(host)
    except (DockerException, StoreError) as error:
        raise ImagekitError(f"The docker credential helper for {host} failed: {error}.",
                            f"Check credHelpers/credsStore in {path} and that the helper is on PATH.") from None
    if found:
        log(f"login: credentials for {host} from {path}")
    else:
        log(f"login: none for {host} in {path}: pushing anonymously (`docker login {host}` adds them)")
    return found or {}  # {}: anonymous, said explicitly (None would make the SDK look the config up again)


class _Progress:
    """One line per layer and state change (Preparing, Waiting, Pushing n %, Pushed, Layer already exists)."""

    def __init__(self, log: Log) -> None:
        self.log, self.seen = log, {}

    def __call__(self, chunk: dict[str, Any]) -> None:
        layer, status = chunk.get("id"), chunk.get("status", "")
        if not layer or not status:
            return
        detail = chunk.get("progressDetail") or {}
        step = 0
        if status == "Pushing" and detail.get("total"):
            step = min(100, detail.get("current", 0) * 100 // detail["total"]) // PROGRESS_STEP * PROGRESS_STEP
        if self.seen.get(layer) == (status, step):
            return
        self.seen[layer] = (status, step)
        size = f" {step} % of {human_size(detail['total'])}" if status == "Pushing" and detail.get("total") else ""
        self.log(f"  {layer}  {status}{size}")


_DIGEST_LINE = re.compile(r"digest: (sha256:[0-9a-f]{64})")


def _stream_push(target: _Destination, auth: dict[str, str], log: Log) -> str:
    """Push, reporting per-layer progress; the manifest digest the engine reports, or ImagekitError."""
    from docker.errors import APIError

    from imagekit import engine

    progress, digest = _Progress(log), ""
    try:
        for chunk in engine.push_image(target.ref, auth):
            if "error" in chunk:
                message = (chunk.get("errorDetail") or {}).get("message") or chunk["error"]
                raise push_failure(message, target, credentials_sent=bool(auth))
            progress(chunk)
            found = _DIGEST_LINE.search(chunk.get("status", ""))
            digest = (chunk.get("aux") or {}).get("Digest") or (found.group(1) if found else digest)
    except APIError as error:
        raise push_failure(str(error.explanation or error), target, credentials_sent=bool(auth)) from None
    if not digest:
        raise ImagekitError(f"The engine finished pushing {target.uri} without reporting a digest.",
                            "Check the engine log; push again.", exit_code=1)
    return digest


def _read_back(target: _Destination, auth: dict[str, str], streamed: str) -> str:
    """The digest the registry serves for the pushed tag; it must be the one the push reported."""
    from docker.errors import APIError

    from imagekit import engine

    try:
        served = engine.registry_digest(target.ref, auth)
    except APIError as error:
        raise push_failure(str(error.explanation or error), target, credentials_sent=bool(auth)) from None
    if served != streamed:
        raise ImagekitError(f"{target.uri} was pushed as {streamed}, but the registry now serves {served}.",
                            "Something else pushed the same tag meanwhile: push under a unique tag (e.g. the commit "
                            "SHA).", exit_code=1)
    return served


def push_failure(message: str, target: _Destination, credentials_sent: bool) -> ImagekitError:
    """The engine's push error as one paragraph: which of the usual causes it is, and what to do."""
    text = message.lower()
    host, uri = target.host, target.uri
    ca_file = ENGINE_CERTS_DIRS[0] / host / "ca.crt"  # where the engine looks for a registry's CA
    login = ("run `imagekit push` again (it logs in to ECR itself) and check the AWS credentials in use"
             if target.ecr else f"`docker login {host}`, or add a credential helper to {docker_config_path()}")
    if "expired" in text:
        what, hint = "the registry login has expired", f"Log in again: {login}."
    elif "x509" in text or "certificate" in text or "tls:" in text:
        what = "the registry's TLS certificate could not be verified"
        hint = (f"Give the engine the CA that signed it as {ca_file} (no restart needed), or add the CA to the "
                "system's trust store and restart the engine.")
    elif "server gave http response" in text:
        what, hint = "the registry speaks plain HTTP", (
            f"Serve it over TLS (CA in {ca_file}), or list {host} in the engine's "
            "insecure-registries (/etc/docker/daemon.json) and restart it.")
    elif any(word in text for word in ("connection refused", "no such host", "i/o timeout", "network is unreachable",
                                       "dial tcp", "no route to host", "connection reset")):
        what, hint = f"the registry {host} could not be reached", (
            "Check the host name and port in the URI, that the registry is running, and the engine's network "
            "and proxy settings.")
    elif "immutable" in text or "tag invalid" in text:
        what, hint = "the repository does not allow overwriting a tag", "Push under a new tag (e.g. the commit SHA)."
    elif "not authorized to perform" in text or "policy" in text:
        what = "a repository or IAM policy forbids it"
        hint = ("Allow the credentials in use ecr:InitiateLayerUpload, ecr:UploadLayerPart, ecr:CompleteLayerUpload, "
                "ecr:BatchCheckLayerAvailability and ecr:PutImage on the repository (IAM and repository policy).")
    elif "no basic auth credentials" in text or ("unauthorized" in text and not credentials_sent):
        what, hint = f"no credentials for {host} were sent", f"Log in: {login}."
    elif "unauthorized" in text or "authentication required" in text:
        what = f"the registry rejected the credentials for {host}"
        hint = f"Check the user name and password (or token): {login}."
    elif "denied" in text or "forbidden" in text:
        what, hint = f"the registry denied access to {uri.rpartition(':')[0]}", (
            "Check that the repository exists and that the account you logged in with may push to it.")
    elif "name unknown" in text or "does not exist" in text:
        what, hint = "the repository does not exist in the registry", "Create it (ECR repositories are created " \
            "by imagekit push), or check the repository name."
    else:
        what, hint = "the registry refused it", "Check the engine log and the registry's."
    return ImagekitError(f"Push of {uri} failed: {what} ({message.strip()}).", hint)
