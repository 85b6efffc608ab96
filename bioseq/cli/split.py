"""``bioseq split``: one labelled file into train/valid/test tables.

Splits labelled sequences (a sequence,label table, labelled FASTA or a folder
per class) at random, stratified by class, removes exact duplicate sequences
across the splits (a valid or test sequence already in an earlier split is
dropped), and writes train.csv, valid.csv, test.csv (columns
name,sequence,label) and summary.json into --out, each file atomically and
summary.json last. For genome windows, split by chromosome with bioseq
dataset instead.
"""

from __future__ import annotations

import argparse
import os
import sys

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "split", help="split labelled sequences into train/valid/test tables (stratified, deduplicated)",
        description=__doc__.split("\n\n")[1],
    )
    parser.add_argument("input", help="labelled sequences: CSV/TSV table, labelled FASTA or a folder per class")
    parser.add_argument("--out", required=True, help="output folder for the tables and summary.json")
    parser.add_argument("--fractions", nargs=3, type=float, default=(0.8, 0.1, 0.1),
                        metavar=("TRAIN", "VALID", "TEST"), help="shares of the splits (default 0.8 0.1 0.1)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--sequence-column", default="sequence", help="table column of the sequences")
    parser.add_argument("--label-column", default="label", help="table column of the labels")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from bioseq.datasets.splits import split_stratified, write_split
    from bioseq.io.tables import read_labelled

    columns = {"sequence_column": args.sequence_column, "label_column": args.label_column}
    examples = read_labelled(args.input, table_options=columns)
    splits, summary = split_stratified(examples, fractions=args.fractions, seed=args.seed)
    write_split(args.out, splits, {"inputs": {"labelled": os.path.abspath(args.input)}, **summary})
    counts = ", ".join(f"{split} {len(data):,}" for split, data in splits.items())
    print(f"bioseq split: {len(examples):,} sequences of {args.input}; {counts} in {args.out}", file=sys.stderr)
    return 0
