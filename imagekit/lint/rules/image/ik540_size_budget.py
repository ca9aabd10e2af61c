"""IK540: the image is bigger than its size budget."""

from __future__ import annotations

from typing import Iterator

from imagekit.image.example import ImageExample
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.image._common import ALL_PROFILES, ImageContext, human

SHOWN_LAYERS = 3


def check(ctx: ImageContext) -> Iterator[Problem]:
    budget = ctx.options.get("size_budget")
    total = ctx.image.total_size
    if budget and total > int(budget):
        biggest = sorted(enumerate(ctx.image.layers), key=lambda item: -item[1].size)[:SHOWN_LAYERS]
        layers = ", ".join(f"layer {index + 1} {human(layer.size)}" for index, layer in biggest)
        yield Problem(f"The image's files take {human(total)}, over the budget of {human(int(budget))} "
                      f"(largest: {layers}).")


RULE = Rule(
    code="IK540",
    name="over-size-budget",
    severity=Severity.ERROR,
    profiles=ALL_PROFILES,
    target="image",
    summary="The image's files take more bytes than the configured size budget (option size_budget, bytes).",
    rationale="Every SageMaker instance pulls the whole image before the job or endpoint starts; size is start-up "
    "time and money, and it creeps one dependency at a time unless something fails the build.",
    fix="Move build tools to a builder stage, drop caches, trim dependencies, or raise the budget deliberately.",
    check=check,
    example_bad=ImageExample(files={"opt/model.bin": 5000}, options={"size_budget": 4000}),
    example_good=ImageExample(files={"opt/model.bin": 1000}, options={"size_budget": 4000}),
    options={"size_budget": None},
)
