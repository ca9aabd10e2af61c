"""IK106 (formerly IK511), the image implementation: files baked into a directory SageMaker mounts over at run
time, however they got there (COPY, RUN, a base image).

Name, severity, docs and examples are the Dockerfile rule's: one check, one id, whichever of the two is linted.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterator

from imagekit import contract
from imagekit.image.example import ImageExample, under
from imagekit.lint.core import Problem
from imagekit.lint.rules.dockerfile import ik106_file_in_mounted_dir as dockerfile_rule
from imagekit.lint.rules.image._common import ImageContext, files_under, human, listing


def check(ctx: ImageContext) -> Iterator[Problem]:
    for mounted in contract.MOUNTED_DIRS:
        files = [(path, entry) for path, entry in files_under(ctx.image, (str(mounted),)) if entry.kind != "dir"]
        if files:
            size = sum(entry.size for _, entry in files)
            yield Problem(f"{len(files)} file(s), {human(size)}, baked into {mounted}, which SageMaker mounts over "
                          f"at run time: {listing([(p, e.size) for p, e in files])}.", path=str(mounted))


RULE = replace(dockerfile_rule.RULE, target="image", check=check,
               example_bad=ImageExample(files={under(contract.MODEL_DIR, "model.pkl"): 10}),
               example_good=ImageExample(files={under(contract.CODE_DIR, "inference.py"): "import json\n"}))
