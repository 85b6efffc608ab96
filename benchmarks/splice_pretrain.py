"""Does pretraining on many more splice sites (another collection's 42-bp windows) help a per-base model on dm6?

Usage::

    python benchmarks/splice_pretrain.py                         # fold 0, 6,000 sites per class
    python benchmarks/splice_pretrain.py --sites 19000 --pretrain-epochs 2 --fold 2

The second stage (``benchmarks/splice_second_stage.py``) showed that a motif
model trained on KorfLab splice42's ~19,700 fly sites per class adds to a
per-base CNN trained on dm6_small's ~355 sites per class. splice42 cannot ship
with bioseq, but a user can pretrain on any site collection and fine-tune with
``bioseq train --init``. This measures that path:

1. A per-base dataset of splice42's D. melanogaster windows: each 42-bp window
   (true donors, true acceptors, and their GT/AG decoys n1-n4; every window
   found in dm6_small on either strand left out, so no test site is seen) sits
   in the middle of an input of N; the labelled bases are the 42, with the
   site's G labelled for a true site and nothing for a decoy. ``--sites`` true
   windows per class and ``--decoys`` times as many decoys; a tenth validates.
2. ``per_base_cnn`` (context 400, 32 channels, the per-base defaults) trained
   on it for ``--pretrain-epochs``.
3. ``bioseq train --init`` of that run on fold ``--fold`` of the gene-disjoint
   5-fold dm6_small split, ``--epochs`` epochs, against the same training from
   scratch (``--scratch RUN`` reuses a finished run instead); top-k accuracy
   and AUPRC on the fold's test genes, before and after site pairing, and CPU
   minutes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import splice_local_baseline as local  # noqa: E402
import splice_per_base as per_base  # noqa: E402

from bioseq.alphabet import N  # noqa: E402
from bioseq.datasets.per_base import SITE_CLASSES, PerBaseOptions, build_per_base  # noqa: E402
from bioseq.datasets.per_base_store import per_base_writer  # noqa: E402
from bioseq.io.gff import read_annotation  # noqa: E402
from bioseq.io.interval import Interval  # noqa: E402
from bioseq.io.reference import Reference  # noqa: E402
from bioseq.train.config import TrainConfig  # noqa: E402
from bioseq.train.fit import train  # noqa: E402

CONTEXT = 400


def site_windows(seen: set[bytes], sites: int, decoys: float, rng: np.random.Generator):
    """``(codes (n, 42) uint8, labels (n, 42) uint8)``: true windows of both classes and their decoys, shuffled."""
    codes, labels = [], []
    for value, name in ((1, "acceptor"), (2, "donor")):
        true = local.read_windows(local.SPLICE42 / f"dm.{local.FILES[name]}.fa.gz")
        fake = np.concatenate(
            [local.read_windows(local.SPLICE42 / f"dm.n{i}{local.FILES[name]}.fa.gz") for i in (1, 2, 3, 4)]
        )
        true, fake = ([w for w in part if w.tobytes() not in seen] for part in (true, fake))
        true = np.array(true)[rng.permutation(len(true))[:sites]]
        fake = np.array(fake)[rng.permutation(len(fake))[: round(decoys * len(true))]]
        site = np.zeros((len(true), local.WIDTH), np.uint8)
        site[:, local.SITE[name]] = value
        codes += [true, fake]
        labels += [site, np.zeros((len(fake), local.WIDTH), np.uint8)]
    codes, labels = np.concatenate(codes), np.concatenate(labels)
    order = rng.permutation(len(codes))
    return codes[order], labels[order]


def write_pretraining(path: Path, codes: np.ndarray, labels: np.ndarray) -> dict:
    """The windows as a per-base dataset: each in the middle of ``CONTEXT`` N bases; 80/10/10 train/valid/test."""
    n = len(codes)
    sizes = {"train": n - 2 * (n // 10), "valid": n // 10, "test": n // 10}
    padded = np.full((n, local.WIDTH + CONTEXT), N, np.uint8)
    padded[:, CONTEXT // 2 : CONTEXT // 2 + local.WIDTH] = np.minimum(codes, N)
    with per_base_writer(path, classes=SITE_CLASSES, context=CONTEXT, window=local.WIDTH, sizes=sizes) as writer:
        at = 0
        for split, size in sizes.items():
            rows = slice(at, at + size)
            regions = [
                Interval("splice42", 1000 * i, 1000 * i + local.WIDTH + CONTEXT, "+", "site")
                for i in range(at, at + size)
            ]
            writer.append(split, padded[rows], labels[rows], regions)
            at += size
    return sizes


def run(dataset: Path, out: Path, epochs: int, init: Path | None = None) -> tuple[dict, float, Path]:
    options = (
        {} if init is not None else {"model": "per_base_cnn", "model_options": {"context": CONTEXT, "channels": 32}}
    )
    config = TrainConfig(train=dataset, out=out, epochs=epochs, seed=0, init=init, **options)
    cpu = time.process_time()
    result = train(config)
    return result.metrics, (time.process_time() - cpu) / 60, result.bundle_dir


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fold", type=int, default=0)
    parser.add_argument("--sites", type=int, default=6000, help="true windows per class (splice42 dm has ~19,700)")
    parser.add_argument("--decoys", type=float, default=2.0, help="decoy windows per true window")
    parser.add_argument("--pretrain-epochs", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--work", default="/tmp/bioseq-pretrain")
    parser.add_argument("--scratch", help="a finished from-scratch run on the same fold, instead of training one")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    if not (per_base.GENOME / "dm6.small.fa").is_file() or not local.SPLICE42.is_dir():
        print(f"skipped: {per_base.GENOME} or {local.SPLICE42} is absent", file=sys.stderr)
        return 0
    torch.set_num_threads(args.threads)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    reference = Reference(per_base.GENOME / "dm6.small.fa")
    annotation = read_annotation(per_base.GENOME / "dm6.small.gtf")
    report: dict = {"settings": vars(args)}
    codes, labels = site_windows(local.genome_windows(reference), args.sites, args.decoys, np.random.default_rng(0))
    report["pretraining_sizes"] = write_pretraining(work / "pretrain-ds", codes, labels)
    metrics, minutes, pretrained = run(work / "pretrain-ds", work / "pretrain-run", args.pretrain_epochs)
    report["pretraining"] = {**per_base.figures(metrics), "cpu_minutes": minutes}
    print(f"pretraining ({report['pretraining_sizes']}): {json.dumps(report['pretraining'])}", flush=True)
    fold_ds = work / f"fold{args.fold}-ds"
    if not fold_ds.is_dir():
        build_per_base(reference, annotation, fold_ds, options=PerBaseOptions(folds=5, fold=args.fold))
    metrics, minutes, _ = run(fold_ds, work / f"fold{args.fold}-init", args.epochs, init=pretrained)
    report["fine_tuned"] = {**per_base.figures(metrics), "cpu_minutes": minutes}
    print(f"fold {args.fold}, pretrained then fine-tuned: {json.dumps(report['fine_tuned'])}", flush=True)
    if args.scratch:
        metrics = json.loads((Path(args.scratch) / "metrics.json").read_text())
        report["scratch"] = per_base.figures(metrics)
    else:
        metrics, minutes, _ = run(fold_ds, work / f"fold{args.fold}-scratch", args.epochs)
        report["scratch"] = {**per_base.figures(metrics), "cpu_minutes": minutes}
    print(f"fold {args.fold}, from scratch: {json.dumps(report['scratch'])}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
