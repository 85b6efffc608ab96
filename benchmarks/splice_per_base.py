"""Base-resolution splice models on dm6: held-out chromosome, gene-disjoint folds, and variant effects.

Usage::

    python benchmarks/splice_per_base.py                      # chr2L -> chr2R, variants, 5 folds
    python benchmarks/splice_per_base.py --folds 0            # skip the cross-validation
    python benchmarks/splice_per_base.py --fixture DIR        # also keep the chr2R model's bundle in DIR

Data: ``../shared/data/genomes/dm6_small`` (chr2L and chr2R, 1 Mb each, FlyBase
GTF). Everything goes through bioseq's API as the commands call it:

1. ``build_per_base`` (``bioseq dataset splice-sites --per-base``): trained on
   chr2L (validation: a gene-disjoint tenth of its loci), tested on every
   position of the chr2R genes, each on its own strand.
2. ``train`` (``bioseq train --train DS``): the per-base defaults (the dilated
   CNN, balanced class weights, monitor AUPRC), ``--epochs`` epochs; the CPU
   time of training is measured (process time, all threads).
3. Top-k accuracy (k = true sites) and AUPRC per class on the test split, also
   after the site pairing ``bioseq train`` fits on the validation genes
   (``paired_...``; :mod:`bioseq.models.site_pairing`), and the expected
   calibration error before and after temperature scaling.
4. Variant effects: ``splice_variants`` on chr2R (GT/AG-destroying SNVs,
   deletions and insertions at annotated sites; SNVs 10-30 bp from a site that
   keep it; intergenic SNVs), scored without annotation (both strands,
   ``score_variants``); AUROC of the maximum delta score for destroying vs
   intergenic, and for destroying SNVs vs near, site-keeping SNVs.
5. ``--folds K``: gene-disjoint K-fold cross-validation over both contigs
   (``--folds K --fold i`` datasets), mean and spread of top-k and AUPRC.
6. ``--hard F`` (F > 0): hard-negative mining. The chr2L model of step 2
   mines its false sites on chr2L (``bioseq dataset splice-sites --per-base
   --hard-negatives RUN --hard F``), a second model is trained from scratch
   on that dataset, and steps 3-4 are repeated for it; the CPU minutes
   reported are both trainings plus the mining. With ``--folds``, each fold
   is mined and retrained the same way.

Targets (issue 19): top-k >= 0.70 and AUPRC >= 0.75 per class; variant AUROC >= 0.98.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from bioseq.bundle import load_bundle
from bioseq.datasets.per_base import PerBaseOptions, build_per_base
from bioseq.io.gff import read_annotation
from bioseq.io.reference import Reference
from bioseq.io.variants import read_variants
from bioseq.simulate.variants import DISRUPTING, splice_variants, write_vcf
from bioseq.train.config import TrainConfig
from bioseq.train.fit import train
from bioseq.variants.score import score_variants

GENOME = Path(__file__).resolve().parents[2] / "shared" / "data" / "genomes" / "dm6_small"


def mined(reference, annotation, options, model: Path, out: Path, args) -> tuple[dict, float]:
    """The dataset of ``options`` with ``args.hard`` hard-negative windows per site window mined by ``model``."""
    cpu = time.process_time()
    options = dataclasses.replace(options, hard=args.hard)
    meta = build_per_base(reference, annotation, out, options=options, miner=load_bundle(model))
    return meta["sampling"]["hard"], (time.process_time() - cpu) / 60


def train_twice(reference, annotation, options, work: Path, name: str, args) -> tuple[dict, dict, Path]:
    """Train on ``options``' dataset, and (``--hard``) again on the one mined by that model; figures of each."""
    build_per_base(reference, annotation, work / f"{name}-ds", options=options)
    metrics, minutes, bundle_dir = run(work / f"{name}-ds", work / f"{name}-run", args)
    first = {"metrics": metrics, "minutes": minutes, "bundle": bundle_dir}
    if not args.hard:
        return first, first, bundle_dir
    hard, mining = mined(reference, annotation, options, bundle_dir, work / f"{name}-hard-ds", args)
    metrics, again, bundle_dir = run(work / f"{name}-hard-ds", work / f"{name}-hard-run", args)
    second = {"metrics": metrics, "minutes": minutes + mining + again, "bundle": bundle_dir, "mining": hard}
    second["mining_cpu_minutes"] = mining
    return first, second, bundle_dir


def run(dataset: Path, out: Path, args) -> tuple[dict, float, Path]:
    options = {"context": args.context, "channels": args.channels}
    config = TrainConfig(
        train=dataset, out=out, epochs=args.epochs, seed=args.seed, model=args.model, model_options=options
    )
    cpu = time.process_time()
    result = train(config)
    return result.metrics, (time.process_time() - cpu) / 60, result.bundle_dir


def figures(metrics: dict) -> dict:
    """Top-k and AUPRC per class on a run's test split, and after its site pairing (``paired_...``) when fitted."""
    out = {}
    for prefix, record in (("", metrics["test"]), ("paired_", metrics.get("site_pairing", {}).get("test"))):
        if record is not None:
            per_class = record["per_class"]
            out |= {f"{prefix}{c}_{key}": per_class[c][key] for c in per_class for key in ("topk_accuracy", "auprc")}
    return out


def variant_auroc(bundle_dir: Path, reference: Reference, annotation, work: Path, seed: int) -> dict:
    variants = splice_variants(reference, annotation, contigs=["chr2R"], seed=seed)
    vcf = work / "variants.vcf"
    written = write_vcf(variants, vcf, reference=reference)
    category = {(v.chrom, v.start, v.ref, v.alt): v.category for v in written}
    bundle = load_bundle(bundle_dir)
    scores: dict[str, list[float]] = {}
    for result in score_variants(bundle, read_variants(vcf, reference=reference), reference):
        v = result.variant
        scores.setdefault(category[(v.chrom, v.start, v.ref, v.alt)], []).append(result.maximum)
    destroying = [s for c in DISRUPTING for s in scores.get(c, [])]
    snv = scores.get("donor_disrupting", []) + scores.get("acceptor_disrupting", [])

    def auroc(positive, negative):
        y = [1] * len(positive) + [0] * len(negative)
        return float(roc_auc_score(y, positive + negative))

    return {
        "n": {c: len(s) for c, s in scores.items()},
        "median_max_delta": {c: float(np.median(s)) for c, s in scores.items()},
        "auroc_destroying_vs_intergenic": auroc(destroying, scores["intergenic"]),
        "auroc_destroying_snv_vs_near_keeping": auroc(snv, scores["near_preserving"]),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--model", default="per_base_cnn")
    parser.add_argument("--context", type=int, default=400)
    parser.add_argument("--channels", type=int, default=32)
    parser.add_argument("--window", type=int, default=400)
    parser.add_argument("--folds", type=int, default=5, help="gene-disjoint folds over both contigs (0: none)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hard", type=float, default=0.0, help="hard-negative windows per site window (0: none)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--fixture", help="copy the chr2L-trained bundle here")
    parser.add_argument("--json", help="write every figure to this JSON file")
    args = parser.parse_args(argv)
    if not (GENOME / "dm6.small.fa").is_file():
        print(f"skipped: {GENOME} is absent", file=sys.stderr)
        return 0
    if args.model != "per_base_cnn":
        args.channels = None
    torch.set_num_threads(args.threads)
    reference = Reference(GENOME / "dm6.small.fa")
    annotation = read_annotation(GENOME / "dm6.small.gtf")
    report: dict = {"settings": vars(args)}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        options = PerBaseOptions(window=args.window, context=args.context, test_chroms=("chr2R",), seed=args.seed)
        first, last, bundle_dir = train_twice(reference, annotation, options, work, "chr2R", args)
        metrics = last["metrics"]
        report["chr2R"] = {**figures(metrics), "train_cpu_minutes": last["minutes"]}
        if args.hard:
            report["chr2R_before_mining"] = {**figures(first["metrics"]), "train_cpu_minutes": first["minutes"]}
            report["mining"] = {**last["mining"], "cpu_minutes": last["mining_cpu_minutes"]}
            print(f"chr2L -> chr2R before mining: {json.dumps(report['chr2R_before_mining'], indent=1)}")
            print(f"mining: {json.dumps(report['mining'], indent=1)}")
        report["calibration"] = {
            "temperature": metrics["calibration"]["temperature"],
            **{
                f"{when}_{key}": metrics["calibration"]["test"][when][key]
                for when in ("before", "after")
                for key in ("ece", "classwise_ece")
            },
        }
        print(f"chr2L -> chr2R: {json.dumps(report['chr2R'], indent=1)}")
        print(f"calibration: {json.dumps(report['calibration'], indent=1)}")
        report["variants"] = variant_auroc(bundle_dir, reference, annotation, work, args.seed)
        print(f"variants (chr2R, no annotation): {json.dumps(report['variants'], indent=1)}")
        if args.fixture:
            shutil.rmtree(args.fixture, ignore_errors=True)
            shutil.copytree(bundle_dir, args.fixture)
        folds = []
        for fold in range(args.folds):
            options = PerBaseOptions(window=args.window, context=args.context, folds=args.folds, fold=fold)
            _, last, _ = train_twice(reference, annotation, options, work, f"fold{fold}", args)
            folds.append({**figures(last["metrics"]), "train_cpu_minutes": last["minutes"]})
            print(f"fold {fold}: {folds[-1]}", flush=True)
        if folds:
            report["folds"] = {
                key: {"mean": float(np.mean([f[key] for f in folds])), "sd": float(np.std([f[key] for f in folds]))}
                for key in folds[0]
            }
            print(f"{args.folds}-fold CV: {json.dumps(report['folds'], indent=1)}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
