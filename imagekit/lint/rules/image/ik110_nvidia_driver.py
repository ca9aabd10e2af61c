"""IK110 (formerly IK533), the image implementation: NVIDIA driver libraries in the image's files, however they
got there (a driver package, COPY, the base image); CUDA's link-time stubs and compat libraries are not the driver.

Name, severity, docs and examples are the Dockerfile rule's: one check, one id, whichever of the two is linted.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Iterator

from imagekit import contract
from imagekit.image.example import ImageExample
from imagekit.image.fs import FILE, SYMLINK
from imagekit.lint.core import Problem
from imagekit.lint.rules.dockerfile import ik110_nvidia_driver as dockerfile_rule
from imagekit.lint.rules.image._common import ImageContext, listing, paths_ending

DRIVER_END = re.compile(r"/(?:%s)[^/\n]*$" % "|".join(map(re.escape, contract.NVIDIA_DRIVER_LIBRARY_PREFIXES)),
                        re.MULTILINE)


def check(ctx: ImageContext) -> Iterator[Problem]:
    entries = ctx.image.entries
    found = [("/" + path, entries[path].size) for path in paths_ending(ctx.image, DRIVER_END)
             if "/lib" in path and entries[path].kind in (FILE, SYMLINK) and dockerfile_rule.is_driver_library(path)]
    if found:
        yield Problem(f"NVIDIA driver libraries in the image: {listing(found)}.", path=found[0][0])


RULE = replace(dockerfile_rule.RULE, target="image", check=check,
               example_bad=ImageExample(files={"usr/lib/x86_64-linux-gnu/libcuda.so.535.104.05": 100}),
               example_good=ImageExample(files={"usr/local/cuda/lib64/stubs/libcuda.so": 100,
                                                "usr/local/cuda-12.4/compat/libcuda.so.550.54.15": 100}))
