"""One lint pipeline for Dockerfiles and built images: ``imagekit.lint.run(targets, options) -> LintRun``.

The CLI (and so the pre-commit hook, which runs it) and tests all go through `run`, so choosing the default
Dockerfile, finding each file's config, applying command-line overrides, reading standard input, opening images,
the ``--dockerfile`` cross-check and the exit decision live here once.

    >>> from imagekit.lint import LintOptions, Target, run
    >>> result = run(["Dockerfile", Target.image("model.tar")], LintOptions(fail_on="error"))
    >>> result.counts, result.worst, result.exit_code
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

from imagekit.errors import ImagekitError
from imagekit.lint.config import LintConfig, load_config, parse_fail_on
from imagekit.lint.core import Finding, Severity
from imagekit.lint.findings import TargetResult, fails, sort_key

DOCKERFILE = "dockerfile"
IMAGE = "image"
DEFAULT_DOCKERFILE = "Dockerfile"


@dataclass(frozen=True)
class Target:
    """One thing to lint: a Dockerfile path (``-`` is standard input) or an image (engine ref, `docker save`
    archive or OCI layout). A plain string or Path given to `run` is a Dockerfile."""

    ref: str
    kind: str = DOCKERFILE

    @classmethod
    def dockerfile(cls, path: str | Path) -> "Target":
        return cls(str(path), DOCKERFILE)

    @classmethod
    def image(cls, ref: str) -> "Target":
        return cls(str(ref), IMAGE)


@dataclass(frozen=True)
class LintOptions:
    """What one lint run is asked to do; every field has the meaning of the `imagekit lint` flag of that name."""

    config: str | Path | LintConfig | None = None  # None: each Dockerfile's nearest config file, images cwd's
    profile: str | None = None  # auto, train, serve or generic
    target: str | None = None  # the build stage that becomes the image (`docker build --target`)
    platform: str | None = None  # of a multi-platform image
    dockerfile: str | Path | None = None  # cross-check images against this Dockerfile
    ignore: tuple[str, ...] = ()
    severity: Mapping[str, str] = field(default_factory=dict)  # rule id -> level
    fail_on: str | None = None  # error, warning, info, style or none; None: the config's (default warning)

    def overrides(self) -> dict:
        """The settings LintConfig.with_overrides puts on top of every config file."""
        return {"ignore": tuple(self.ignore), "severity": dict(self.severity), "profile": self.profile,
                "fail_on": self.fail_on}


@dataclass
class LintRun:
    """The results of one run, per target in the order given; the report and the exit status come from here."""

    results: list[TargetResult]
    fail_on: Severity | None  # the threshold of the config found from the working directory (images, summary)

    @property
    def findings(self) -> list[Finding]:
        return sorted((f for result in self.results for f in result.findings), key=sort_key)

    @property
    def dockerfiles(self) -> int:
        return sum(result.kind == DOCKERFILE for result in self.results)

    @property
    def images(self) -> int:
        return sum(result.kind == IMAGE for result in self.results)

    @property
    def counts(self) -> dict[str, int]:
        """Findings per severity label, highest first, zeros included."""
        counts = Counter(f.severity for result in self.results for f in result.findings)
        return {severity.label: counts[severity] for severity in sorted(Severity, reverse=True)}

    @property
    def worst(self) -> Severity | None:
        return max((f.severity for result in self.results for f in result.findings), default=None)

    @property
    def unparseable(self) -> bool:
        """A Dockerfile BuildKit would refuse: exit status 2."""
        return any(result.unparseable for result in self.results)

    @property
    def failed(self) -> bool:
        """A target has a finding at or above its own config's fail-on (configs differ per directory)."""
        return any(result.failed for result in self.results)

    def fails(self, fail_on: Severity | str | None) -> bool:
        """The exit decision for another threshold (a Severity, a level name or "none"), ignoring the configs'."""
        threshold = parse_fail_on(fail_on) if isinstance(fail_on, str) else fail_on
        return fails((f for result in self.results for f in result.findings), threshold)

    @property
    def exit_code(self) -> int:
        """0 nothing reaches fail-on, 1 something does, 2 a Dockerfile could not be parsed."""
        return 2 if self.unparseable else 1 if self.failed else 0

    def source(self, file: str) -> list[str] | None:
        """A Dockerfile's lines as linted (standard input cannot be read twice), for the text report's caret."""
        return next((list(result.lines) for result in self.results if result.file == file and result.lines), None)


def run(targets: Iterable[str | Path | Target] = (), options: LintOptions | None = None) -> LintRun:
    """Lint *targets* (nothing: ./Dockerfile); bad input (missing file or image, broken config) is ImagekitError."""
    options = options or LintOptions()
    chosen = [item if isinstance(item, Target) else Target.dockerfile(item) for item in targets]
    images = [t for t in chosen if t.kind == IMAGE]
    unknown = sorted({t.kind for t in chosen} - {DOCKERFILE, IMAGE})
    if unknown:
        raise ValueError(f"unknown lint target kind(s) {unknown}")
    for flag, value in (("--platform", options.platform), ("--dockerfile", options.dockerfile),
                        *(("--image", t.ref) for t in images)):
        if value is not None and not str(value).strip():  # '' is no path: it would silently mean the current dir
            raise ImagekitError(f"{flag} needs a value.", f"Give {flag} a value, or leave it out.")
    for flag, value in (("--platform", options.platform), ("--dockerfile", options.dockerfile)):
        if value and not images:
            raise ImagekitError(f"{flag} applies to --image, and no --image was given.",
                                f"Add --image REF, or drop {flag}.")
    if not chosen:
        if not Path(DEFAULT_DOCKERFILE).is_file():
            raise ImagekitError(f"No Dockerfile given and there is no ./{DEFAULT_DOCKERFILE}.",
                                "Pass Dockerfile paths, or --image REF to check a built image.")
        chosen = [Target.dockerfile(DEFAULT_DOCKERFILE)]
    configs = _Configs(options)
    files = [t.ref for t in chosen if t.kind == DOCKERFILE]
    results = [_lint_dockerfile(path, configs.for_file(path), options, alone=len(files) == 1) for path in files]
    base = configs.base()
    cross_check = _cross_check(options.dockerfile) if images else None
    results += [_lint_image(t.ref, base, options, cross_check) for t in images]
    return LintRun(results, base.fail_on)


class _Configs:
    """The config of each Dockerfile (the explicit one, else the nearest file above it, loaded once per directory)
    and of images (found from the working directory), command-line overrides applied on top."""

    def __init__(self, options: LintOptions) -> None:
        self._options = options
        self._explicit = (options.config if isinstance(options.config, LintConfig) or options.config is None
                          else load_config(Path.cwd(), options.config))
        self._by_dir: dict[Path, LintConfig] = {}

    def for_file(self, path: str) -> LintConfig:
        if self._explicit is not None:
            return self._explicit.with_overrides(**self._options.overrides())
        directory = Path(path).parent.resolve()  # standard input ("-"): the working directory
        if directory not in self._by_dir:
            self._by_dir[directory] = load_config(directory)
        return self._by_dir[directory].with_overrides(**self._options.overrides())

    def base(self) -> LintConfig:
        return (self._explicit or load_config(Path.cwd())).with_overrides(**self._options.overrides())


def _lint_dockerfile(path: str, config: LintConfig, options: LintOptions, alone: bool = True) -> TargetResult:
    """One Dockerfile's result. Among several (pre-commit passes every matching path), one that cannot be read
    (a dangling symlink, a directory) is that file's IK200, so the others are still linted and reported."""
    from imagekit.dockerfile import SyntaxProblem, load, parse
    from imagekit.lint.dockerfile_lint import lint_dockerfile

    try:
        dockerfile = load(path, path)
    except ImagekitError as error:
        if alone:
            raise
        dockerfile = parse("", path)
        dockerfile.error = SyntaxProblem(f"{error.message} {error.hint}", 1)
    return lint_dockerfile(dockerfile, config=config, profile=options.profile, target=options.target)


def _cross_check(path: str | Path | None):
    """The --dockerfile to compare images with, parsed once for every image."""
    if path is None:
        return None
    from imagekit.dockerfile import load

    return load(path)


def _lint_image(ref: str, config: LintConfig, options: LintOptions, dockerfile) -> TargetResult:
    from imagekit.lint.image_lint import lint_image

    findings = lint_image(ref, config=config, platform=options.platform, dockerfile=dockerfile)
    return TargetResult(ref, findings, frozenset(), kind=IMAGE, fail_on=config.fail_on)
