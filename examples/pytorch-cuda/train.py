"""Train pytorch-cuda: SageMaker runs this through the image's `train` with hyperparameters as --key value.

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
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR", "/opt/ml/model"))
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAINING", "/opt/ml/input/data/training"))
    args, _ = parser.parse_known_args()
    features, labels = load_rows(args.train)
    model_dir = Path(args.model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    import torch

    # The GPU when the instance has one (SM_NUM_GPUS > 0 on SageMaker); CPU otherwise, e.g. in a smoke run without GPUs.
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    print(f"training on {device} (torch {torch.__version__}, CUDA {torch.version.cuda}, "
          f"SM_NUM_GPUS={os.environ.get('SM_NUM_GPUS', '?')})")
    x, y = torch.tensor(features, device=device), torch.tensor(labels, device=device)
    model = torch.nn.Sequential(torch.nn.Linear(x.shape[1], 16), torch.nn.ReLU(), torch.nn.Linear(16, max(labels) + 1))
    model.to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(args.epochs):
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimiser.step()
    state = {name: tensor.cpu() for name, tensor in model.state_dict().items()}  # loadable with or without a GPU
    torch.save({"state": state, "inputs": x.shape[1], "classes": max(labels) + 1}, model_dir / "model.pt")
    print(f"trained on {len(labels)} rows, final loss {loss.item():.3f}")


if __name__ == "__main__":
    main()
