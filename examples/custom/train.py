"""Train custom: SageMaker runs this through the image's `train` with hyperparameters as --key value.

Reads every CSV of the `training` channel (label in the first column) and writes the model to
SM_MODEL_DIR, which SageMaker uploads as model.tar.gz and `serve` hands to inference.model_fn.
"""

import argparse
import csv
import os
from pathlib import Path


def load_rows(channel_dir):
    files = sorted(Path(channel_dir).glob("*.csv"))
    if not files:
        raise SystemExit(f"no CSV files in {channel_dir}: pass a `training` channel")
    rows = [row for path in files for row in csv.reader(path.open()) if row]
    labels = [int(float(row[0])) for row in rows]
    features = [[float(value) for value in row[1:]] for row in rows]
    return features, labels


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR", "/opt/ml/model"))
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAINING", "/opt/ml/input/data/training"))
    args, _ = parser.parse_known_args()
    features, labels = load_rows(args.train)
    model_dir = Path(args.model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    import json

    # No framework: a nearest-centroid classifier in plain Python; replace with your own.
    centroids = {}
    for label in sorted(set(labels)):
        members = [row for row, row_label in zip(features, labels) if row_label == label]
        centroids[label] = [sum(column) / len(members) for column in zip(*members)]
    (model_dir / "model.json").write_text(json.dumps(centroids))
    print(f"trained on {len(labels)} rows, {len(centroids)} classes")


if __name__ == "__main__":
    main()
