"""IK532: a .git directory copied into the image."""

from __future__ import annotations

import re
from typing import Iterator

from imagekit import contract
from imagekit.image.example import Dir, ImageExample, under
from imagekit.image.fs import DIR
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.image._common import ALL_PROFILES, ImageContext, human, listing, paths_ending

GIT_END = re.compile(r"\.git$", re.MULTILINE)


def check(ctx: ImageContext) -> Iterator[Problem]:
    repos = ["/" + path for path in paths_ending(ctx.image, GIT_END)
             if ctx.image.entries[path].kind == DIR and (path == ".git" or path.endswith("/.git"))]
    if repos:
        sizes = [(repo, sum(e.size for _, e in ctx.image.walk(repo))) for repo in repos]
        yield Problem(f"Git metadata in the image ({human(sum(s for _, s in sizes))}): {listing(sizes)}.",
                      path=repos[0])


RULE = Rule(
    code="IK532",
    name="git-directory-in-image",
    severity=Severity.WARNING,
    profiles=ALL_PROFILES,
    target="image",
    summary="A .git directory was copied into the image.",
    rationale="It carries the whole history (sometimes with removed secrets) and weight nobody uses at run time.",
    fix="Add .git to .dockerignore.",
    check=check,
    example_bad=ImageExample(files={under(contract.CODE_DIR, ".git"): Dir(),
                                          under(contract.CODE_DIR, ".git/HEAD"): "ref: refs/heads/main\n"}),
    example_good=ImageExample(files={under(contract.CODE_DIR, ".gitignore"): "*.pyc\n"}),
)
