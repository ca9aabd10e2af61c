"""IK541: bytes that layers add and later layers overwrite or delete."""

from __future__ import annotations

from typing import Iterator

from imagekit.image.example import ImageExample
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.image._common import ALL_PROFILES, ImageContext, human


def check(ctx: ImageContext) -> Iterator[Problem]:
    wasted = ctx.image.wasted_size
    if wasted >= int(ctx.options["min_bytes"]):
        layers = ", ".join(f"layer {index + 1} {human(layer.wasted)}" for index, layer in enumerate(ctx.image.layers)
                           if layer.wasted)
        yield Problem(f"{human(wasted)} in the image are files that later layers overwrite or delete ({layers}); "
                      "they are still downloaded on every pull.")


RULE = Rule(
    code="IK541",
    name="wasted-bytes",
    severity=Severity.INFO,
    profiles=ALL_PROFILES,
    target="image",
    summary="Layers carry files that later layers overwrite or delete (still pulled, never used).",
    rationale="Deleting in a later RUN hides a file but does not shrink the image: the earlier layer keeps it.",
    fix="Delete in the same RUN that created the files, or build in a separate stage and COPY only the result.",
    check=check,
    example_bad=ImageExample(files={"opt/blob": 3000}, later={"opt/.wh.blob": ""}, options={"min_bytes": 1000}),
    example_good=ImageExample(files={"opt/blob": 3000}, options={"min_bytes": 1000}),
    options={"min_bytes": 10_000_000},
)
