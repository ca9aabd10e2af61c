"""Serving the MPI-trained centroids: CSV rows of features in, the nearest centroid's label out."""

import csv
import io
import json
from pathlib import Path


def model_fn(model_dir):
    return json.loads((Path(model_dir) / "model.json").read_text())


def input_fn(body, content_type):
    if not content_type.startswith("text/csv"):
        raise ValueError(f"unsupported content type {content_type}: send text/csv")
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    return [[float(value) for value in row] for row in csv.reader(io.StringIO(text)) if row]


def predict_fn(rows, centroids):
    def distance(row, label):
        return sum((a - b) ** 2 for a, b in zip(row, centroids[label]))

    return [min(centroids, key=lambda label: distance(row, label)) for row in rows]


def output_fn(labels, accept):
    return "\n".join(labels) + "\n", "text/csv"
