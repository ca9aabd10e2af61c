"""IK530: credential files left in the image's layers."""

from __future__ import annotations

import re
from typing import Iterator

from imagekit.image.example import ImageExample
from imagekit.image.fs import FILE
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.image._common import ALL_PROFILES, ImageContext, listing, paths_ending

SECRET_PATH = re.compile(r"(^|/)(\.aws/credentials|\.ssh/id_(rsa|dsa|ecdsa|ed25519)|\.netrc|\.env|\.git-credentials|"
                         r"\.docker/config\.json|\.cache/huggingface/token|\.huggingface/token|\.pypirc)$")
SECRET_NAMES = frozenset({"credentials", "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", ".netrc", ".env",
                          ".git-credentials", "config.json", "token", ".pypirc"})  # SECRET_PATH's last components
PRIVATE_KEY = b"PRIVATE KEY-----"
# The test suites Python packages and Python itself ship (gevent/tests/server.key, future/backports/test/*.pem,
# lib/python3.11/test/keycert.pem): published fixtures, identical in every install, not anyone's credentials.
PUBLIC_TEST_FIXTURE = re.compile(r"(?:^|/)(?:(?:site|dist)-packages/(?:[^/]+/)*tests?|lib/python\d(?:\.\d+)?/test)/")


SECRET_NAME_END = re.compile("(?:%s)$" % "|".join(map(re.escape, sorted(SECRET_NAMES))), re.MULTILINE)


def check(ctx: ImageContext) -> Iterator[Problem]:
    entries = ctx.image.entries
    named = {path for path in paths_ending(ctx.image, SECRET_NAME_END)
             if path[path.rfind("/") + 1:] in SECRET_NAMES and SECRET_PATH.search(path)}
    keys = {path for path, entry in entries.items() if entry.head and PRIVATE_KEY in entry.head}
    found = sorted(("/" + path, entries[path].size) for path in named | keys
                   if entries[path].kind == FILE and not PUBLIC_TEST_FIXTURE.search(path))
    if found:
        yield Problem(f"Credential files in the image: {listing(found)}.", path=found[0][0])


RULE = Rule(
    code="IK530",
    name="secret-file-in-image",
    severity=Severity.ERROR,
    profiles=ALL_PROFILES,
    target="image",
    summary="The image contains credential files: AWS credentials, SSH or PEM private keys, .env, .netrc, HF tokens.",
    rationale="Every layer is readable by anyone who can pull the image; a file deleted in a later layer is "
    "still in the earlier one. IK306 is a different check on Dockerfiles: credential values written into ENV, "
    "LABEL, ARG and RUN, where this rule finds credential files in any layer. Exempt are the test suites of "
    "Python packages and of Python itself: files in a `test` or `tests` directory below `site-packages` or "
    "`dist-packages` (gevent/tests/server.key, which the training toolkit's gevent installs; "
    "future/backports/test/keycert.pem, which multi-model-server's future installs) or in `lib/pythonX.Y/test/`. "
    "Those keys are published with the package and the same in every install; a key anywhere else (a home "
    "directory, /opt/program, /etc, a package's own non-test directory) is reported.",
    fix="Keep them out of the build context (.dockerignore) and use RUN --mount=type=secret at build time; "
    "rotate what leaked.",
    check=check,
    example_bad=ImageExample(files={"root/.aws/credentials": "[default]\naws_secret_access_key = x\n"}),
    example_good=ImageExample(files={
        "root/.aws/config": "[default]\nregion = eu-west-1\n",
        "usr/local/lib/python3.11/site-packages/gevent/tests/server.key":
            "-----BEGIN PRIVATE KEY-----\npublic test fixture\n-----END PRIVATE KEY-----\n"}),
)
