"""How far the splice motif alone goes: a 42-bp model trained on 19,730 fly sites, top-k over held-out dm6 genes.

Usage::

    python benchmarks/splice_local_baseline.py                   # fold 0 of 5 on dm6_small
    python benchmarks/splice_local_baseline.py --fold 2 --bundle RUN   # and a per-position model on the same bases

The motif model: logistic regression on the one-hot bases and adjacent base
pairs (a weight-array model, like splice42's WAM1) of the 42-bp windows of
KorfLab splice42 (``../shared/data/splice/splice42``, D. melanogaster: true
donors and acceptors against its four GT/AG decoy sets), with every window
whose 42 bases occur in dm6_small (either strand) left out, so that no test
site is seen. It scores every GT (donor) or AG (acceptor) of the test split of
``bioseq dataset splice-sites --per-base --folds 5 --fold F`` (every base of the
held-out genes on their strand); other bases score lowest. Top-k accuracy (k =
true sites) is what ``bioseq train`` reports for a per-position model on the
same split, so the two compare directly; ``--bundle`` prints the model's
top-k on the same bases (it must have been trained on that fold's dataset).

The figures say how much of a per-position model's accuracy the local motif
explains with some 55 times the sites that the fold's training genes give.
"""

from __future__ import annotations

import argparse
import gzip
import sys
import tempfile
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from bioseq.alphabet import COMPLEMENT, A, G, T
from bioseq.datasets.per_base import PerBaseOptions, build_per_base
from bioseq.io.gff import read_annotation
from bioseq.io.reference import Reference

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
GENOME = SHARED / "genomes" / "dm6_small"
SPLICE42 = SHARED / "splice" / "splice42"
WIDTH = 42
SITE = {"donor": 20, "acceptor": 21}  # index of the labelled G in a splice42 window (GT at 20-21, AG at 20-21)
FILES = {"donor": "don", "acceptor": "acc"}


def read_windows(path: Path) -> np.ndarray:
    """``(N, 42)`` uint8 codes (A C G T = 0..3, else 4) of a gzipped splice42 FASTA."""
    lookup = np.full(256, 4, np.uint8)
    for code, letter in enumerate("ACGT"):
        lookup[ord(letter)] = lookup[ord(letter.lower())] = code
    with gzip.open(path, "rt") as handle:
        rows = [line.strip() for line in handle if not line.startswith(">")]
    rows = [r for r in rows if len(r) == WIDTH]
    return lookup[np.frombuffer("".join(rows).encode(), np.uint8)].reshape(len(rows), WIDTH)


def genome_windows(reference: Reference) -> set[bytes]:
    """Every 42-base window of the genome, both strands, as bytes of codes."""
    seen: set[bytes] = set()
    for contig in reference.references:
        codes = np.minimum(reference.fetch_codes(contig), 4).astype(np.uint8)  # 4: any base but A, C, G, T
        for strand in (codes, COMPLEMENT[codes[::-1]]):
            view = np.lib.stride_tricks.sliding_window_view(strand, WIDTH)
            seen.update(row.tobytes() for row in view)
    return seen


def features(windows: np.ndarray) -> np.ndarray:
    """One-hot bases (5 per position) and adjacent pairs (25 per pair): ``(N, 42 * 5 + 41 * 25)`` float32."""
    n = windows.shape[0]
    single = np.zeros((n, WIDTH, 5), np.float32)
    single[np.arange(n)[:, None], np.arange(WIDTH), windows] = 1
    pairs = np.zeros((n, WIDTH - 1, 25), np.float32)
    pairs[np.arange(n)[:, None], np.arange(WIDTH - 1), windows[:, :-1] * 5 + windows[:, 1:]] = 1
    return np.concatenate([single.reshape(n, -1), pairs.reshape(n, -1)], axis=1)


def motif_model(site: str, seen: set[bytes]) -> tuple[LogisticRegression, dict]:
    """The logistic motif model of one site class, and how many windows it saw and left out."""
    true = read_windows(SPLICE42 / f"dm.{FILES[site]}.fa.gz")
    decoys = np.concatenate([read_windows(SPLICE42 / f"dm.n{i}{FILES[site]}.fa.gz") for i in (1, 2, 3, 4)])
    keep = [np.array([row.tobytes() not in seen for row in part], bool) for part in (true, decoys)]
    true, decoys = true[keep[0]], decoys[keep[1]]
    x = features(np.concatenate([true, decoys]))
    y = np.r_[np.ones(len(true)), np.zeros(len(decoys))]
    model = LogisticRegression(C=0.1, max_iter=300, class_weight="balanced").fit(x, y)
    return model, {"sites": len(true), "decoys": len(decoys), "left_out": int(sum((~k).sum() for k in keep))}


def motif_scores(model, codes: np.ndarray, flank: int, width: int, site: str) -> np.ndarray:
    """Scores ``(N, width)`` of every labelled base of per-base test inputs: the model's at GT/AG, -inf elsewhere."""
    at = SITE[site]
    positions = flank + np.arange(width)
    pair = (
        (codes[:, positions], codes[:, positions + 1])
        if site == "donor"
        else (codes[:, positions - 1], codes[:, positions])
    )
    motif = (pair[0] == G) & (pair[1] == T) if site == "donor" else (pair[0] == A) & (pair[1] == G)
    rows, cols = np.nonzero(motif)
    starts = flank + cols - at
    inside = (starts >= 0) & (starts + WIDTH <= codes.shape[1])
    rows, cols, starts = rows[inside], cols[inside], starts[inside]
    windows = np.minimum(codes[rows[:, None], starts[:, None] + np.arange(WIDTH)], 4)
    scores = np.full((codes.shape[0], width), -np.inf)
    scores[rows, cols] = model.decision_function(features(windows))
    return scores


def topk(scores: np.ndarray, hit: np.ndarray) -> float:
    """Share of the k best-scored bases that are sites, k = the number of sites."""
    k = int(hit.sum())
    best = np.argsort(-scores.ravel(), kind="stable")[:k]
    return float(hit.ravel()[best].mean()) if k else float("nan")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fold", type=int, default=0)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--bundle", help="a per-position run trained on the same fold, scored on the same bases")
    args = parser.parse_args(argv)
    if not (GENOME / "dm6.small.fa").is_file() or not SPLICE42.is_dir():
        print(f"skipped: {GENOME} or {SPLICE42} is absent", file=sys.stderr)
        return 0
    reference = Reference(GENOME / "dm6.small.fa")
    annotation = read_annotation(GENOME / "dm6.small.gtf")
    seen = genome_windows(reference)
    with tempfile.TemporaryDirectory() as tmp:
        options = PerBaseOptions(folds=args.folds, fold=args.fold)
        build_per_base(reference, annotation, Path(tmp) / "ds", options=options)
        codes = np.load(Path(tmp) / "ds" / "test.codes.npy")
        labels = np.load(Path(tmp) / "ds" / "test.labels.npy")
    flank, width = (codes.shape[1] - labels.shape[1]) // 2, labels.shape[1]
    proba = None
    if args.bundle:
        from bioseq.bundle import as_bundle

        bundle = as_bundle(args.bundle, per_position=True)
        proba = bundle.predict_proba(codes[:, flank - bundle.flank : codes.shape[1] - flank + bundle.flank])
    print(f"fold {args.fold} of {args.folds}: {codes.shape[0]} test windows of {width} bases")
    for value, site in ((1, "acceptor"), (2, "donor")):
        model, counts = motif_model(site, seen)
        hit = labels == value
        motif = topk(motif_scores(model, codes, flank, width, site), hit)
        line = f"{site:>8}: k = {int(hit.sum())}, motif model top-k {motif:.3f} (trained on {counts['sites']:,} "
        line += f"sites and {counts['decoys']:,} decoys; {counts['left_out']} in dm6_small left out)"
        if proba is not None:
            line += f"; per-position model top-k {topk(proba[..., value], hit):.3f}"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
