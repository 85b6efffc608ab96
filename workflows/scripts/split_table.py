"""Split one labelled file into train.csv, valid.csv and test.csv (stratified by class).

Usage (also what the workflow's ``split_table`` rule runs)::

    python workflows/scripts/split_table.py data/uci_splice.csv --out results/data/uci \
        --valid 0.1 --test 0.1 --seed 0

The input is anything :func:`bioseq.io.tables.read_labelled` reads (a
``sequence,label`` CSV/TSV, labelled FASTA, a folder per class). Each output
is a ``name,sequence,label`` CSV written atomically
(:func:`bioseq.io.tables.write_table`), so a failed split leaves no file.
Binary and multi-class data are split stratified by class; multi-label data
at random. Sequences carry no coordinates here.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from bioseq.errors import BioseqError, InputError


def split_indices(labels: np.ndarray, *, valid: float, test: float, seed: int, stratify: bool):
    """Indices of train, valid and test; each class is spread over the splits in proportion."""
    from sklearn.model_selection import train_test_split

    everything = np.arange(len(labels))
    if round(len(labels) * test) < 1 or round(len(labels) * valid) < 1:
        raise InputError(f"{len(labels)} sequences are too few to give valid and test sequences",
                         fix="Give train/valid/test files instead, or raise the fractions")
    try:
        rest, test_idx = train_test_split(everything, test_size=test, random_state=seed,
                                          stratify=labels if stratify else None)
        train_idx, valid_idx = train_test_split(rest, test_size=valid / (1 - test), random_state=seed,
                                                stratify=labels[rest] if stratify else None)
    except ValueError as exc:  # e.g. a class with a single member cannot be stratified
        raise InputError(f"cannot split the sequences stratified by class ({exc})",
                         fix="Give train/valid/test files instead, or remove classes with one or two members") from None
    return np.sort(train_idx), np.sort(valid_idx), np.sort(test_idx)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input", help="labelled sequences (table, labelled FASTA, folder per class)")
    parser.add_argument("--out", required=True, help="directory for train.csv, valid.csv and test.csv")
    parser.add_argument("--valid", type=float, default=0.1, help="share of sequences for validation")
    parser.add_argument("--test", type=float, default=0.1, help="share of sequences for the test set")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sequence-column", default="sequence")
    parser.add_argument("--label-column", default="label")
    args = parser.parse_args(argv)
    try:
        split(args)
    except BioseqError as exc:
        print(f"split_table: error: {exc}", file=sys.stderr)
        return 1
    return 0


def split(args: argparse.Namespace) -> None:
    from bioseq.io.sniff import sniff_format
    from bioseq.io.tables import read_labelled, write_table

    for name in ("valid", "test"):
        value = getattr(args, name)
        if not 0 < value < 0.5:
            raise InputError(f"--{name} {value} is not a share between 0 and 0.5", fix="Write e.g. --valid 0.1")
    options = {}
    if Path(args.input).is_file() and sniff_format(args.input) == "table":
        options = {"sequence_column": args.sequence_column, "label_column": args.label_column}
    data = read_labelled(args.input, **options)
    parts = split_indices(np.asarray(data.labels), valid=args.valid, test=args.test, seed=args.seed,
                          stratify=data.task != "multilabel")
    for name, indices in zip(("train", "valid", "test"), parts):
        write_table(data.subset(indices), Path(args.out) / f"{name}.csv")
    counts = ", ".join(f"{name} {len(indices)}" for name, indices in zip(("train", "valid", "test"), parts))
    print(f"split_table: {args.input}: {counts} sequences in {args.out}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
