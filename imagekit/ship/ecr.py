"""Amazon ECR: parse and check a repository URI, make sure the repository exists, log in with boto3.

boto3 is an optional extra (``pip install 'imagekit[ecr]'``) imported only by the functions here that call AWS, so
parsing a URI and every other imagekit command work without it. The client follows boto3's standard credential
chain (environment, profile, SSO, instance or task role, web identity for CI's OIDC) and botocore's endpoint
settings, so ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_ECR`` point it at another endpoint (the tests use moto).
The login token goes to the engine with the push request and is never written to disk unless ``save_login`` asks.
"""

from __future__ import annotations

import base64
import json
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from imagekit.errors import ImagekitError
from imagekit.image.registry import docker_config_path

if TYPE_CHECKING:
    from botocore.client import BaseClient

Log = Callable[[str], None]

# Registry host suffix → the partition whose regions it serves (docs.aws.amazon.com/general/latest/gr/ecr.html).
PARTITIONS = {
    "amazonaws.com": "aws",  # commercial regions and GovCloud (us-gov-*)
    "amazonaws.com.cn": "aws-cn",
    "c2s.ic.gov": "aws-iso",
    "sc2s.sgov.gov": "aws-iso-b",
    "cloud.adc-e.uk": "aws-iso-e",
    "csp.hci.ic.gov": "aws-iso-f",
}
_REGION_PARTITION = (("cn-", "aws-cn"), ("us-isob-", "aws-iso-b"), ("us-iso-", "aws-iso"), ("eu-isoe-", "aws-iso-e"),
                     ("us-isof-", "aws-iso-f"))
_ECR_HOST = re.compile(r"(?P<account>[^.]+)\.dkr\.(?P<service>ecr|ecr-fips)\.(?P<region>[^.]+)\.(?P<suffix>.+)")
_ACCOUNT = re.compile(r"[0-9]{12}")
_REGION = re.compile(r"[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}")
# ECR's repository name pattern (CreateRepository API reference), 2 to 256 characters.
_REPOSITORY = re.compile(r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
REGISTRY_OVERRIDE_ENV = "IMAGEKIT_ECR_REGISTRY_OVERRIDE"
INSTALL_HINT = "Install the ECR extra: pip install 'imagekit[ecr]' (it adds boto3)."


@dataclass(frozen=True)
class EcrRegistry:
    """ACCOUNT.dkr.ecr.REGION.DOMAIN: one account's registry in one region, what a login is for."""

    account: str
    region: str
    host: str

    def __str__(self) -> str:
        return self.host


@dataclass(frozen=True)
class EcrUri(EcrRegistry):
    """ACCOUNT.dkr.ecr.REGION.DOMAIN/REPOSITORY:TAG, checked part by part."""

    repository: str
    tag: str

    def __str__(self) -> str:
        return f"{self.host}/{self.repository}:{self.tag}"


def looks_like_ecr(uri: str) -> bool:
    """Whether *uri* names an ECR registry host at all (then it must parse, or it is a typo worth reporting)."""
    return bool(re.match(r"[^/]*\.dkr\.ecr(?:-fips)?\.", uri))


def parse_registry(host: str, shown: str) -> EcrRegistry:
    """Check an ECR registry host (account, region, partition domain); errors quote *shown*, the whole input."""
    found = _ECR_HOST.fullmatch(host)
    if not found:
        raise ImagekitError(f"{shown!r} is not an Amazon ECR image URI.",
                            "The form is ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY:TAG, e.g. "
                            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/iris:1.0.")
    account, region, suffix = found["account"], found["region"], found["suffix"]
    if not _ACCOUNT.fullmatch(account):
        raise ImagekitError(f"{shown!r}: the account {account!r} is not a 12-digit AWS account id.",
                            "Copy the URI from the ECR console or `aws sts get-caller-identity --query Account`.")
    if suffix not in PARTITIONS:
        raise ImagekitError(f"{shown!r}: {suffix!r} is not an ECR domain.",
                            f"Use one of: {', '.join(PARTITIONS)} (China regions use amazonaws.com.cn).")
    if not _REGION.fullmatch(region):
        raise ImagekitError(f"{shown!r}: {region!r} is not an AWS region name.",
                            "Regions look like eu-west-1, us-gov-west-1 or cn-north-1.")
    expected = next((partition for prefix, partition in _REGION_PARTITION if region.startswith(prefix)), "aws")
    if PARTITIONS[suffix] != expected:
        right = next(s for s, p in PARTITIONS.items() if p == expected)
        raise ImagekitError(f"{shown!r}: region {region} is in the {expected} partition, whose registries are "
                            f"under {right}, not {suffix}.", f"Use {account}.dkr.ecr.{region}.{right}/...")
    return EcrRegistry(account, region, host)


def parse(uri: str) -> EcrUri:
    """Check an ECR image URI and split it; a mistake in any part is one ImagekitError naming that part."""
    host, slash, path = uri.partition("/")
    registry = parse_registry(host if slash else "", uri)
    if "@" in path:
        raise ImagekitError(f"{uri!r}: a push target names a tag, not a digest.",
                            "Push to REPOSITORY:TAG; the digest is printed after the push.")
    repository, _, tag = path.rpartition(":") if ":" in path else (path, "", "latest")
    if not (2 <= len(repository) <= 256 and _REPOSITORY.fullmatch(repository)):
        raise ImagekitError(f"{uri!r}: {repository!r} is not a valid ECR repository name.",
                            "Use 2-256 lower-case letters, digits and . _ - separators, with / between "
                            "namespaces, e.g. team/iris.")
    if not _TAG.fullmatch(tag):
        raise ImagekitError(f"{uri!r}: {tag!r} is not a valid image tag.",
                            "A tag is up to 128 letters, digits, _ . and - and does not start with . or -.")
    return EcrUri(registry.account, registry.region, registry.host, repository, tag)


def registry_override(host: str) -> str | None:
    """The registry to push to in place of ECR's *host*, from IMAGEKIT_ECR_REGISTRY_OVERRIDE.

    A test seam, honoured only when set: ``ECR_HOST=HOST:PORT[,...]`` sends the image to another registry (the
    tests' local one) while the control-plane calls still go to the ECR endpoint (moto). Never set it in real use.
    """
    pairs = [pair for pair in os.environ.get(REGISTRY_OVERRIDE_ENV, "").split(",") if pair.strip()]
    if pairs and not (os.environ.get("AWS_ENDPOINT_URL_ECR") or os.environ.get("AWS_ENDPOINT_URL")):
        raise ImagekitError(f"{REGISTRY_OVERRIDE_ENV} is set but AWS_ENDPOINT_URL(_ECR) is not, so the ECR calls "
                            "would go to real AWS while the image goes elsewhere.",
                            f"It is a test seam: point AWS_ENDPOINT_URL at the fake ECR endpoint, or unset "
                            f"{REGISTRY_OVERRIDE_ENV}.")
    for pair in pairs:
        source, eq, target = pair.strip().partition("=")
        if not eq or not target:
            raise ImagekitError(f"{REGISTRY_OVERRIDE_ENV}={os.environ[REGISTRY_OVERRIDE_ENV]!r} is not "
                                "ECR_HOST=HOST:PORT[,...].", f"Fix or unset {REGISTRY_OVERRIDE_ENV} (a test seam).")
        if source == host:
            return target
    return None


def client(uri: EcrRegistry) -> "BaseClient":
    """An ECR client for the registry's region through boto3's standard credential chain."""
    try:
        import boto3
    except ImportError:
        raise ImagekitError(f"Logging in to Amazon ECR ({uri.host}) needs boto3, which is not installed.",
                            INSTALL_HINT) from None
    return boto3.session.Session(region_name=uri.region).client("ecr")


def _call(uri: EcrRegistry, what: str, call: Callable[[], Any], missing: str = "") -> Any:
    """Run one ECR API call; the error code *missing* is None, credential, permission and network failures
    become one paragraph."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, PartialCredentialsError

    try:
        return call()
    except (NoCredentialsError, PartialCredentialsError):
        raise ImagekitError(f"No AWS credentials were found for {what} on {uri.host}.",
                            "Set AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, run `aws sso login`, or in CI "
                            "assume a role with aws-actions/configure-aws-credentials (docs/ship.md).") from None
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        text = error.response.get("Error", {}).get("Message", str(error))
        if code == missing:
            return None
        if code in ("ExpiredTokenException", "ExpiredToken", "RequestExpired"):
            hint = "The AWS session has expired: refresh it (`aws sso login`, re-assume the role) and push again."
        elif code in ("AccessDeniedException", "AccessDenied", "UnrecognizedClientException",
                      "InvalidSignatureException"):
            hint = (f"The credentials in use may not call ecr:{what.split()[0]} on account {uri.account} in "
                    f"{uri.region}: check the IAM policy (and the repository policy), or the account and region "
                    "in the URI.")
        else:
            hint = "Check the account, region and repository in the URI, and the IAM policy of the credentials."
        raise ImagekitError(f"Amazon ECR refused {what} for {uri} ({code}: {text}).", hint) from None
    except BotoCoreError as error:
        raise ImagekitError(f"Amazon ECR could not be reached for {what} ({error}).",
                            "Check the network, the region in the URI and AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_ECR if "
                            "set.") from None


def ensure_repository(ecr: "BaseClient", uri: EcrUri, scan_on_push: bool, immutable_tags: bool, log: Log) -> dict:
    """The repository's description, creating it (with the given scan and tag settings) when it is missing."""
    found = _call(uri, "DescribeRepositories", lambda: ecr.describe_repositories(
        registryId=uri.account, repositoryNames=[uri.repository]), missing="RepositoryNotFoundException")
    if found is not None:
        return found["repositories"][0]
    created = _call(uri, "CreateRepository", lambda: ecr.create_repository(
        registryId=uri.account, repositoryName=uri.repository,
        imageTagMutability="IMMUTABLE" if immutable_tags else "MUTABLE",
        imageScanningConfiguration={"scanOnPush": scan_on_push}))["repository"]
    log(f"created ECR repository {uri.repository} in {uri.account}/{uri.region} (scan on push: "
        f"{'on' if scan_on_push else 'off'}, tags {'immutable' if immutable_tags else 'mutable'})")
    return created


def check_tag_free(ecr: "BaseClient", uri: EcrUri, repository: dict) -> None:
    """An immutable repository refuses a tag it already holds, but only after every layer is uploaded: say so
    before the upload."""
    if repository.get("imageTagMutability", "MUTABLE") != "IMMUTABLE":
        return
    images = _call(uri, "DescribeImages", lambda: ecr.describe_images(
        registryId=uri.account, repositoryName=uri.repository, imageIds=[{"imageTag": uri.tag}]),
        missing="ImageNotFoundException")
    if images is None or not images.get("imageDetails"):
        return
    digest = images["imageDetails"][0]["imageDigest"]
    raise ImagekitError(f"{uri} already exists ({digest}) and repository {uri.repository} has immutable tags, so "
                        "ECR would refuse the push.", "Push under a new tag (e.g. the commit SHA).")


@dataclass(frozen=True)
class Login:
    """Registry credentials from GetAuthorizationToken, valid until *expires*."""

    username: str
    password: str
    expires: datetime | None

    def auth_config(self, server: str) -> dict[str, str]:
        return {"username": self.username, "password": self.password, "serveraddress": server}


def login(ecr: "BaseClient", uri: EcrRegistry) -> Login:
    """The registry login for the registry's account (held in memory only)."""
    answer = _call(uri, "GetAuthorizationToken", lambda: ecr.get_authorization_token(registryIds=[uri.account]))
    data = answer["authorizationData"][0]
    username, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    return Login(username, password, data.get("expiresAt"))


def save_login(credentials: Login, host: str) -> Path:
    """Store the login for *host* in the docker config, as `docker login` would (readable by the owner only)."""
    path = docker_config_path()
    try:
        config = json.loads(path.read_text()) if path.exists() else {}
        if not isinstance(config, dict) or not isinstance(config.setdefault("auths", {}), dict):
            raise ValueError("it is not a docker config object")
        auth = base64.b64encode(f"{credentials.username}:{credentials.password}".encode()).decode()
        config["auths"][host] = {"auth": auth}
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".imagekit-tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(descriptor, 0o600)  # also when an old temporary file had other permissions
        with os.fdopen(descriptor, "w") as out:
            out.write(json.dumps(config, indent=2) + "\n")
        temporary.replace(path)
    except (OSError, ValueError) as error:
        raise ImagekitError(f"Cannot save the ECR login to {path}: {error}.",
                            "Fix the file (it must be JSON) or push without --save-login.") from None
    return path


def registry_credentials(host: str) -> tuple[str, str]:
    """(user, password) for reading from the ECR registry *host*: the credentials provider of
    imagekit.image.registry (`imagekit lint --image` straight from ECR) asks this before the docker config."""
    registry = parse_registry(host, host)
    credentials = login(client(registry), registry)
    return credentials.username, credentials.password
