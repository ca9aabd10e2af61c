"""Every string of a valid spec, mutated with newlines, $(...), backticks and quotes, is rejected by the
schema or renders inert: the same instructions and shell commands as the clean spec, and ENV/LABEL
values that read back exactly as written."""

from __future__ import annotations

import copy
from typing import Any, Iterator

import pytest

from generate.helpers import FULL_SPEC, dockerfile_for, write_project
from imagekit.dockerfile import parser
from imagekit.dockerfile.shell import split_commands
from imagekit.errors import ImagekitError

PAYLOADS = ("\nRUN touch /pwned", "\r\nUSER evil", "$(touch /pwned)", "`touch /pwned`", '"', "'", "\\",
            "; touch /pwned", "${PATH}", " && touch /pwned #")


def _strings(node: Any, path: tuple = ()) -> Iterator[tuple[tuple, str]]:
    """(path, kind) for every string value and mapping key; kind is "value" or "key"."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key), "key"
            yield from _strings(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, (*path, index))
    elif isinstance(node, str):
        yield path, "value"


def _mutate(spec: dict, path: tuple, kind: str, payload: str) -> tuple[dict, str]:
    mutated = copy.deepcopy(spec)
    parent = mutated
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if kind == "key":
        new_key = f"{last}{payload}"
        parent[new_key] = parent.pop(last)
        return mutated, new_key
    parent[last] = f"{parent[last]}{payload}"
    return mutated, parent[last]


def _shape(text: str) -> list[tuple]:
    """Instruction keywords with their flags and the programs every RUN executes."""
    shape = []
    for stage in parser.parse(text).stages:
        for instruction in stage.instructions:
            programs = tuple(c.argv[:1] for c in split_commands(instruction.text)) if instruction.keyword == "RUN" \
                else ()
            shape.append((instruction.keyword, tuple(sorted(instruction.flags)), programs,
                          instruction.is_exec_form))
    return shape


CASES = [(path, kind, payload) for path, kind in _strings(FULL_SPEC) for payload in PAYLOADS]


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    return _shape(dockerfile_for(write_project(tmp_path_factory.mktemp("clean"), FULL_SPEC)))


@pytest.mark.parametrize("path,kind,payload", CASES, ids=[f"{'.'.join(map(str, p))}-{k}-{i}"
                                                         for p, k, _ in CASES for i in [PAYLOADS.index(_)]])
def test_mutated_string_is_rejected_or_inert(path, kind, payload, baseline, tmp_path):
    spec, written = _mutate(FULL_SPEC, path, kind, payload)
    try:
        text = dockerfile_for(write_project(tmp_path, spec))
    except ImagekitError:
        return  # rejected with a clear error: fine
    assert "/pwned" not in text or _shape(text) == baseline
    assert _shape(text) == baseline, f"{'.'.join(map(str, path))} with {payload!r} changed the Dockerfile's shape"
    final = parser.parse(text).stages[-1]
    if path[0] in ("env", "labels") and len(path) == 2:
        values = final.env if path[0] == "env" else final.labels
        if kind == "value":
            assert values[path[1]] == written, "the value must read back exactly as written"
        else:
            assert values[written] == spec[path[0]][written]
