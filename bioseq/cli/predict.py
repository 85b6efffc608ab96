"""``bioseq predict RUN --input X --out preds.tsv``: score new sequences with a trained model.

Input is FASTA, a table with a ``sequence`` column, or BED intervals with
``--reference genome.fa`` (intervals are resized around their centre to the
model's input width, strand-aware; windows past contig ends are N-padded).
The TSV has the name (or chrom, start, end, strand; 0-based half-open), a
probability column per class and the predicted class.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_parser", "run", "add_device_flags", "add_threshold_flag"]


def add_device_flags(parser: argparse.ArgumentParser) -> None:
    """Flags shared by the commands that run a model."""
    parser.add_argument("--batch-size", type=int, default=256, help="sequences per batch (default 256)")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1, mps (default: cuda if available)")
    parser.add_argument("--rc-average", action="store_true",
                        help="average the prediction with that of the reverse complement")


def add_threshold_flag(parser: argparse.ArgumentParser) -> None:
    """``--threshold``: the probability above which a binary or multi-label model predicts a class."""
    parser.add_argument("--threshold", type=float, default=0.5,
                        help="predict a class when its probability is above this (binary and multi-label; "
                             "default 0.5)")


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "predict", help="score FASTA, tables or BED intervals with a trained model",
        description=__doc__.split("\n\n")[1],
    )
    parser.add_argument("model", metavar="RUN", help="training run or bundle directory")
    parser.add_argument("--input", required=True, help="FASTA, sequence table, or BED with --reference")
    parser.add_argument("--out", required=True, help="predictions TSV (.gz compresses)")
    parser.add_argument("--reference", help="genome FASTA for BED input")
    parser.add_argument("--length", type=int, help="window width for BED input (variable-width models only)")
    add_threshold_flag(parser)
    add_device_flags(parser)
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from bioseq.predict import predict_file

    rows = predict_file(args.model, args.input, output=args.out, batch_size=args.batch_size,
                        device=args.device, rc_average=args.rc_average, reference=args.reference,
                        length=args.length, threshold=args.threshold)
    print(f"bioseq predict: {rows:,} predictions in {args.out}", file=sys.stderr)
    return 0
