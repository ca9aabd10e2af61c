"""Batch transform's data processing: InputFilter, JoinSource and OutputFilter, as the platform defines them
("Associate Prediction Results with Input Records" in the SageMaker developer guide).

A CSV record is read as a JSON array of its columns, a JSON (or JSON Lines) record as its JSON value. The
JSONPath subset the platform supports: ``$``, ``.name``, ``['name', 'other']``, ``[2]``, ``[0,2]``, ``[1:]``,
``[1:3]``, ``[0,5:]``, ``*`` and ``[*]``. Selecting several columns (a union, a slice, a wildcard) gives an array,
several keys of an object give an object with those keys; an index outside the record is an error, as it is on
the platform. Joining appends the prediction's columns to a CSV row, and adds it to a JSON object as
``SageMakerOutput`` (an input that is not an object becomes ``{"SageMakerInput": ..., "SageMakerOutput": ...}``).
JSON is written compactly (``json.dumps`` with ``,`` and ``:`` separators, keys in their order).
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from typing import Any

from imagekit.errors import ImagekitError

ROOT = "$"
JOIN_SOURCES = ("None", "Input")
MAX_EXPRESSION_CHARS = 63  # DataProcessing.InputFilter/OutputFilter length limit
OUTPUT_KEY, INPUT_KEY = "SageMakerOutput", "SageMakerInput"
CSV_TYPE = "text/csv"
EXAMPLES = "Supported: $, $.features, $['id','score'], $[0], $[0,2], $[1:], $[0,5:], $[*]."
_STEP = re.compile(r"\.(?P<name>[A-Za-z_][\w-]*|\*)|\[(?P<inside>[^\]]*)\]")
_SLICE = re.compile(r"^(-?\d*):(-?\d*)$")


class RecordError(Exception):
    """A record the filter or the join cannot process (the platform would fail the job)."""


@dataclass(frozen=True)
class Step:
    """One path step: object keys (*names*), array positions (*items*: ints and (start, stop) slices), or all."""

    names: tuple[str, ...] = ()
    items: tuple[int | tuple[int | None, int | None], ...] = ()
    wildcard: bool = False

    @property
    def single(self) -> bool:
        """Whether it selects one value (itself), not a collection."""
        return not self.wildcard and len(self.names) + len(self.items) == 1 and not \
            (self.items and isinstance(self.items[0], tuple))


def parse(expression: str, option: str) -> tuple[Step, ...]:
    """The steps of a JSONPath; ImagekitError naming *option* when it is outside the supported subset."""
    def refuse(why: str) -> ImagekitError:
        return ImagekitError(f"{option} {expression!r} is not a JSONPath batch transform accepts: {why}.", EXAMPLES)

    if len(expression) > MAX_EXPRESSION_CHARS:
        raise refuse(f"it is {len(expression)} characters, the limit is {MAX_EXPRESSION_CHARS}")
    if not expression.startswith(ROOT):
        raise refuse("it must start with $")
    steps, position = [], 1
    while position < len(expression):
        match = _STEP.match(expression, position)
        if not match:
            raise refuse(f"cannot read it from character {position + 1} ({expression[position:]!r})")
        steps.append(_step(match, refuse))
        position = match.end()
    return tuple(steps)


def _step(match: re.Match, refuse) -> Step:
    if match.group("name"):
        name = match.group("name")
        return Step(wildcard=True) if name == "*" else Step(names=(name,))
    inside = match.group("inside").strip()
    if inside == "*":
        return Step(wildcard=True)
    parts = [part.strip() for part in inside.split(",")]
    if all(len(part) >= 2 and part[0] == part[-1] and part[0] in "'\"" for part in parts):
        return Step(names=tuple(part[1:-1] for part in parts))
    items: list[int | tuple[int | None, int | None]] = []
    for part in parts:
        if re.fullmatch(r"-?\d+", part):
            items.append(int(part))
        elif (bounds := _SLICE.match(part)) and part != ":":
            items.append(tuple(int(b) if b else None for b in bounds.groups()))
        else:
            raise refuse(f"[{inside}] is neither indexes, slices nor quoted names")
    return Step(items=tuple(items))


def select(value: Any, steps: tuple[Step, ...]) -> Any:
    """*value* filtered by *steps* (RecordError when a step does not fit the value)."""
    for step in steps:
        value = _apply(value, step)
    return value


def _apply(value: Any, step: Step) -> Any:
    if step.wildcard:
        if isinstance(value, dict):
            return list(value.values())
        if isinstance(value, list):
            return value
        raise RecordError(f"[*] applied to {type(value).__name__}, not an array or object")
    if step.names:
        if not isinstance(value, dict):
            raise RecordError(f"key {step.names[0]!r} asked of {type(value).__name__}, not an object")
        missing = [name for name in step.names if name not in value]
        if missing:
            raise RecordError(f"no key {missing[0]!r} (keys: {', '.join(map(str, value)) or 'none'})")
        return value[step.names[0]] if step.single else {name: value[name] for name in step.names}
    if not isinstance(value, list):
        raise RecordError(f"index asked of {type(value).__name__}, not an array")
    picked = []
    for item in step.items:
        if isinstance(item, tuple):
            picked.extend(value[slice(*item)])
        elif -len(value) <= item < len(value):
            picked.append(value[item])
        else:
            raise RecordError(f"index {item} is outside the record's {len(value)} column(s)")
    return picked[0] if step.single else picked


def decode(text: str, content_type: str) -> Any:
    """A record as the filters see it: a CSV row as its columns, anything else as JSON."""
    if _is_csv(content_type):
        rows = list(csv.reader(io.StringIO(text)))
        return rows[0] if rows else []
    try:
        return json.loads(text)
    except ValueError as error:
        raise RecordError(f"not JSON ({error})") from None


def encode(value: Any, content_type: str) -> str:
    """A filtered or joined record written back in its content type (no line end)."""
    if _is_csv(content_type):
        out = io.StringIO()
        csv.writer(out, lineterminator="").writerow(value if isinstance(value, list) else [value])
        return out.getvalue()
    return json.dumps(value, separators=(",", ":"))


def join(source: Any, prediction: Any, content_type: str) -> Any:
    """JoinSource=Input: the input record with its prediction."""
    if _is_csv(content_type):
        return list(source) + (prediction if isinstance(prediction, list) else [prediction])
    if isinstance(source, dict):
        return {**source, OUTPUT_KEY: prediction}
    return {INPUT_KEY: source, OUTPUT_KEY: prediction}


def _is_csv(content_type: str | None) -> bool:
    return (content_type or "").split(";")[0].strip().lower() == CSV_TYPE


@dataclass(frozen=True)
class DataProcessing:
    """One job's InputFilter, JoinSource and OutputFilter; *active* when any of them changes the data."""

    input_filter: str = ROOT
    join_source: str = "None"
    output_filter: str = ROOT

    def __post_init__(self) -> None:
        if self.join_source not in JOIN_SOURCES:
            raise ImagekitError(f"--join-source {self.join_source!r} is not one of {', '.join(JOIN_SOURCES)}.",
                                "Input appends each prediction to its input record; None (the default) does not.")
        object.__setattr__(self, "_input_steps", parse(self.input_filter, "--input-filter"))
        object.__setattr__(self, "_output_steps", parse(self.output_filter, "--output-filter"))

    @property
    def active(self) -> bool:
        return self.input_filter != ROOT or self.output_filter != ROOT or self.join_source != "None"

    def model_input(self, line: str, content_type: str) -> str:
        """What is sent for one input line (without its line end)."""
        if self.input_filter == ROOT:
            return line
        return encode(select(decode(line, content_type), self._input_steps), content_type)

    def output_line(self, line: str, answer: str, content_type: str, accept: str) -> str:
        """What is written for one input line and the answer's line for it (without a line end)."""
        if self.join_source == "None" and self.output_filter == ROOT:
            return answer
        prediction = decode(answer, accept)
        joined = join(decode(line, content_type), prediction, content_type) if self.join_source == "Input" \
            else prediction
        kind = content_type if self.join_source == "Input" else accept
        return encode(select(joined, self._output_steps), kind)
