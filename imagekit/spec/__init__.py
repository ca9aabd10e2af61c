"""The imagekit.yaml spec: load with positions, validate against the JSON Schema, build the typed model."""

from __future__ import annotations

from pathlib import Path

from imagekit.spec.loader import SPEC_FILE, find_spec, load_document, validate
from imagekit.spec.model import Spec, Train, build_spec

__all__ = ["SPEC_FILE", "Spec", "Train", "load_spec"]


def load_spec(path: str | Path | None = None, base: str | None = None) -> Spec:
    """Read, validate and default a spec; any problem raises ImagekitError naming file:line:col.

    *base* overrides the spec's ``base`` (validated by the same schema rule).
    """
    spec_path = find_spec(path)
    document = load_document(spec_path)
    if base is not None:
        document["base"] = base
    data = validate(document, spec_path)
    return build_spec(data, spec_path, document)
