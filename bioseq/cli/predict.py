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

from bioseq.cli.flags import (
    add_inference_flags,
    add_model_argument,
    add_out_flag,
    add_reference_flag,
    inference_options,
)

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "predict",
        help="score FASTA, tables or BED intervals with a trained model",
        description=__doc__.split("\n\n")[1],
    )
    add_model_argument(parser)
    parser.add_argument("--input", required=True, help="FASTA, sequence table, or BED with --reference")
    add_out_flag(parser, help="predictions TSV (.gz compresses)")
    add_reference_flag(parser, help="genome FASTA or GenBank/EMBL for BED input")
    parser.add_argument("--length", type=int, help="window width for BED input (variable-width models only)")
    add_inference_flags(parser)
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from bioseq.predict import predict_file

    rows = predict_file(
        args.model,
        args.input,
        output=args.out,
        options=inference_options(args),
        reference=args.reference,
        length=args.length,
    )
    print(f"bioseq predict: {rows:,} predictions in {args.out}", file=sys.stderr)
    return 0
