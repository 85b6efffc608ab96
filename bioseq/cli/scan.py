"""``bioseq scan RUN --reference genome.fa --out track.bw``: score windows along a genome.

Windows of the model's input width slide by ``--step`` bases over every
contig (or the ``--regions`` BED); each window's score is written to the
``step``-bp bin at its centre, as bigWig (``.bw``/``.bigwig``) or bedGraph.
Memory stays bounded: windows are scored one block at a time.
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
        "scan",
        help="scan a genome with a trained model into a bigWig/bedGraph track",
        description=__doc__.split("\n\n")[1],
    )
    add_model_argument(parser)
    add_reference_flag(parser, help="genome FASTA (plain or bgzip) or GenBank/EMBL", required=True)
    add_out_flag(parser, help="track file: .bw/.bigwig or .bedgraph/.bg")
    parser.add_argument("--regions", help="BED of regions to scan (default: every contig)")
    parser.add_argument("--chroms", nargs="+", help="contigs to scan (default: all)")
    parser.add_argument("--step", type=int, help="bases between window starts (default: half the width)")
    parser.add_argument("--class", dest="class_name", help="class whose probability to write (multi-class)")
    parser.add_argument("--format", choices=("bigwig", "bedgraph"), help="default from the file extension")
    add_inference_flags(parser, threshold=False)
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from bioseq.scan import scan_genome

    fmt = args.format or ("bedgraph" if args.out.endswith((".bedgraph", ".bg", ".bedGraph")) else "bigwig")
    result = scan_genome(
        args.model,
        args.reference,
        output=args.out,
        step=args.step,
        regions=args.regions,
        chroms=args.chroms,
        options=inference_options(args),
        class_name=args.class_name,
        format=fmt,
    )
    print(f"bioseq scan: {result:,} bins in {args.out}", file=sys.stderr)
    return 0
