"""Train xgboost-cpu: SageMaker runs this through the image's `train` with hyperparameters as --key value.

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
    parser.add_argument("--num-round", type=int, default=20)
    parser.add_argument("--max-depth", type=int, default=3)
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR", "/opt/ml/model"))
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAINING", "/opt/ml/input/data/training"))
    args, _ = parser.parse_known_args()
    features, labels = load_rows(args.train)
    model_dir = Path(args.model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    import xgboost

    data = xgboost.DMatrix(features, label=labels)
    params = {"objective": "multi:softmax", "num_class": max(labels) + 1, "max_depth": args.max_depth}
    booster = xgboost.train(params, data, num_boost_round=args.num_round)
    booster.save_model(str(model_dir / "model.json"))
    print(f"trained on {len(labels)} rows")


if __name__ == "__main__":
    main()
