"""Nearest-centroid training spread over MPI ranks: each rank sums its share of the rows, one allreduce adds
the shares up, rank 0 writes the model. Run by `train` under mpirun (`distribution: mpi`).

--fail-rank N makes rank N fail, to see how a failing rank is reported.
"""

import argparse
import csv
import json
import os
from pathlib import Path

from mpi4py import MPI


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fail-rank", type=int, default=-1)
    args, _ = parser.parse_known_args()
    comm = MPI.COMM_WORLD
    rank, world = comm.Get_rank(), comm.Get_size()
    if rank == args.fail_rank:
        raise SystemExit(f"rank {rank} was told to fail (--fail-rank {rank})")
    channel = Path(os.environ.get("SM_CHANNEL_TRAINING", "/opt/ml/input/data/training"))
    rows = [row for path in sorted(channel.glob("*.csv")) for row in csv.reader(path.open()) if row]
    sums = {}  # label -> [count, feature sums...] over this rank's rows
    for row in rows[rank::world]:
        label, features = str(int(float(row[0]))), [float(value) for value in row[1:]]
        totals = sums.setdefault(label, [0.0] * (len(features) + 1))
        totals[0] += 1
        for index, value in enumerate(features, start=1):
            totals[index] += value
    everything = comm.allreduce(sums, op=MPI.Op.Create(merge, commute=True))
    if rank == 0:
        model = {label: [value / totals[0] for value in totals[1:]] for label, totals in everything.items()}
        counted = int(sum(totals[0] for totals in everything.values()))
        model_dir = Path(os.environ.get("SM_MODEL_DIR", "/opt/ml/model"))
        (model_dir / "model.json").write_text(json.dumps(model))
        (model_dir / "mpi.json").write_text(json.dumps({"world": world, "rows": counted, "hosts": sorted(
            set(comm.gather(MPI.Get_processor_name())))}))
        print(f"{world} ranks trained on {counted} rows")
    else:
        comm.gather(MPI.Get_processor_name())


def merge(left, right, _datatype=None):
    """allreduce's operator: add two ranks' per-label sums."""
    merged = {label: list(totals) for label, totals in left.items()}
    for label, totals in right.items():
        mine = merged.setdefault(label, [0.0] * len(totals))
        merged[label] = [a + b for a, b in zip(mine, totals)]
    return merged


if __name__ == "__main__":
    main()
