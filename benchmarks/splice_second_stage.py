"""What the second stage adds to a per-base splice model: site pairing (bioseq's), and a motif prior (not shipped).

Usage::

    python benchmarks/splice_second_stage.py                       # train the 5 fold models, then stack
    python benchmarks/splice_second_stage.py --runs DIR            # reuse DIR/fold{i}-run/bundle where present
    python benchmarks/splice_second_stage.py --folds 0 1 --json out.json

Stage 1 is the per-base CNN of ``benchmarks/splice_per_base.py`` trained on
each fold of the gene-disjoint 5-fold split of dm6_small
(``PerBaseOptions(folds=5, fold=i)``, the default training settings; a fold
whose bundle is not under ``--runs`` is trained there, dataset and all). Each
fold's model predicts the tiles of its validation and test genes, joined into
runs of positions in transcript orientation
(:func:`bioseq.models.site_pairing.stitch_tiles`); neither split was trained
on, and the stage-1 figures equal those ``bioseq train`` reports.

Stage 2 is :mod:`bioseq.models.site_pairing` (partners on the exon and intron
sides, competing sites nearby; a logistic regression per class on
standardised features). Rows, each against stage 1 on the same bases (top-k
accuracy with k = true sites, and AUPRC, per class):

- ``pairing (valid)``: :meth:`SitePairing.fit` on fold i's validation genes,
  as ``bioseq train`` does;
- ``pairing (oof)``: the same logistic regression fitted on the test genes of
  the other folds (their own stage-1 models' predictions: every feature is out
  of fold), applied to fold i; what more held-out genes would give;
- ``+ motif (valid)``, ``+ motif (oof)``: one more feature, the 42-bp
  weight-array model of ``benchmarks/splice_local_baseline.py`` at the
  position (trained on KorfLab splice42's fly sites and decoys, every window
  found in dm6_small left out). splice42 may not be shipped, so this row only
  says how much a motif model trained on many more sites would add.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))

import splice_local_baseline as local  # noqa: E402
import splice_per_base as per_base  # noqa: E402

from bioseq.alphabet import COMPLEMENT, A, G, T  # noqa: E402
from bioseq.bundle import load_bundle  # noqa: E402
from bioseq.datasets.per_base import PerBaseOptions  # noqa: E402
from bioseq.datasets.per_base_store import open_per_base  # noqa: E402
from bioseq.io.gff import read_annotation  # noqa: E402
from bioseq.io.reference import Reference  # noqa: E402
from bioseq.models.site_pairing import PAIRS, SitePairing, pairing_features, tile_runs  # noqa: E402


def runs_of(bundle, dataset, split: str) -> list[dict]:
    """The split's tiles predicted and joined into runs (:func:`tile_runs`): proba, labels and where each lies."""
    part = dataset.splits[split]
    crop = dataset.context // 2 - bundle.flank
    codes = np.ascontiguousarray(np.asarray(part.codes)[:, crop : part.codes.shape[1] - crop])
    proba, labels = bundle.predict_proba(codes), np.asarray(part.labels)
    return [
        {"chrom": chrom, "start": start, "end": end, "strand": strand,
         "proba": np.concatenate(proba[order]), "labels": np.concatenate(labels[order])}
        for (chrom, start, end, strand), order in tile_runs(part.regions, labels.shape[1])
    ]  # fmt: skip


def motif_track(models: dict, reference, run: dict, site: str) -> np.ndarray:
    """The motif model's score at each GT (donor) or AG (acceptor) of a run, transcript orientation; else -30."""
    codes = np.minimum(reference.fetch_codes(run["chrom"]), 4).astype(np.uint8)
    lo, hi = max(run["start"] - local.WIDTH, 0), min(run["end"] + local.WIDTH, len(codes))
    seq, offset = codes[lo:hi], run["start"] - lo
    if run["strand"] == "-":
        seq, offset = COMPLEMENT[seq[::-1]], hi - run["end"]
    at = np.arange(run["end"] - run["start"]) + offset
    if site == "donor":
        hit = (seq[at] == G) & (seq[np.minimum(at + 1, len(seq) - 1)] == T)
    else:
        hit = (seq[np.maximum(at - 1, 0)] == A) & (seq[at] == G)
    start = at - local.SITE[site]
    hit &= (start >= 0) & (start + local.WIDTH <= len(seq))
    scores = np.full(at.size, -30.0, np.float32)
    rows = np.nonzero(hit)[0]
    if rows.size:
        windows = seq[start[rows][:, None] + np.arange(local.WIDTH)]
        scores[rows] = models[site].decision_function(local.features(windows))
    return np.maximum(scores, -15.0)


def table(runs: list[dict], classes, site: str, motifs: dict | None, reference) -> tuple[np.ndarray, np.ndarray]:
    """Stage-2 features (plus the motif column with ``motifs``) and the site mask of every position of ``runs``."""
    x, y = [], []
    for run in runs:
        columns = pairing_features(run["proba"], classes=classes, site=site)
        if motifs:
            columns = np.column_stack([columns, motif_track(motifs, reference, run, site)])
        x.append(columns)
        y.append(run["labels"] == classes.index(site))
    return np.concatenate(x), np.concatenate(y)


def figures(scores: np.ndarray, hit: np.ndarray) -> dict:
    k = int(hit.sum())
    best = np.argsort(-scores, kind="stable")[:k]
    return {"topk": float(hit[best].mean()), "auprc": float(average_precision_score(hit, scores)), "sites": k}


def regression(x: np.ndarray, y: np.ndarray):
    """The logistic regression of :meth:`SitePairing.fit` (standardised features, C = 0.1)."""
    return make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=5000)).fit(x, y)


def fold_run(fold: int, runs: Path, reference, annotation, args) -> tuple[Path, Path]:
    """The fold's dataset and bundle under ``runs``, trained first when absent."""
    dataset, bundle = runs / f"fold{fold}-ds", runs / f"fold{fold}-run" / "bundle"
    if not bundle.is_dir():
        options = PerBaseOptions(window=400, context=args.context, folds=5, fold=fold)
        first, _, bundle = per_base.train_twice(reference, annotation, options, runs, f"fold{fold}", args)
        print(f"fold {fold}: stage 1 trained in {first['minutes']:.1f} CPU-min", flush=True)
    return dataset, bundle


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--runs", default="/tmp/bioseq-second-stage", help="where fold models are kept or trained")
    parser.add_argument("--context", type=int, default=400)
    parser.add_argument("--no-motif", dest="motif", action="store_false", help="leave the splice42 motif rows out")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", help="write every figure to this JSON file")
    args = parser.parse_args(argv)
    if not (per_base.GENOME / "dm6.small.fa").is_file() or (args.motif and not local.SPLICE42.is_dir()):
        print(f"skipped: {per_base.GENOME} or {local.SPLICE42} is absent", file=sys.stderr)
        return 0
    torch.set_num_threads(args.threads)
    # the training settings of splice_per_base.py's defaults
    args.model, args.channels, args.epochs, args.seed, args.hard = "per_base_cnn", 32, 8, 0, 0.0
    reference = Reference(per_base.GENOME / "dm6.small.fa")
    annotation = read_annotation(per_base.GENOME / "dm6.small.gtf")
    runs = Path(args.runs)
    runs.mkdir(parents=True, exist_ok=True)
    motifs = None
    if args.motif:
        seen = local.genome_windows(reference)
        motifs = {name: local.motif_model(name, seen)[0] for name in PAIRS}
    data: dict = {}
    for fold in args.folds:
        dataset_dir, bundle_dir = fold_run(fold, runs, reference, annotation, args)
        bundle, dataset = load_bundle(bundle_dir), open_per_base(dataset_dir)
        cpu = time.process_time()
        data[fold] = {split: runs_of(bundle, dataset, split) for split in ("valid", "test")}
        pairing = SitePairing.fit([(r["proba"], r["labels"]) for r in data[fold]["valid"]], classes=bundle.classes)
        data[fold]["refined"] = [pairing.refine(r["proba"]) for r in data[fold]["test"]]
        for site in PAIRS:
            for split in ("valid", "test"):
                data[fold][split, site] = table(data[fold][split], bundle.classes, site, motifs, reference)
        data[fold]["classes"] = bundle.classes
        print(f"fold {fold}: predicted, fitted and featurised in {time.process_time() - cpu:.0f} CPU-s", flush=True)
    report: dict = {"settings": {k: v for k, v in vars(args).items() if k != "json"}, "folds": {}}
    pairing_columns = slice(0, None if not motifs else -1)
    for fold in args.folds:
        row: dict = {}
        classes = data[fold]["classes"]
        for site in PAIRS:
            x, y = data[fold]["test", site]
            refined = np.concatenate([p[:, classes.index(site)] for p in data[fold]["refined"]])
            row[site] = {"stage1": figures(x[:, 0], y), "pairing (valid)": figures(refined, y)}
            others = [f for f in args.folds if f != fold]
            xv, yv = data[fold]["valid", site]
            if others:
                xo = np.concatenate([data[f]["test", site][0] for f in others])
                yo = np.concatenate([data[f]["test", site][1] for f in others])
                fitted = regression(xo[:, pairing_columns], yo)
                row[site]["pairing (oof)"] = figures(fitted.decision_function(x[:, pairing_columns]), y)
            if motifs:
                row[site]["+ motif (valid)"] = figures(regression(xv, yv).decision_function(x), y)
                if others:
                    row[site]["+ motif (oof)"] = figures(regression(xo, yo).decision_function(x), y)
        report["folds"][fold] = row
        print(f"fold {fold}: " + "; ".join(
            f"{site} " + ", ".join(f"{how} {v['topk']:.3f}/{v['auprc']:.3f}" for how, v in row[site].items())
            for site in PAIRS
        ), flush=True)  # fmt: skip
    summary = {}
    for site in PAIRS:
        for how in report["folds"][args.folds[0]][site]:
            rows = [report["folds"][f][site][how] for f in args.folds]
            summary[f"{site} {how}"] = {
                key: [round(float(np.mean([r[key] for r in rows])), 3), round(float(np.std([r[key] for r in rows])), 3)]
                for key in ("topk", "auprc")
            }
    report["summary"] = summary
    print("mean ± sd over the folds (top-k; AUPRC):")
    for name, value in summary.items():
        topk, auprc = value["topk"], value["auprc"]
        print(f"  {name:>24}: {topk[0]:.3f} ± {topk[1]:.3f}; {auprc[0]:.3f} ± {auprc[1]:.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
