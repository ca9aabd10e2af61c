"""Serving handler for pytorch-cuda (the sagemaker-inference-toolkit interface the image's `serve` calls).

Requests are CSV rows of features or JSON {"instances": [[...], ...]}; responses are predicted labels.
"""

import csv
import io
import json
from pathlib import Path


def model_fn(model_dir):
    """The model on this worker's GPU when there is one, else on CPU (a smoke run without GPUs)."""
    import torch

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    saved = torch.load(Path(model_dir) / "model.pt", map_location=device, weights_only=True)
    model = torch.nn.Sequential(torch.nn.Linear(saved["inputs"], 16), torch.nn.ReLU(),
                                torch.nn.Linear(16, saved["classes"]))
    model.load_state_dict(saved["state"])
    return model.to(device).eval()


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
    import torch

    with torch.no_grad():
        device = next(model.parameters()).device
        return model(torch.tensor(rows, dtype=torch.float32, device=device)).argmax(dim=1).tolist()


def output_fn(predictions, accept):
    if accept.startswith("text/csv"):
        return "\n".join(str(p) for p in predictions) + "\n", "text/csv"
    return json.dumps({"predictions": predictions}), "application/json"
