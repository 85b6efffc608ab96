"""Training and inference throughput of each model on the CPU, and the data loader's share.

Usage::

    python benchmarks/bench_train.py            # L = 70 and 200, 30 training steps per model
    python benchmarks/bench_train.py --quick    # fewer steps, for a smoke test

For every registered model at its default size: sequences/s of a full
training step (loader fetch, reverse-complement augmentation, forward,
loss, backward, AdamW step) through bioseq's own loader and
``ClassifierModule``; sequences/s of inference (``Bundle``-style batched
``inference_mode`` forward); and the fraction of the training wall time spent
waiting for the loader (target: under 5 %). Threads: torch's default
(all cores) unless ``--threads`` is given.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch

from bioseq.models.registry import build_model, model_names
from bioseq.train.data import SequenceSet, make_loader
from bioseq.train.module import ClassifierModule

BATCH = 128


def _data(n: int, length: int, seed: int = 0) -> SequenceSet:
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 4, (n, length), dtype=np.uint8)
    labels = rng.integers(0, 2, n).astype(np.int64)
    return SequenceSet(codes, labels, tuple(f"s{i}" for i in range(n)), ("neg", "pos"), "binary")


def train_throughput(name: str, length: int, steps: int) -> dict:
    torch.manual_seed(0)
    model = build_model(name, {"n_outputs": 1})
    module = ClassifierModule(model, task="binary", classes=("neg", "pos"))
    module.log = lambda *args, **kwargs: None  # no Trainer here: skip Lightning's logging
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loader = make_loader(_data(BATCH * (steps + 2), length), batch_size=BATCH, shuffle=True)
    batches = iter(loader)
    module.training_step(next(batches), 0).backward()  # warm-up
    load = compute = 0.0
    for step in range(steps):
        start = time.perf_counter()
        batch = next(batches)
        fetched = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        module.training_step(batch, step).backward()
        optimizer.step()
        done = time.perf_counter()
        load += fetched - start
        compute += done - fetched
    total = load + compute
    return {
        "train_seq_s": steps * BATCH / total,
        "loader_fraction": load / total,
        "parameters": sum(p.numel() for p in model.parameters()),
    }


@torch.inference_mode()
def inference_throughput(name: str, length: int, batches: int) -> float:
    torch.manual_seed(0)
    model = build_model(name, {"n_outputs": 1}).eval()
    x = torch.from_numpy(_data(BATCH, length).codes)
    model(x)
    start = time.perf_counter()
    for _ in range(batches):
        model(x)
    return batches * BATCH / (time.perf_counter() - start)


def run(quick: bool = False, lengths=(70, 200)) -> list[dict]:
    steps = 5 if quick else 30
    rows = []
    for length in lengths:
        for name in model_names():
            train = train_throughput(name, length, steps)
            rows.append(
                {"model": name, "length": length, **train, "infer_seq_s": inference_throughput(name, length, steps)}
            )
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {BATCH}")
    print("model\tL\tparameters\ttrain seq/s\tinference seq/s\tloader share of train time")
    for row in run(args.quick):
        print(
            f"{row['model']}\t{row['length']}\t{row['parameters']:,}\t{row['train_seq_s']:,.0f}\t"
            f"{row['infer_seq_s']:,.0f}\t{100 * row['loader_fraction']:.2f} %"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
