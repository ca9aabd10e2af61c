"""Serving handler for sklearn-cpu (the sagemaker-inference-toolkit interface the image's `serve` calls).

Requests are CSV rows of features or JSON {"instances": [[...], ...]}; responses are predicted labels.
"""

import csv
import io
import json
from pathlib import Path


def model_fn(model_dir):
    import joblib

    return joblib.load(Path(model_dir) / "model.joblib")


def input_fn(body, content_type):
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    if content_type.startswith("text/csv"):
        return [[float(value) for value in row] for row in csv.reader(io.StringIO(text)) if row]
    if content_type.startswith("application/json"):
        data = json.loads(text)
        return data.get("instances", []) if isinstance(data, dict) else data
    raise ValueError(f"unsupported content type {content_type}: send text/csv or application/json")


def predict_fn(rows, model):
    if not rows:
        return []
    return [int(label) for label in model.predict(rows)]


def output_fn(predictions, accept):
    if accept.startswith("text/csv"):
        return "\n".join(str(p) for p in predictions) + "\n", "text/csv"
    return json.dumps({"predictions": predictions}), "application/json"
