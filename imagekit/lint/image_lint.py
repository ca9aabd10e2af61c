"""The built-image linter: read the image once into an ImageFS, run every applicable image rule.

    >>> findings = lint_image("my-model:latest")                       # engine
    >>> findings = lint_image("model.tar", profiles={"serve"})         # docker save archive or OCI layout
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING, Iterable

from imagekit import contract
from imagekit.errors import ImagekitError
from imagekit.image import ImageFS, open_image
from imagekit.lint.config import LintConfig
from imagekit.lint.core import Finding, load_rules
from imagekit.lint.findings import capped, sort_key, to_findings
from imagekit.lint.rules.image._common import ImageContext

if TYPE_CHECKING:
    from imagekit.dockerfile import Dockerfile


def infer_profiles(image: ImageFS) -> frozenset[str]:
    """`--profile auto` for images: SageMaker evidence picks the modes the image can be started in.

    An ENTRYPOINT must handle both modes; without one, the modes whose program is on PATH; with SageMaker
    evidence but neither program, both (so the missing programs are reported).
    """
    labels = image.config.get("Labels") or {}
    env = image.env()
    evidence = (any(key.startswith(contract.CAPABILITY_LABEL_PREFIX) for key in labels)
                or any(key.startswith("SAGEMAKER_") for key in env)
                or any(str(directory).strip("/") in image.entries
                       for directory in (contract.ML_ROOT, contract.BYOC_PROGRAM_DIR))
                or f"{contract.SERVING_PORT}/tcp" in (image.config.get("ExposedPorts") or {}))
    on_path = {mode for mode in contract.MODES  # a dangling `serve` link still says "a serving image"
               if any(posixpath.join(directory, mode).strip("/") in image.entries for directory in image.search_path())}
    if image.config.get("Entrypoint") and (evidence or on_path):
        return frozenset(contract.MODES)
    if on_path:
        return frozenset(on_path)
    return frozenset(contract.MODES) if evidence else frozenset({"generic"})


def lint_image(ref: str, *, config: LintConfig | None = None, profiles: Iterable[str] | None = None,
               platform: str | None = None, dockerfile: str | Dockerfile | None = None) -> list[Finding]:
    """Findings for one image (engine ref, `docker save` archive or OCI layout); ImagekitError on bad input.

    *dockerfile* (a path or already parsed) is the file the image should have been built from, to cross-check.
    """
    config = config or LintConfig()
    image = open_image(ref, platform=platform)
    parsed = dockerfile
    if isinstance(dockerfile, str):
        from imagekit.dockerfile import load

        parsed = load(dockerfile)
    if parsed is not None and parsed.error is not None:  # the cross-check must not quietly vanish
        raise ImagekitError(f"--dockerfile {parsed.path}:{parsed.error.line}: {parsed.error.message}",
                            "Fix that Dockerfile (`imagekit lint` on it reports the same), or drop --dockerfile.")
    if profiles:
        active = frozenset(profiles)
    elif config.profile != "auto":
        active = frozenset({config.profile})
    else:
        active = infer_profiles(image)
    findings: list[Finding] = []
    for rule in load_rules("image").values():
        if rule.code in config.ignored or not rule.applies_to(active):
            continue
        ctx = ImageContext(image, active, config.options_for(rule), parsed)
        findings.extend(to_findings(rule, rule.check(ctx), file=ref, config=config))
    return capped(sorted(findings, key=sort_key))

