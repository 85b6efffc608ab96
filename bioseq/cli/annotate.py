"""``bioseq annotate RUN --reference genome.fa --out DIR``: base-resolution tracks of a genome.

A per-position model predicts every base of every contig (or of the
``--regions`` BED) on both strands; DIR receives one bigWig per class and
strand (``donor.plus.bw``, ``donor.minus.bw``, ...; not the background
class), ``sites.bed`` with the bases whose probability reaches
``--threshold``, and ``summary.json`` (time, bases per second, sites,
memory). Memory stays bounded: the genome is predicted one block at a time.
DIR appears only when complete. Finished pieces of --piece bases are kept in
DIR.parts until then, so a killed job run again predicts only what is missing.
A splice model trained on a per-base dataset carries a second stage that
rescores sites by their exon and intron partners; its tracks are written
unless --no-pairing is given.
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
from bioseq.tracks import DEFAULT_CHUNK, DEFAULT_PIECE

__all__ = ["add_parser", "run"]

_STRANDS = {"both": ("+", "-"), "+": ("+",), "-": ("-",)}


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "annotate",
        help="base-resolution bigWig tracks and called sites of a genome (per-position models)",
        description=__doc__.split("\n\n")[1],
    )
    add_model_argument(parser)
    add_reference_flag(parser, help="genome FASTA (plain or bgzip) or GenBank/EMBL", required=True)
    add_out_flag(parser, help="output folder (bigWigs, sites.bed, summary.json)", metavar="DIR")
    parser.add_argument("--regions", help="BED of regions to predict (default: every contig)")
    parser.add_argument(
        "--threshold",
        type=float,
        default=0.5,
        help="call a site where a class probability is at least this (default 0.5)",
    )
    parser.add_argument("--strands", choices=tuple(_STRANDS), default="both", help="strands to predict (default both)")
    parser.add_argument(
        "--chunk", type=int, default=DEFAULT_CHUNK, help=f"positions per model input (default {DEFAULT_CHUNK})"
    )
    parser.add_argument(
        "--piece",
        type=int,
        default=DEFAULT_PIECE,
        help=f"bases per stored piece: a killed run resumes from the last piece (default {DEFAULT_PIECE})",
    )
    parser.add_argument(
        "--pairing",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="rescore sites with the model's site-pairing second stage when it has one (default); --no-pairing "
        "writes the model's own probabilities",
    )
    add_inference_flags(parser, threshold=False)
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from bioseq.annotate import annotate

    summary = annotate(
        args.model,
        args.reference,
        args.out,
        regions=args.regions,
        strands=_STRANDS[args.strands],
        threshold=args.threshold,
        options=inference_options(args),
        chunk=args.chunk,
        piece=args.piece,
        pairing=args.pairing,
    )
    sites = sum(n for per_strand in summary["sites"].values() for n in per_strand.values())
    print(
        f"bioseq annotate: {summary['bases_predicted']:,} positions in {summary['seconds']:.1f} s "
        f"({summary['bases_per_second'] or 0:,.0f}/s), {sites:,} sites; tracks in {args.out}",
        file=sys.stderr,
    )
    return 0
