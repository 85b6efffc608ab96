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

from bioseq.cli.flags import add_column_flags, add_fractions_flag, add_out_flag, add_seed_flag

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "split",
        help="split labelled sequences into train/valid/test tables (stratified, deduplicated)",
        description=__doc__.split("\n\n")[1],
    )
    parser.add_argument("input", help="labelled sequences: CSV/TSV table, labelled FASTA or a folder per class")
    add_out_flag(parser, help="output folder for the tables and summary.json")
    add_fractions_flag(parser, help="shares of the splits")
    add_seed_flag(parser)
    add_column_flags(parser)
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
